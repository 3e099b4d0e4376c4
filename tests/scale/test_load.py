"""200 concurrent conversations through nginx across two Rasa replicas (issue 6, "Scale, tested natively").

Every conversation says its lines one after the other (each waits for the reply) while 200 run at
once, and its turns alternate between the two replicas (the test's nginx pins a request to a replica
by the ``X-Test-Replica`` header; without it nginx round-robins), so the Redis lock store and the
PostgreSQL tracker store must carry every conversation from one replica to the other at every turn.
Checked afterwards, in PostgreSQL: each transcript (tracker ``events`` and the ``event_archive``) holds
every customer line once and in order; exactly one handoff per refund conversation and one feedback
row per rated conversation; no lock errors in any server log; both replicas served half.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from typing import Any

import aiohttp
import sqlalchemy as sa

from devtools.stack import Stack, upstream_counts
from tests.scale.conftest import TURN_TIMEOUT_S, user_texts

CONVERSATIONS = 200

# (kind, lines, the handoff reason it must leave or None, a feedback row expected)
SCRIPTS: list[tuple[str, list[str], str | None, bool]] = [
    ("refund-zh", ["你好", "我要退款，东西不想要了", "还在吗"], "refund", False),
    ("refund-en", ["hello", "I want a refund", "are you still there?"], "refund", False),
    ("rated-en", ["hi", "how long does delivery usually take?", "bye", "4", "skip"], None, True),
    ("rated-zh", ["你好", "你们支持哪些付款方式？", "再见", "5", "跳过"], None, True),
    ("faq-zh", ["你好", "退货政策是什么", "退款多久到账", "谢谢"], None, False),
]
LOCK_ERRORS = ("LockError", "Could not acquire lock", "lock store", "Error while acquiring lock")


async def converse(session: aiohttp.ClientSession, url: str, sender: str, lines: list[str],
                   first: int) -> dict[str, Any]:
    """One conversation whose turns alternate between the two replicas (nginx's X-Test-Replica)."""
    replicas: list[str] = []
    replies: list[list[dict[str, Any]]] = []
    seconds: list[float] = []
    for turn, line in enumerate(lines):
        began = time.monotonic()
        async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": line},
                                headers={"X-Test-Replica": str((first + turn) % 2)},
                                timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT_S)) as response:
            assert response.status == 200, f"{sender}: {line!r} -> HTTP {response.status}"
            replies.append(await response.json())
            replicas.append(response.headers.get("X-Upstream", ""))
        seconds.append(time.monotonic() - began)
    return {"sender": sender, "replicas": replicas, "replies": replies, "seconds": seconds}


async def drive(url: str, conversations: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    connector = aiohttp.TCPConnector(limit=CONVERSATIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await asyncio.gather(*(converse(session, url, sender, lines, first=n % 2)
                                      for n, (sender, lines) in enumerate(conversations)))


def test_200_concurrent_conversations_across_two_replicas(stack: Stack, app_db: sa.engine.Engine,
                                                          tracker_db: sa.engine.Engine) -> None:
    run = uuid.uuid4().hex[:6]
    plan = [(f"load-{run}-{n:03d}", SCRIPTS[n % len(SCRIPTS)]) for n in range(CONVERSATIONS)]
    logs_before = {server.name: len(server.log_text()) for server in stack.rasa}
    began = time.monotonic()
    results = asyncio.run(drive(stack.url, [(sender, script[1]) for sender, script in plan]))
    seconds = time.monotonic() - began
    turns = sum(len(r["replicas"]) for r in results)
    waits = sorted(s for r in results for s in r["seconds"])
    print(f"\n{CONVERSATIONS} conversations, {turns} turns in {seconds:.1f}s ({turns / seconds:.1f} turns/s); "
          f"a turn took {waits[len(waits) // 2]:.1f}s at the median, {waits[-1]:.1f}s at most")

    # every conversation changed replica on every turn, and the two replicas shared the work
    served = Counter(replica for r in results for replica in r["replicas"])
    addresses = {stack.rasa_address(i) for i in range(len(stack.rasa))}
    assert set(served) == addresses, served
    assert all(count >= 0.4 * turns for count in served.values()), served
    for result in results:
        hops = result["replicas"]
        assert all(a != b for a, b in itertools.pairwise(hops)), (result["sender"], hops)
    logged = upstream_counts(stack.access_log())
    assert sum(logged.get(a, 0) for a in addresses) >= turns - 2  # nginx's own log agrees (last lines may lag)

    for (sender, (kind, lines, _reason, _rated)), result in zip(plan, results):
        # every customer turn answered (while queued and not claimed the bot still answers: bot/queue_turns.py)
        silent = [i for i, reply in enumerate(result["replies"]) if not reply]
        assert silent == [], f"{sender} ({kind}): no reply to turns {silent}"
        # the transcript is complete and in order, in the tracker store and in the archive
        assert user_texts(tracker_db, sender) == lines, sender
        assert user_texts(tracker_db, sender, table="event_archive") == lines, sender

    with app_db.connect() as connection:
        handoffs = Counter(connection.execute(sa.text(
            "SELECT conversation_id, reason FROM handoffs WHERE conversation_id LIKE :p"), {"p": f"load-{run}-%"}))
        feedback = Counter(connection.execute(sa.text(
            "SELECT conversation_id FROM feedback WHERE conversation_id LIKE :p"), {"p": f"load-{run}-%"}).scalars())
    for sender, (kind, _lines, reason, rated) in plan:
        expected_handoffs = {(sender, reason): 1} if reason else {}
        assert {k: v for k, v in handoffs.items() if k[0] == sender} == expected_handoffs, (sender, kind)
        assert feedback.get(sender, 0) == (1 if rated else 0), (sender, kind)

    for server in stack.rasa:
        new_log = server.log_text()[logs_before[server.name]:]
        errors = [line for line in new_log.splitlines() if any(marker in line for marker in LOCK_ERRORS)]
        assert not errors, f"{server.name}: {errors[:3]}"
        assert "Traceback" not in new_log, f"{server.name} logged an exception; see {server.log_path}"
