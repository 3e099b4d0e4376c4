"""deploy/nginx/nginx.conf served by a real nginx on loopback with a self-signed certificate (issue 11,
items 4 and 5), written before the fix: HTTP redirects to HTTPS, HTTPS answers with HSTS, and the
upstream sees the client's real address, never one the client wrote into X-Forwarded-For.

The file itself is used, with only what loopback needs changed (ports, certificate folder, upstream
addresses, pid and temp paths). Needs Debian's nginx and openssl (scripts/system_deps.sh).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devtools.stack import nginx_binary

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "nginx.conf"
HOST = "127.0.0.1"
pytestmark = pytest.mark.skipif(nginx_binary() is None or shutil.which("openssl") is None,
                                reason="nginx and openssl are needed (scripts/system_deps.sh)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class _Echo(BaseHTTPRequestHandler):
    """The upstream: answers with the headers it received (as nginx passed them on)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def loopback_conf(directory: Path, http_port: int, https_port: int, upstream_port: int) -> str:
    conf = CONF.read_text(encoding="utf-8")
    conf = re.sub(r"listen\s+80\s*;", f"listen {HOST}:{http_port};", conf)
    conf = re.sub(r"listen\s+443\s+ssl\s*;", f"listen {HOST}:{https_port} ssl;", conf)
    conf = conf.replace("/etc/nginx/certs/", f"{directory}/certs/")
    conf = re.sub(r"server\s+(rasa|console):\d+", f"server {HOST}:{upstream_port}", conf)
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = f"daemon off;\npid {directory}/nginx.pid;\nerror_log {directory}/error.log warn;\n{user}" + conf
    temp = "".join(f"  {kind}_temp_path {directory}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return conf.replace("http {\n", f"http {{\n  access_log {directory}/access.log;\n{temp}", 1)


@pytest.fixture(scope="module")
def tls_nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    directory = tmp_path_factory.mktemp("nginx")
    certs = directory / "certs"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", f"subjectAltName=IP:{HOST},DNS:localhost",
                    "-keyout", str(certs / "privkey.pem"), "-out", str(certs / "fullchain.pem")],
                   check=True, capture_output=True)
    upstream = ThreadingHTTPServer((HOST, 0), _Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    http_port, https_port = _free_port(), _free_port()
    (directory / "nginx.conf").write_text(loopback_conf(directory, http_port, https_port,
                                                        upstream.server_address[1]))
    binary = nginx_binary()
    assert binary is not None
    test = subprocess.run([binary, "-t", "-p", str(directory), "-c", str(directory / "nginx.conf")],
                          capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    process = subprocess.Popen([binary, "-p", str(directory), "-c", str(directory / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, https_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield {"http": http_port, "https": https_port, "cafile": str(certs / "fullchain.pem")}
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()


def _https(nginx: dict[str, object], path: str, headers: dict[str, str] | None = None) -> http.client.HTTPResponse:
    context = ssl.create_default_context(cafile=str(nginx["cafile"]))
    connection = http.client.HTTPSConnection(HOST, int(nginx["https"]), context=context, timeout=10)  # type: ignore[call-overload]
    connection.request("GET", path, headers=headers or {})
    return connection.getresponse()


def test_plain_http_redirects_to_https(tls_nginx: dict[str, object]) -> None:
    connection = http.client.HTTPConnection(HOST, int(tls_nginx["http"]), timeout=10)  # type: ignore[call-overload]
    connection.request("GET", "/login?next=/handoffs/1")
    response = connection.getresponse()
    assert response.status == 301
    location = response.getheader("Location") or ""
    assert location.startswith("https://") and location.endswith("/login?next=/handoffs/1")


def test_the_health_check_answers_on_plain_http(tls_nginx: dict[str, object]) -> None:
    connection = http.client.HTTPConnection(HOST, int(tls_nginx["http"]), timeout=10)  # type: ignore[call-overload]
    connection.request("GET", "/nginx-health")
    assert connection.getresponse().status == 200


def test_https_answers_with_hsts_and_a_modern_protocol(tls_nginx: dict[str, object]) -> None:
    response = _https(tls_nginx, "/health")
    assert response.status == 200
    hsts = response.getheader("Strict-Transport-Security") or ""
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31_536_000  # type: ignore[union-attr]
    context = ssl.create_default_context(cafile=str(tls_nginx["cafile"]))
    with socket.create_connection((HOST, int(tls_nginx["https"])), timeout=10) as raw:  # type: ignore[call-overload]
        with context.wrap_socket(raw, server_hostname=HOST) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("path", ["/api/queue", "/webhooks/rest/webhook", "/webhooks/wechat/webhook", "/chat/ws"])
def test_the_upstream_sees_the_real_client_address(tls_nginx: dict[str, object], path: str) -> None:
    response = _https(tls_nginx, path, {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"})
    seen = json.loads(response.read())
    assert seen["x-forwarded-for"] == HOST and seen["x-real-ip"] == HOST
    assert seen["x-forwarded-proto"] == "https"


def test_the_webhooks_are_served_over_https_too(tls_nginx: dict[str, object]) -> None:
    assert _https(tls_nginx, "/webhooks/rest/").status == 200
