"""QueueTimeouts: unclaimed handoffs time out, customers who left are abandoned, and every conversation
whose handoff ended while Rasa was out of reach is resumed once Rasa answers again."""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker

from common.settings import Settings
from desk.handoffs import HandoffQueue
from desk.live import customer_topic
from desk.rasa_client import RasaClient
from devtools.services import free_port
from tests.conftest import NOON
from tests.desk.console.conftest import Console, enqueue, rasa_server


def _queue_at(seeded: sessionmaker, minutes_ago: int) -> HandoffQueue:
    return HandoffQueue(seeded, clock=lambda: NOON - timedelta(minutes=minutes_ago))


def _epoch(moment: datetime) -> float:
    return float(calendar.timegm(moment.timetuple()))


def test_a_time_out_while_rasa_is_out_of_reach_is_resumed_and_told_once_rasa_answers(
    console_factory: Callable[..., Console], seeded: sessionmaker
) -> None:
    port = free_port()  # nothing listens there yet
    waiting = enqueue(_queue_at(seeded, 6), conversation_id="web-wait0002")
    console = console_factory(seeded, clock=lambda: NOON, rasa=RasaClient(f"http://127.0.0.1:{port}", timeout=2))
    sweeper = console.app.state.services.timeouts
    # the tracker is out of reach too, so nobody is called gone on a guess: it times out (the callback is booked)
    assert asyncio.run(sweeper.sweep()) == {"abandoned": [], "timed_out": [waiting]}
    [pending] = console.queue.resume_pending()
    assert (pending.id, pending.status, pending.package["resume_pending"]) == (waiting, "timed_out", "timed_out")
    assert asyncio.run(sweeper.sweep()) == {"abandoned": [], "timed_out": []}
    assert [h.id for h in console.queue.resume_pending()] == [waiting]  # kept while Rasa is away

    async def rasa_back() -> tuple[list[tuple[str, object]], dict | None]:  # type: ignore[type-arg]
        async with rasa_server(port) as calls:
            async with console.app.state.services.broker.subscribe(customer_topic("web-wait0002")) as customer:
                await sweeper.sweep()
                return calls, await customer.next(timeout=2)

    calls, told = asyncio.run(rasa_back())
    assert [path for path, _ in calls] == ["/conversations/web-wait0002/tracker/events",
                                           "/conversations/web-wait0002/trigger_intent"]
    assert calls[1][1]["name"] == "EXTERNAL_handoff_timed_out" and told is not None
    assert console.queue.resume_pending() == []


def test_a_pending_resume_is_dropped_when_the_conversation_has_a_new_handoff(
    console_factory: Callable[..., Console], seeded: sessionmaker
) -> None:
    console = console_factory(seeded, clock=lambda: NOON)
    first = enqueue(console.queue, conversation_id="web-again001")
    console.queue.claim(first, agent_id="agent1")
    console.queue.resolve(first)
    console.queue.mark_resume_pending(first, "back_to_bot")
    enqueue(console.queue, conversation_id="web-again001")  # asked for a human again meanwhile
    assert asyncio.run(console.app.state.services.timeouts.retry_resumes()) == [first]
    assert console.rasa.appended == [] and console.queue.resume_pending() == []  # still paused for the new one


def test_with_the_default_settings_a_customer_who_left_is_abandoned_before_the_timeout() -> None:
    settings = Settings.from_env({})
    assert 0 < settings.handoff_abandon_minutes < settings.handoff_timeout_minutes


def test_silent_and_not_connected_is_abandoned_silent_but_connected_waits_for_the_timeout(
    console_factory: Callable[..., Console], seeded: sessionmaker
) -> None:
    left = enqueue(_queue_at(seeded, 3), conversation_id="web-left0001")
    watching = enqueue(_queue_at(seeded, 3), conversation_id="web-here0001")
    wechat = enqueue(_queue_at(seeded, 3), conversation_id="wechat:o-quiet001", channel="wechat")
    console = console_factory(seeded, clock=lambda: NOON)  # WeChat: no live connection in the console
    for conversation in ("web-left0001", "web-here0001", "wechat:o-quiet001"):
        console.rasa.events[conversation] = [
            {"event": "user", "text": "转人工", "timestamp": _epoch(NOON - timedelta(minutes=3))}]
    services = console.app.state.services

    async def sweep_while_one_is_connected() -> dict[str, list[int]]:
        async with services.broker.subscribe(customer_topic("web-here0001")):
            return await services.timeouts.sweep()

    # 3 minutes: past HANDOFF_ABANDON_MINUTES (2), before HANDOFF_TIMEOUT_MINUTES (5)
    assert asyncio.run(sweep_while_one_is_connected()) == {"abandoned": [left], "timed_out": []}
    assert console.queue.get(left).status == "abandoned"
    assert {console.queue.get(i).status for i in (watching, wechat)} == {"queued"}
    assert [c for c, events in console.rasa.appended if {"event": "resume"} in events] == ["web-left0001"]
    assert console.rasa.triggered == []  # abandoned silently


def test_a_customer_who_spoke_lately_is_not_abandoned_even_when_not_connected(
    console_factory: Callable[..., Console], seeded: sessionmaker
) -> None:
    talking = enqueue(_queue_at(seeded, 3), conversation_id="web-talk0001")
    console = console_factory(seeded, clock=lambda: NOON)
    console.rasa.events["web-talk0001"] = [
        {"event": "user", "text": "还要多久", "timestamp": _epoch(NOON - timedelta(minutes=1))}]
    assert asyncio.run(console.app.state.services.timeouts.sweep()) == {"abandoned": [], "timed_out": []}
    assert console.queue.get(talking).status == "queued"

