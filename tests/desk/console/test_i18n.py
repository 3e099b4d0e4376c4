"""The console's wording (i18n.yml): every key in zh and en, the same placeholders, no negative words."""

from __future__ import annotations

import re

import yaml

from bot.wording import find_forbidden, load_forbidden_words
from desk.console.i18n import WORDING_FILE, Translator


def _wording() -> dict[str, dict[str, str]]:
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


def test_every_key_has_zh_and_en_with_the_same_placeholders() -> None:
    wording = _wording()
    assert set(wording) == {"zh", "en"} and set(wording["zh"]) == set(wording["en"])
    for key, text in wording["zh"].items():
        assert sorted(re.findall(r"{(\w+)}", str(text))) == sorted(re.findall(r"{(\w+)}", str(wording["en"][key]))), key


def test_no_negative_or_blaming_words() -> None:
    words = load_forbidden_words()
    for language, texts in _wording().items():
        for key, text in texts.items():
            assert find_forbidden(str(text), words) == [], (language, key, text)


def test_messages_for_requests_not_carried_out_are_worded_in_both_languages() -> None:
    zh, en = Translator("zh"), Translator("en")
    assert zh("message_length", max=2000) == "每条消息为 1 至 2000 个字"
    assert en("handoff_over", status=en("status_resolved")) == "This conversation is resolved now; it is no longer open"
    for key in ("handoff_not_found", "held_by_other", "note_not_holder", "transcript_later", "line_not_sent",
                "note_empty", "ticket_fields", "database_down", "nav_qa", "nav_csat"):
        assert zh(key) != key and en(key) != key, key


def test_stored_values_shown_in_the_interface_have_a_label_in_both_languages() -> None:
    from common.ids import ConversationId
    from desk.models import AgentRole
    from profiles.segmentation import LIFECYCLES

    channels = {ConversationId.parse(s).channel for s in ("web-C000001", "wechat:o-abc", "demo-1")}
    values = [("lifecycle", v) for v in LIFECYCLES] + [("role", r.value) for r in AgentRole]
    values += [("channel", c) for c in sorted(channels)]
    for language in ("zh", "en"):
        t = Translator(language)
        for kind, value in values:
            assert t.label(kind, value) not in ("", "–"), (language, kind, value)
        if language == "zh":
            for kind, value in values:
                assert t.label(kind, value) != value, (kind, value)  # translated, not the stored value


def test_every_ticket_topic_the_bot_can_write_has_a_label_in_zh_and_en() -> None:
    from desk.models import TicketTopic

    wording = _wording()
    for topic in TicketTopic:
        for language in ("zh", "en"):
            label = wording[language].get(f"topic_{topic.value}")
            assert label and label != topic.value, (language, topic.value)
    assert len({wording["zh"][f"topic_{topic.value}"] for topic in TicketTopic}) == len(TicketTopic)
    assert len({wording["en"][f"topic_{topic.value}"] for topic in TicketTopic}) == len(TicketTopic)


def test_no_wording_key_is_written_twice():
    """YAML keeps the last of two equal keys without a word: one of them would silently never show."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "desk" / "console" / "i18n.yml").read_text(encoding="utf-8")
    for section in re.split(r"^(?=\w+:\s*$)", text, flags=re.M):
        keys = re.findall(r"^  ([A-Za-z0-9_]+):", section, re.M)
        assert sorted({k for k in keys if keys.count(k) > 1}) == [], section.split(":", 1)[0]
