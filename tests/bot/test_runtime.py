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


def test_the_remote_action_patches_are_the_first_component_and_install_both() -> None:
    import yaml

    from bot import action_hold
    from bot.components.remote_action_patches import RemoteActionPatches
    from tests.conftest import ROOT

    pipeline = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))["pipeline"]
    assert pipeline[0]["name"] == "bot.components.remote_action_patches.RemoteActionPatches"

    component = RemoteActionPatches.create({}, None, None, None)  # type: ignore[arg-type]
    assert action_hold._INSTALLED and RemoteAction.run.__module__ == "bot.action_hold"
    assert RemoteAction._validate_action_result.__module__ == "bot.runtime"
    assert component.process(["unchanged"]) == ["unchanged"]  # type: ignore[list-item]
