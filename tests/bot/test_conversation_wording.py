"""Replies say in the customer's own words what was done (zh and en)."""

from __future__ import annotations

import pytest

from tests.utils.builders import load_domain


@pytest.mark.parametrize(("response", "zh", "en"), [("utter_stop_messages_done", "退订", "unsubscribe")])
def test_the_confirmation_names_what_was_done(response, zh, en):
    for variant in load_domain()["responses"][response]:
        language = "zh" if "'zh'" in str(variant.get("condition")) else "en"
        word = zh if language == "zh" else en
        assert word in variant["text"], variant["text"]
