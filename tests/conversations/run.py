"""``make test-conversations``: the held-out multi-turn set against a started assistant (``make run``).

Each conversation runs in its own tracker: a demo customer speaks as their signed-in widget
conversation ``web-<customer id>`` through the REST channel with the Rasa API token (the tracker is
restarted first), a guest as a new ``cv-<random>`` sender without the token. Every turn is judged by
``tests/conversations/matching.py``; the pass rate per pattern is printed as a table (and written to
``results/conversations.json``). Not part of ``make test``.

    python -m tests.conversations.run [--url URL] [--token TOKEN] [--pattern P] [--only ID] [-v]
    [--fail-under 0.95]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import yaml

from tests.conversations.matching import (
    Conversation,
    check_unique,
    filled,
    format_table,
    judge,
    parse_set,
    pass_rates,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RETRIES_429 = 5


def load_set(directory: Path = HERE) -> list[Conversation]:
    from demo.seed import DEMO_CAST

    conversations: list[Conversation] = []
    for path in sorted(directory.glob("set_*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        conversations += parse_set(data, path.name, DEMO_CAST)
    check_unique(conversations)
    return conversations


class Client:
    def __init__(self, url: str, token: str | None, timeout: float = 60.0) -> None:
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def _post(self, path: str, body: Any, *, signed: bool) -> Any:
        query = f"?{urllib.parse.urlencode({'token': self.token})}" if signed and self.token else ""
        request = urllib.request.Request(
            f"{self.url}{path}{query}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        for attempt in range(RETRIES_429 + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read()
                    return json.loads(raw) if raw else None
            except urllib.error.HTTPError as exc:
                if exc.code != 429 or attempt == RETRIES_429:
                    raise
                time.sleep(2 * (attempt + 1))  # the per-sender budget refills
        return None

    def restart(self, sender: str) -> None:
        self._post(f"/conversations/{urllib.parse.quote(sender)}/tracker/events",
                   [{"event": "restart"}], signed=True)

    def say(self, sender: str, text: str, *, signed: bool) -> list[dict[str, Any]]:
        return self._post("/webhooks/rest/webhook", {"sender": sender, "message": text}, signed=signed) or []


class Orders:
    """Order numbers for the set's placeholders, read once from the assistant's database."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._cache: dict[tuple[str, str, str | None], str | None] = {}

    def __call__(self, kind: str, customer: str, status: str | None) -> str | None:
        key = (kind, customer, status)
        if key not in self._cache:
            self._cache[key] = self._look_up(kind, customer, status)
        return self._cache[key]

    def _look_up(self, kind: str, customer: str, status: str | None) -> str | None:
        from sqlalchemy import select

        from common.db import make_engine, make_session_factory
        from demo.seed import DEMO_CAST
        from desk.models import Ticket
        from profiles.models import Order

        customer_id = DEMO_CAST.get(customer)
        if customer_id is None:
            return None
        engine = make_engine(self._url)
        try:
            with make_session_factory(engine)() as session:
                if kind == "refund_order":
                    return session.scalars(select(Ticket.order_id).where(
                        Ticket.customer_id == customer_id, Ticket.topic == "refund",
                        Ticket.status.in_(("open", "pending")), Ticket.order_id.is_not(None))).first()
                return session.scalars(select(Order.id).where(
                    Order.customer_id == customer_id, Order.status == status).order_by(Order.created_at.desc())).first()
        finally:
            engine.dispose()


def sender_for(conversation: Conversation) -> tuple[str, bool]:
    """(sender id, signed) for a conversation: signed-in customers as ``web-<id>``, guests fresh."""
    if conversation.customer == "guest":
        return f"cv-{uuid.uuid4().hex[:16]}", False
    from demo.seed import DEMO_CAST

    return f"web-{DEMO_CAST[conversation.customer]}", True


def run_one(
    client: Client, conversation: Conversation, resolve: Any, *, verbose: bool = False
) -> tuple[bool, list[str]]:
    sender, signed = sender_for(conversation)
    notes: list[str] = []
    try:
        turns = [filled(turn, conversation.customer, resolve) for turn in conversation.turns]
        if signed:
            client.restart(sender)
        for number, turn in enumerate(turns, 1):
            messages = client.say(sender, turn.user, signed=signed)
            result = judge(turn, messages)
            if verbose or not result.ok:
                said = " | ".join(m.get("text", "") for m in messages)
                notes.append(f"  {number}. {turn.user!r} -> {said!r}" + ("" if result.ok else f"  FAIL {result.failures}"))
            if not result.ok:
                return False, notes
    except (urllib.error.URLError, OSError, ValueError) as exc:  # SetError: an order the data lacks
        notes.append(f"  error: {exc}")
        return False, notes
    return True, notes


def main(argv: list[str] | None = None) -> int:
    from common.settings import get_settings

    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=settings.rasa_url)
    parser.add_argument("--token", default=settings.rasa_token)
    parser.add_argument("--database-url", default=settings.database_url, help="where the order numbers are read")
    parser.add_argument("--pattern", action="append", help="only these patterns")
    parser.add_argument("--only", action="append", help="only these conversation ids")
    parser.add_argument("--fail-under", type=float, default=None, help="exit 1 when the overall rate is lower")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    conversations = [
        c for c in load_set()
        if (not args.pattern or c.pattern in args.pattern) and (not args.only or c.id in args.only)
    ]
    if not args.token:
        print("note: no RASA_AUTH_TOKEN: signed-in customers cannot be run (their conversations fail)", file=sys.stderr)
    client = Client(args.url, args.token)
    orders = Orders(args.database_url)
    results: list[tuple[Conversation, bool]] = []
    for conversation in conversations:
        ok, notes = run_one(client, conversation, orders, verbose=args.verbose)
        results.append((conversation, ok))
        print(f"{'PASS' if ok else 'FAIL'} {conversation.id} [{conversation.pattern}/{conversation.language}]")
        for line in notes:
            print(line)
    table = pass_rates(results)
    print()
    print(format_table(table))
    out = ROOT / "results" / "conversations.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "rates": {k: {"passed": v.passed, "total": v.total} for k, v in table.items()},
        "failed": [c.id for c, ok in results if not ok],
    }, ensure_ascii=False, indent=1), encoding="utf-8")
    overall = table["all"].rate if "all" in table else 0.0
    return 1 if args.fail_under is not None and overall < args.fail_under else 0


if __name__ == "__main__":
    sys.exit(main())
