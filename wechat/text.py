"""What the customer sees and types on WeChat, which has text only: bot messages and buttons as text.

A passive reply carries one message, so the bot's messages of a turn are joined. Buttons become
numbered lines ("1. Yes"); the last buttons shown to a customer are remembered, and a reply of just
that number is sent to the bot as the button's payload. Menu clicks (``CLICK`` events) map to
intents through ``wechat_menu.yml``. No Rasa imports.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from wechat.api import Inbound
from wechat.stores import KeyValueStore

UNSUPPORTED_INTENT = "EXTERNAL_unsupported_message"
GREET_INTENT = "greet"
BUTTONS_TTL_S = 24 * 3600.0
# events that expect nothing back (WeChat shows nothing for them)
SILENT_EVENTS = frozenset({"unsubscribe", "view", "location", "scan", "templatesendjobfinish", "view_miniprogram"})


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


def render(messages: Iterable[dict[str, Any]]) -> tuple[str, list[Button]]:
    """The text of a turn's bot messages (blank-line separated) and the buttons it offers, in order."""
    parts: list[str] = []
    buttons: list[Button] = []
    for message in messages:
        if message.get("text"):
            parts.append(str(message["text"]).strip())
        for key in ("image", "attachment"):
            if isinstance(message.get(key), str) and message[key]:
                parts.append(message[key])
        new = [Button(str(b.get("title", "")), str(b.get("payload", ""))) for b in message.get("buttons") or []]
        if new:
            parts.append("\n".join(f"{len(buttons) + i}. {b.title}" for i, b in enumerate(new, start=1)))
            buttons.extend(new)
    return "\n\n".join(p for p in parts if p), buttons


class ButtonMemory:
    def __init__(self, store: KeyValueStore) -> None:
        self._store = store

    async def remember(self, openid: str, buttons: list[Button]) -> None:
        if buttons:
            value = json.dumps([[b.title, b.payload] for b in buttons], ensure_ascii=False)
            await self._store.set(f"buttons:{openid}", value, BUTTONS_TTL_S)
        else:
            await self._store.delete(f"buttons:{openid}")

    async def choice(self, openid: str, text: str) -> str | None:
        """The payload of the button whose number the customer typed, if any."""
        number = unicodedata.normalize("NFKC", text).strip().rstrip(".")
        if not number.isdigit():
            return None
        raw = await self._store.get(f"buttons:{openid}")
        if raw is None:
            return None
        buttons = json.loads(raw)
        index = int(number) - 1
        return str(buttons[index][1]) if 0 <= index < len(buttons) else None


def load_menu(path: str | Path) -> dict[str, str]:
    """``EventKey -> intent`` from the menu file (``{}`` when there is none)."""
    file = Path(path)
    if not file.exists():
        return {}
    raw = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    return {str(key): str(intent) for key, intent in (raw.get("menu") or {}).items()}


async def bot_input(inbound: Inbound, *, menu: dict[str, str], buttons: ButtonMemory) -> str | None:
    """What the bot is told for an inbound message or event; None when nothing needs an answer."""
    if inbound.msg_type == "text":
        text = inbound.content or ""
        return await buttons.choice(inbound.openid, text) or text
    if inbound.msg_type == "voice" and inbound.content:  # speech recognition switched on in the console
        return inbound.content
    if inbound.msg_type == "event":
        if inbound.event == "subscribe":
            return f"/{GREET_INTENT}"
        if inbound.event == "click":
            intent = menu.get(inbound.event_key or "")
            return f"/{intent}" if intent else f"/{UNSUPPORTED_INTENT}"
        return None  # unsubscribe, view, location reports, scans, ...: nothing to say
    return f"/{UNSUPPORTED_INTENT}"  # image, voice, video, location, link, file and types yet unknown
