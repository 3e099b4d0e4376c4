"""Faults on the production-shaped stack (issue 6, "Faults"): each test breaks one part and mends it.

* the action servers die mid-conversation: the customer hears the polite hold reply (Rasa side,
  ``bot/action_hold.py``), the line is kept, and the conversation goes on when they are back; an action
  server that returns within ``ACTION_RETRY_SECONDS`` answers the very same turn;
* both Rasa servers are killed and restarted: a conversation in the middle of a form goes on where it
  was (tracker in PostgreSQL);
* Redis stops: the assistant still answers (``bot/lock_store.py``: in-process locks), says so in the log,
  and uses Redis again when it returns.
"""

from __future__ import annotations

import threading
import time
import uuid

import sqlalchemy as sa
import yaml

from devtools.services import RedisServer
from devtools.stack import ROOT, Stack, wait_all_ready
from tests.scale.conftest import user_texts

GUEST_ORDER = "E20991231999"  # no such order: the action answers with the number, the hold reply does not


def hold_texts() -> set[str]:
    domain = yaml.safe_load((ROOT / "bot" / "domain" / "responses_channels.yml").read_text(encoding="utf-8"))
    return {variant["text"] for variant in domain["responses"]["utter_please_hold"]}


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_action_server_killed_gets_a_hold_reply_and_the_conversation_recovers(
        stack: Stack, tracker_db: sa.engine.Engine) -> None:
    sender = new_sender("fault-actions")
    assert texts(stack.say(sender, "hello")[0])
    for server in stack.actions:
        server.kill()
    try:
        held, _ = stack.say(sender, f"where is my order {GUEST_ORDER}?")
        assert texts(held) and set(texts(held)) <= hold_texts(), held  # polite, once, nothing else
        logs = "".join(server.log_text() for server in stack.rasa)
        assert "action server unavailable" in logs
    finally:
        for server in stack.actions:
            server.start()
        wait_all_ready(stack.actions)
    answered, _ = stack.say(sender, f"where is my order {GUEST_ORDER}?")
    assert GUEST_ORDER in " ".join(texts(answered)) and not set(texts(answered)) & hold_texts()
    assert user_texts(tracker_db, sender) == ["hello", *[f"where is my order {GUEST_ORDER}?"] * 2]


def test_an_action_server_back_within_the_retry_window_answers_the_same_turn(stack: Stack) -> None:
    sender = new_sender("fault-retry")
    assert texts(stack.say(sender, "hello")[0])
    for server in stack.actions:
        server.kill()
    restart = threading.Timer(0.5, lambda: [server.start() for server in stack.actions])
    restart.start()
    try:
        answered, _ = stack.say(sender, f"where is my order {GUEST_ORDER}?")
    finally:
        restart.join()
        wait_all_ready(stack.actions)
    assert GUEST_ORDER in " ".join(texts(answered)) and not set(texts(answered)) & hold_texts()


def test_rasa_servers_restarted_conversation_continues_where_it_was(stack: Stack, app_db: sa.engine.Engine,
                                                                   tracker_db: sa.engine.Engine) -> None:
    sender = new_sender("fault-rasa")
    stack.say(sender, "hi")
    asked, _ = stack.say(sender, "bye")
    assert any(b["payload"].startswith("/rate_service") for m in asked for b in m.get("buttons", []))
    for server in stack.rasa:  # a crash of both replicas while the feedback form waits for the score
        server.kill()
    for server in stack.rasa:
        server.start()
    wait_all_ready(stack.rasa)
    comment_question, _ = stack.say(sender, "4")
    assert [b["payload"] for m in comment_question for b in m.get("buttons", [])] == ["/deny"]
    assert texts(stack.say(sender, "skip")[0])
    with app_db.connect() as connection:
        ratings = connection.execute(sa.text("SELECT rating FROM feedback WHERE conversation_id = :s"),
                                     {"s": sender}).scalars().all()
    assert ratings == [4]
    assert user_texts(tracker_db, sender) == ["hi", "bye", "4", "skip"]


def test_redis_down_the_assistant_still_answers_and_recovers(stack: Stack, tracker_db: sa.engine.Engine) -> None:
    sender = new_sender("fault-redis")
    port = stack.redis.port
    stack.redis.stop()
    try:
        replicas = set()
        for line in ("hello", f"where is my order {GUEST_ORDER}?", "thanks", "how long does delivery usually take?"):
            reply, replica = stack.say(sender, line)
            assert texts(reply), line
            replicas.add(replica)
        assert len(replicas) == 2  # both replicas answered without Redis
        logs = "".join(server.log_text() for server in stack.rasa)
        assert "lock store: Redis unavailable" in logs and "single-replica locking" in logs
    finally:
        stack.redis = RedisServer(port=port).start()
    time.sleep(6)  # the lock store probes Redis every retry_after_seconds (5)
    for line in ("hello again", "bye"):
        assert texts(stack.say(sender, line)[0])
    logs = "".join(server.log_text() for server in stack.rasa)
    assert logs.count("lock store: Redis is back") == 2
    assert user_texts(tracker_db, sender)[-2:] == ["hello again", "bye"]


def test_postgres_down_console_503_bot_apologises_and_the_callback_is_written_when_it_returns(
        stack: Stack, app_db: sa.engine.Engine, tracker_db: sa.engine.Engine) -> None:
    import urllib.error
    import urllib.request

    sender = new_sender("fault-pg")
    assert texts(stack.say(sender, "hello")[0])  # the action servers' stores are built while it is up
    busy = {v["text"] for v in yaml.safe_load((ROOT / "bot" / "domain" / "responses_care.yml").read_text(
        encoding="utf-8"))["responses"]["utter_handoff_unavailable"]}
    stack.postgres.halt()
    try:
        # the console says what is wrong: 503 with a message, not a 500
        request = urllib.request.Request(f"{stack.url}/api/queue",
                                         headers={"Cookie": "desk_session=any", "Accept-Language": "en"})
        try:
            urllib.request.urlopen(request, timeout=30)
            raise AssertionError("the console answered while its database was down")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503 and "database is unavailable" in exc.read().decode()
        # the bot apologises and promises a callback ticket (utter_handoff_unavailable)
        replies = texts(stack.say(sender, "I want a refund")[0])
        assert set(replies) & busy, replies
        assert texts(stack.say(sender, "thanks")[0])
    finally:
        stack.postgres.resume()
    deadline = time.monotonic() + 30
    while True:  # the action server's outbox writes the ticket within OUTBOX_FLUSH_S
        with app_db.connect() as connection:
            tickets = connection.execute(sa.text(
                "SELECT topic, subject FROM tickets WHERE conversation_id = :s"), {"s": sender}).all()
        if tickets or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert [tuple(t) for t in tickets] == [("refund", "callback: refund")]
    # the turns of the outage reach the tracker store and the archive once a replica writes again
    for _replica in range(len(stack.rasa)):
        stack.say(new_sender("fault-pg-after"), "hello")
    assert user_texts(tracker_db, sender)[-2:] == ["I want a refund", "thanks"]
    assert user_texts(tracker_db, sender, table="event_archive")[-2:] == ["I want a refund", "thanks"]
