"""Settings: each declared once; the README table generated from the declarations."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import pytest

from common.settings import ROOT, Settings, SettingsError, declarations

_SECRETS = {"PII_HASH_SALT": "s", "PII_VAULT_KEY": "v", "WIDGET_TOKEN_SECRET": "w",
            "RASA_AUTH_TOKEN": "r", "ACTION_SERVER_TOKEN": "a"}


def _table_module():
    spec = importlib.util.spec_from_file_location("settings_table", ROOT / "scripts" / "settings_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_field_is_declared_with_its_variable_and_a_meaning():
    names = [f.name for f in dataclasses.fields(Settings)]
    envs = [row[0] for row in declarations()]
    assert len(envs) == len(set(envs)) == len(names)
    for field, (env, _kind, _default, doc) in zip(dataclasses.fields(Settings), declarations()):
        assert env == field.name.upper() or (field.name, env) == ("rasa_token", "RASA_AUTH_TOKEN")
        assert doc.strip()


def test_an_empty_environment_gives_the_declared_defaults():
    assert Settings.from_env({}) == Settings()
    assert Settings().console_port == 8000 and Settings().seed_demo_data is True
    assert Settings().segments_file == ROOT / "profiles" / "segments.yml"


def test_values_are_parsed_by_their_declared_type():
    s = Settings.from_env({"CONSOLE_PORT": "9001", "SEED_DEMO_DATA": "off", "OUTBOX_DIR": "/tmp/o",
                           "REDIS_URL": "redis://x", "LOG_LEVEL": ""})
    assert s.console_port == 9001 and s.seed_demo_data is False
    assert s.outbox_dir == Path("/tmp/o") and s.redis_url == "redis://x" and s.log_level == "INFO"


@pytest.mark.parametrize("env", [{"CONSOLE_PORT": "eighty"}, {"SEED_DEMO_DATA": "maybe"}])
def test_unusable_values_refuse(env):
    with pytest.raises(SettingsError, match=next(iter(env))):
        Settings.from_env(env)


def test_derived_defaults():
    s = Settings.from_env({"RASA_PORT": "6100", "TRACKER_DB": "var/t.db", "RASA_TOKEN": "old-name",
                           "WECHAT_AES_KEY": "k" * 43, "WECHAT_APP_ID": "id"})
    assert s.rasa_url == "http://127.0.0.1:6100"
    assert s.tracker_db_url == f"sqlite:///{Path('var/t.db').resolve()}"
    assert s.rasa_token == "old-name" and s.wechat_mode == "safe"
    explicit = Settings.from_env({"RASA_URL": "http://r", "RASA_AUTH_TOKEN": "new", "RASA_TOKEN": "old",
                                  "WECHAT_MODE": "plain", "WECHAT_AES_KEY": "k"})
    assert (explicit.rasa_url, explicit.rasa_token, explicit.wechat_mode) == ("http://r", "new", "plain")
    assert Settings.from_env({"TONE_EXPERIMENT": ""}).tone_experiment == ""


def test_environment_must_be_known_and_production_refuses_demo_secrets():
    with pytest.raises(SettingsError, match="ENVIRONMENT"):
        Settings.from_env({"ENVIRONMENT": "prod"})
    for name in ("PII_HASH_SALT", "PII_VAULT_KEY", "WIDGET_TOKEN_SECRET", "RASA_AUTH_TOKEN"):
        env = {**_SECRETS, "ENVIRONMENT": "production"}
        del env[name]
        with pytest.raises(SettingsError, match=name):
            Settings.from_env(env)
    prod = Settings.from_env({**_SECRETS, "ENVIRONMENT": "staging"})
    assert prod.is_production and not prod.is_development and prod.console_secure_cookies
    dev = Settings.from_env({})
    assert dev.is_development and not dev.is_production and not dev.console_secure_cookies


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().console_port = 1  # type: ignore[misc]


def test_readme_table_is_the_class():
    module = _table_module()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert module.readme_block(readme) == module.block(), "run: python scripts/settings_table.py --write"
    for env, *_ in declarations():
        assert re.search(rf"^\| `{env}` \|", readme, re.M)


def test_readme_check_notices_a_change(tmp_path):
    module = _table_module()
    copy = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    copy.write_text(text.replace("| `CONSOLE_PORT` | int | 8000 |", "| `CONSOLE_PORT` | int | 8080 |"), "utf-8")
    assert module.write(copy) is True
    assert copy.read_text(encoding="utf-8") == text


_PACKAGES = ("common", "bot", "actions", "desk", "profiles", "sentiment", "wechat", "widget")


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for package in _PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "common" / "settings.py":
                continue
            text = path.read_text(encoding="utf-8")
            if re.search(r"\bos\.environ\b|\bgetenv\(|\bfrom os import .*environ", text):
                readers.append(str(path.relative_to(ROOT)))
    assert readers == [], f"read the environment through common.settings instead: {readers}"


def test_env_example_names_every_setting_and_nothing_unknown():
    module = _table_module()
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert module.env_example_problems(text) == [], "edit .env.example (see scripts/settings_table.py)"


def test_env_example_check_notices_a_missing_and_an_unknown_variable():
    module = _table_module()
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    first = declarations()[0][0]
    without = "\n".join(line for line in text.splitlines() if not re.match(rf"^#? ?{first}=", line))
    assert any(first in problem for problem in module.env_example_problems(without))
    assert any("NOT_A_SETTING" in p for p in module.env_example_problems(text + "\nNOT_A_SETTING=1\n"))
