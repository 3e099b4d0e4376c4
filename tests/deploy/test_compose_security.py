"""docker-compose.yml: the console trusts X-Forwarded-For from nginx only, and nginx serves HTTPS with
certificates from a mounted folder (issue 11, items 4 and 5), written before the fix."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_console_trusts_forwarded_headers_from_nginx_only(compose: dict[str, Any]) -> None:
    services = compose["services"]
    trusted = str(services["console"]["environment"]["FORWARDED_ALLOW_IPS"])
    assert "*" not in trusted
    nginx_address = services["nginx"]["networks"]["edge"]["ipv4_address"]
    assert trusted == nginx_address
    subnet = compose["networks"]["edge"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(nginx_address) in ipaddress.ip_network(subnet)


def test_nginx_overwrites_the_forwarded_headers() -> None:
    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    assert "$proxy_add_x_forwarded_for" not in conf  # appending keeps what the client wrote
    assert re.search(r"proxy_set_header X-Forwarded-For \$remote_addr;", conf)
    assert re.search(r"proxy_set_header X-Real-IP \$remote_addr;", conf)


def test_nginx_publishes_https_with_mounted_certificates(compose: dict[str, Any]) -> None:
    nginx = compose["services"]["nginx"]
    assert any(str(p).endswith(":443") for p in nginx["ports"]) and any(str(p).endswith(":80") for p in nginx["ports"])
    assert any(str(v).startswith("./deploy/nginx/certs:/etc/nginx/certs") and str(v).endswith(":ro")
               for v in nginx["volumes"])
    assert compose["services"]["console"]["environment"]["CONSOLE_SECURE_COOKIES"] == "${CONSOLE_SECURE_COOKIES:-true}"
    conf = (ROOT / "deploy" / "nginx" / "nginx.conf").read_text()
    assert "/etc/nginx/certs/fullchain.pem" in conf and "/etc/nginx/certs/privkey.pem" in conf
    # the private key never enters the repository
    ignored = (ROOT / "deploy" / "nginx" / "certs" / ".gitignore").read_text()
    assert "*.pem" in ignored
