"""The prebuilt validator of action-server responses behaves like Rasa's own."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot.runtime import install_fast_action_result_validation

GOOD = {"events": [{"event": "slot", "name": "tone", "value": "warm"}], "responses": [{"response": "utter_greet"}]}
BAD = {"events": [{"name": "tone"}], "responses": []}  # an event without its type


@pytest.fixture(scope="module")
def action() -> RemoteAction:
    install_fast_action_result_validation()
    install_fast_action_result_validation()  # idempotent
    return RemoteAction("action_greet", None)


def test_valid_response_passes(action: RemoteAction) -> None:
    assert action._validate_action_result(GOOD) is True


def test_invalid_response_raises_rasas_error(action: RemoteAction) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(BAD)
