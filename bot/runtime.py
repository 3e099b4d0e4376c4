"""Process-level tuning of the Rasa server, applied once when the model loads.

Rasa validates every action-server response with ``jsonschema.validate(result, spec)``, which
re-checks the (constant) schema itself against the JSON-schema meta-schema on every call: about a
tenth of a turn's CPU here. ``install_fast_action_result_validation`` keeps Rasa's behaviour (same
schema, same best-match ``ValidationError`` with Rasa's message) but builds the validator once.
It is called from ``RemoteActionPatches`` (``bot/components/remote_action_patches.py``, the first
component of the pipeline in config.yml) at model load, so it runs in every Rasa process that serves
this model and never at import time.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)
_INSTALLED = False


def install_fast_action_result_validation() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from jsonschema import validators
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(spec)
    validator_class.check_schema(spec)
    validator = validator_class(spec)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from "
            f"the Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[assignment]
    _INSTALLED = True
    logger.debug("action-server responses validated with a prebuilt %s", validator_class.__name__)
