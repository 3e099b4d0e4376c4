"""wechat_text: rendering, the menu file, and the settings that configure the channel."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.connectors.wechat_api import WeChatConfig
from bot.connectors.wechat_text import UNSUPPORTED_INTENT, load_menu, render
from common.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[3]


def _domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        for intent in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("intents") or []:
            intents.add(intent if isinstance(intent, str) else next(iter(intent)))
    return intents


def test_every_menu_intent_and_the_unsupported_intent_exist_in_the_domain() -> None:
    menu = load_menu(ROOT / "bot" / "connectors" / "wechat_menu.yml")
    assert menu
    assert set(menu.values()) | {UNSUPPORTED_INTENT, "greet"} <= _domain_intents()


def test_render_joins_messages_and_numbers_buttons_across_messages() -> None:
    text, buttons = render(
        [
            {"text": "您好"},
            {"text": "请选择", "buttons": [{"title": "查订单", "payload": "/order_status"}]},
            {"image": "https://example.com/a.png"},
            {"text": "或者", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
        ]
    )
    assert text == "您好\n\n请选择\n\n1. 查订单\n\nhttps://example.com/a.png\n\n或者\n\n2. 转人工"
    assert [b.payload for b in buttons] == ["/order_status", "/request_human"]


def test_no_menu_file_means_no_menu(tmp_path: Path) -> None:
    assert load_menu(tmp_path / "missing.yml") == {}


def test_settings_switch_the_channel_on_and_check_the_aes_key() -> None:
    assert WeChatConfig.from_settings(Settings.from_env({})) is None
    config = WeChatConfig.from_settings(
        Settings.from_env({"WECHAT_TOKEN": "t", "WECHAT_AES_KEY": "k" * 43, "WECHAT_APP_ID": "wx1",
                           "WECHAT_REPLY_BUDGET_MS": "4000"})
    )
    assert config is not None and config.mode == "compatible" and config.reply_budget_s == 4.0
    with pytest.raises(SettingsError):
        Settings.from_env({"WECHAT_TOKEN": "t", "WECHAT_MODE": "safe", "WECHAT_AES_KEY": "short", "WECHAT_APP_ID": "x"})
    with pytest.raises(SettingsError):
        Settings.from_env({"WECHAT_TOKEN": "t", "WECHAT_REPLY_BUDGET_MS": "6000"})
