"""RemoteActionPatches: the two changes this project makes to Rasa's ``RemoteAction`` (how the Rasa
server calls the action server), installed when the model loads, once per Rasa process.

1. ``bot/runtime.py``: the action-server response validator is built once instead of on every call
   (same schema, same error as Rasa's own).
2. ``bot/action_hold.py``: while the action server is unreachable, Rasa retries for
   ``ACTION_RETRY_SECONDS`` and then answers ``utter_please_hold`` instead of failing the turn.

It is the first entry of the pipeline in ``config.yml`` so that the patches are visible where the
model is described; it leaves every message as it is.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def install_remote_action_patches() -> None:
    """Both patches (each is idempotent)."""
    from bot.action_hold import install_action_hold
    from bot.runtime import install_fast_action_result_validation
    from common.settings import get_settings

    install_fast_action_result_validation()
    install_action_hold(get_settings().action_retry_seconds)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class RemoteActionPatches(GraphComponent):
    """Installs the ``RemoteAction`` patches when the pipeline is built or loaded; no NLU work."""

    def __init__(self) -> None:
        install_remote_action_patches()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RemoteActionPatches:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
