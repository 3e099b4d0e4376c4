"""wechat_text: rendering, the menu file, and the settings that configure the channel."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from common.settings import Settings, SettingsError
from wechat.api import WeChatConfig
from wechat.text import UNSUPPORTED_INTENT, load_menu, render

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
    assert config is not None and config.mode == "safe" and config.reply_budget_s == 4.0  # safe by default (issue 11)
    with pytest.raises(SettingsError):
        Settings.from_env({"WECHAT_TOKEN": "t", "WECHAT_MODE": "safe", "WECHAT_AES_KEY": "short", "WECHAT_APP_ID": "x"})
    with pytest.raises(SettingsError):
        Settings.from_env({"WECHAT_TOKEN": "t", "WECHAT_REPLY_BUDGET_MS": "6000"})


@pytest.mark.parametrize(("language", "expected"), [("en", "I read text messages only"), ("zh", "我只能阅读文字消息")])
async def test_the_polite_reply_to_a_picture_is_in_the_customer_s_language(language: str, expected: str) -> None:
    # the channel tells the bot /EXTERNAL_unsupported_message; the rule answers utter_unsupported_message,
    # whose variant follows the `language` slot (set at session start from the profile of a linked
    # openid, ProfileStore.resolve("wechat", openid); guests start in zh)
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.utils.builders import load_domain
    from wechat.api import Inbound
    from wechat.stores import MemoryStore
    from wechat.text import ButtonMemory, bot_input

    picture = Inbound(msg_type="image", openid="o-en", account="gh", create_time=1, msg_id="1")
    told = await bot_input(picture, menu={}, buttons=ButtonMemory(MemoryStore()))
    assert told == f"/{UNSUPPORTED_INTENT}"
    rules = yaml.safe_load((ROOT / "bot" / "data" / "rules" / "channels.yml").read_text(encoding="utf-8"))
    assert {"action": "utter_unsupported_message"} in rules["rules"][0]["steps"]
    domain = Domain.from_dict(load_domain())
    tracker = DialogueStateTracker.from_events("wechat:o-en", [SlotSet("language", language)], slots=domain.slots)
    message = await TemplatedNaturalLanguageGenerator(domain.responses).generate(
        "utter_unsupported_message", tracker, "wechat"
    )
    text, _ = render([message])
    assert expected in text
