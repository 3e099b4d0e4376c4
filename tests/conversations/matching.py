"""The held-out multi-turn set: its file format and how a turn's replies are judged (pure, no I/O).

A set file (``tests/conversations/set_*.yml``) holds ``conversations``; each one::

    - id: leave-lookup-zh-1          # unique over the whole set
      pattern: leave_form            # one of PATTERNS
      language: zh                   # zh | en | mixed
      customer: demo-regular-zh      # a demo customer (demo/seed.py DEMO_CAST) or guest
      turns:
        - user: 我的订单到哪了
          must: [订单]                # every check must match the reply text
          must_not: [请回复 1 到 5]     # no check may match
          any: [订单号, 哪一笔]          # at least one must match (when given)
          silent: false              # true: the bot must say nothing

A check is a substring (case-insensitive, full-width folded), ``re:<regex>`` (searched, case-insensitive)
or ``response:<utter_name>`` (matched against the response names when the replies carry them). The
reply text is every message's text and button titles, joined by newlines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PATTERNS = (
    "leave_form", "switch_request", "faq_in_form", "correct_value", "invalid_value", "survey",
    "queue", "serve_then_route", "ticket_status", "language_switch", "noise", "two_part", "shop",
    "lifecycle",  # service by segment and stage: offers, the retention path, accessibility (set_lifecycle.yml)
)
LANGUAGES = ("zh", "en", "mixed")


# ``{order:<status>}`` (this customer's latest order in that status), ``{order:<demo id>:<status>}``
# (another customer's), ``{refund_order}`` (this customer's order with an open refund ticket): order
# numbers depend on the day the demo data was seeded, so the runner fills them in from the database.
PLACEHOLDER = re.compile(r"\{(order|refund_order)(?::([\w-]+))?(?::([\w-]+))?\}")


def fill(text: str, customer: str, resolve: Any) -> str:
    """``text`` with its placeholders replaced by ``resolve(kind, customer, status)`` (SetError if None)."""

    def one(match: re.Match[str]) -> str:
        kind, first, second = match.group(1), match.group(2), match.group(3)
        owner, status = (first, second) if second else (customer, first)
        value = resolve(kind, owner, status)
        if not value:
            raise SetError(f"no value for {match.group(0)} (customer {owner}): the set expects freshly seeded demo "
                           "data, and a run changes it (a refund withdrawn, an order cancelled); start make run "
                           "on an empty database to run it again")
        return str(value)

    return PLACEHOLDER.sub(one, text)


def filled(turn: Turn, customer: str, resolve: Any) -> Turn:
    def many(values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(fill(v, customer, resolve) for v in values)

    return Turn(user=fill(turn.user, customer, resolve), must=many(turn.must), must_not=many(turn.must_not),
                any=many(turn.any), silent=turn.silent)


class SetError(ValueError):
    """A set file that does not follow the format (the message says where)."""


@dataclass(frozen=True)
class Turn:
    user: str
    must: tuple[str, ...] = ()
    must_not: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    silent: bool = False


@dataclass(frozen=True)
class Conversation:
    id: str
    pattern: str
    language: str
    customer: str
    turns: tuple[Turn, ...]
    source: str = ""


@dataclass
class TurnResult:
    ok: bool
    failures: list[str] = field(default_factory=list)


def fold(text: str) -> str:
    """Case- and width-insensitive form (NFKC folds full-width letters, digits and punctuation)."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def reply_text(messages: Iterable[dict[str, Any]]) -> str:
    parts: list[str] = []
    for message in messages or []:
        if message.get("text"):
            parts.append(str(message["text"]))
        for button in message.get("buttons") or []:
            if isinstance(button, dict) and button.get("title"):
                parts.append(str(button["title"]))
    return "\n".join(parts)


def response_names(messages: Iterable[dict[str, Any]]) -> set[str]:
    names: set[str] = set()
    for message in messages or []:
        for key in ("response", "template", "utter_action"):
            if isinstance(message.get(key), str):
                names.add(message[key])
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("response"), str):
            names.add(custom["response"])
    return names


def matches(check: str, text: str, responses: set[str]) -> bool:
    if check.startswith("re:"):
        return re.search(check[3:], text, re.IGNORECASE) is not None
    if check.startswith("response:"):
        return check[len("response:"):] in responses
    return fold(check) in fold(text)


def judge(turn: Turn, messages: list[dict[str, Any]]) -> TurnResult:
    text = reply_text(messages)
    names = response_names(messages)
    failures: list[str] = []
    if turn.silent:
        if text.strip():
            failures.append(f"expected silence, got {text!r}")
        return TurnResult(not failures, failures)
    if not text.strip():
        failures.append("no reply")
    failures += [f"missing {c!r}" for c in turn.must if not matches(c, text, names)]
    failures += [f"said {c!r}" for c in turn.must_not if matches(c, text, names)]
    if turn.any and not any(matches(c, text, names) for c in turn.any):
        failures.append(f"none of {list(turn.any)!r}")
    return TurnResult(not failures, failures)


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise SetError(f"{where}: expected a list of strings")
    checks = tuple(str(v) for v in value)
    for check in checks:
        if check.startswith("re:"):
            try:
                re.compile(check[3:])
            except re.error as exc:
                raise SetError(f"{where}: bad regex {check!r}: {exc}") from exc
    return checks


def parse_set(data: Any, source: str, customers: Iterable[str]) -> list[Conversation]:
    """Conversations of one set file; SetError on anything malformed."""
    known = set(customers) | {"guest"}
    if not isinstance(data, dict) or not isinstance(data.get("conversations"), list):
        raise SetError(f"{source}: expected a mapping with a 'conversations' list")
    out: list[Conversation] = []
    for index, item in enumerate(data["conversations"]):
        where = f"{source}#{index}"
        if not isinstance(item, dict):
            raise SetError(f"{where}: expected a mapping")
        cid = item.get("id")
        where = f"{source}:{cid}"
        if not isinstance(cid, str) or not cid:
            raise SetError(f"{source}#{index}: missing id")
        if item.get("pattern") not in PATTERNS:
            raise SetError(f"{where}: pattern must be one of {PATTERNS}")
        if item.get("language") not in LANGUAGES:
            raise SetError(f"{where}: language must be one of {LANGUAGES}")
        customer = item.get("customer", "guest")
        if customer not in known:
            raise SetError(f"{where}: unknown customer {customer!r}")
        turns_raw = item.get("turns")
        if not isinstance(turns_raw, list) or not turns_raw:
            raise SetError(f"{where}: no turns")
        turns = []
        for t_index, raw in enumerate(turns_raw):
            t_where = f"{where} turn {t_index + 1}"
            if not isinstance(raw, dict) or not isinstance(raw.get("user"), str) or not raw["user"].strip():
                raise SetError(f"{t_where}: each turn needs a 'user' line")
            unknown = set(raw) - {"user", "must", "must_not", "any", "silent"}
            if unknown:
                raise SetError(f"{t_where}: unknown keys {sorted(unknown)}")
            turns.append(Turn(
                user=raw["user"],
                must=_strings(raw.get("must"), t_where),
                must_not=_strings(raw.get("must_not"), t_where),
                any=_strings(raw.get("any"), t_where),
                silent=bool(raw.get("silent", False)),
            ))
        out.append(Conversation(cid, item["pattern"], item["language"], customer, tuple(turns), source))
    return out


def check_unique(conversations: Iterable[Conversation]) -> None:
    seen: set[str] = set()
    for conversation in conversations:
        if conversation.id in seen:
            raise SetError(f"{conversation.source}: duplicate id {conversation.id!r}")
        seen.add(conversation.id)


@dataclass
class Tally:
    passed: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0


def pass_rates(results: Iterable[tuple[Conversation, bool]]) -> dict[str, Tally]:
    """Per pattern (and ``all``): conversations passed / run. A conversation passes when every turn does."""
    table: dict[str, Tally] = {}
    for conversation, ok in results:
        for key in (conversation.pattern, "all"):
            tally = table.setdefault(key, Tally())
            tally.total += 1
            tally.passed += int(ok)
    return table


def format_table(table: dict[str, Tally]) -> str:
    rows = ["| pattern | passed | total | rate |", "|---|---:|---:|---:|"]
    for key in [p for p in PATTERNS if p in table] + ["all"]:
        if key in table:
            t = table[key]
            rows.append(f"| {key} | {t.passed} | {t.total} | {t.rate:.0%} |")
    return "\n".join(rows)
