"""The stored form of a tracker event: personal data masked at ingestion (no Rasa imports).

Rasa keeps the tracker of the current turn in memory with the customer's raw text, so the NLU,
the policies and the actions act on what was typed ("my phone is 13812341234"). Only the copy the
tracker store writes (the ``events`` table, checkpoints) goes through ``masked_event``: the text of
customer, bot and agent lines, the parsed text and entity values, every string slot value and
``metadata`` strings, each through ``common.masking.mask_text``. No slot is exempt: a slot that a
later turn acts on (the new delivery address, confirmed in the next turn) reads back masked, which
is what would be stored anyway (``ProfileStore.change_address`` masks the address it saves). Order numbers are not personal
data and are kept, so "where is E20261120001" still reads the same in a transcript.
"""

from __future__ import annotations

from typing import Any

from common.masking import mask_text


def _mask_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    return value


def masked_event(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of one event dict (``Event.as_dict()``) with personal data masked."""
    out = dict(data)
    kind = out.get("event")
    if isinstance(out.get("text"), str):
        out["text"] = mask_text(out["text"])
    if kind == "user" and isinstance(out.get("parse_data"), dict):
        parse = dict(out["parse_data"])
        if isinstance(parse.get("text"), str):
            parse["text"] = mask_text(parse["text"])
        if isinstance(parse.get("entities"), list):
            parse["entities"] = [
                {**e, "value": _mask_value(e.get("value"))} if isinstance(e, dict) else e for e in parse["entities"]
            ]
        out["parse_data"] = parse
    if kind == "slot" and "value" in out:
        out["value"] = _mask_value(out["value"])
    if kind == "bot" and isinstance(out.get("data"), dict):
        out["data"] = _mask_value(out["data"])
    if isinstance(out.get("metadata"), dict):
        out["metadata"] = _mask_value(out["metadata"])
    return out
