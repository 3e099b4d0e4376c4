"""The queue as part of the conversation (issue 10 item 3), against the real Rasa server and action
server, with the agent on the console's HTTP API: while queued the customer gets the place and the
estimate, adds lines that appear on the handoff card (acknowledged once), and can leave the queue
(the handoff ends as cancelled, the bot resumes; a withdrawn refund closes the refund ticket); once an
agent has claimed, the bot is silent. WeChat (through tests/wechat_sim, safe mode) behaves the same."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from desk.models import Conversation, Handoff, Ticket, TicketTopic
from devtools.wechat_sim.simulator import WeChatSimulator
from tests.integration.conftest import Assistant
from tests.integration.test_conversations import as_customer, handoffs_of, new_sender
from tests.integration.test_wechat import _answers, sim  # noqa: F401  (fixture)
from tests.utils.browser import ensure_agent, running_console

AGENT, PASSWORD = "queue-agent", "queue-agent-pass"
SUPERVISOR, SUPERVISOR_PASSWORD = "queue-supervisor", "queue-supervisor-pass"


class AgentClient:
    """A signed-in agent on the console's HTTP API."""

    def __init__(self, base_url: str, username: str = AGENT, password: str = PASSWORD) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        page = self.http.get("/login", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
        signed_in = self.http.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert signed_in.status_code in (200, 303), signed_in.text
        home = self.http.get("/", headers={"Accept": "text/html"})
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
        self.http.headers.update({"X-CSRF-Token": csrf, "Accept": "application/json"})

    def get(self, path: str) -> dict[str, Any]:
        response = self.http.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text)
        return dict(response.json())

    def post(self, path: str) -> httpx.Response:
        return self.http.post(path)


@pytest.fixture(scope="module")
def console(assistant: Assistant) -> Iterator[str]:
    ensure_agent(assistant, AGENT, PASSWORD, "排队测试")
    ensure_agent(assistant, SUPERVISOR, SUPERVISOR_PASSWORD, "排队主管", role="supervisor")
    with running_console(assistant) as url:
        yield url


@pytest.fixture(scope="module")
def agent(console: str) -> AgentClient:
    return AgentClient(console)


@pytest.fixture(scope="module")
def supervisor(console: str) -> AgentClient:
    return AgentClient(console, SUPERVISOR, SUPERVISOR_PASSWORD)


def _queued(bot: Assistant, sender: str) -> Handoff:
    [handoff] = [h for h in handoffs_of(bot, sender) if h.status == "queued"]
    return handoff


def _status(bot: Assistant, handoff_id: int) -> str:
    with bot.session_factory() as session:
        return session.get(Handoff, handoff_id).status


def test_zh_wait_note_and_leave_the_queue(assistant: Assistant, agent: AgentClient) -> None:
    sender = as_customer(assistant, "demo-regular-zh")
    assert assistant.texts(sender, "转人工")
    handoff = _queued(assistant, sender)
    in_queue = agent.get("/api/queue")["queued"]
    assert handoff.id in [row["id"] for row in in_queue]

    wait = " ".join(assistant.texts(sender, "还要等多久？"))
    assert re.search(r"第 \d+ 位", wait) and "分钟" in wait

    first = " ".join(assistant.texts(sender, "我想把收货地址改到公司，电话 13812345678"))
    assert "留言已转给人工客服" in first
    assert assistant.texts(sender, "地址是上海市浦东新区世纪大道100号") == []  # acknowledged once
    card = agent.get(f"/api/handoffs/{handoff.id}")
    notes = [n["text"] for n in card["customer_notes"]]
    assert len(notes) == 2 and notes[0].startswith("我想把收货地址改到公司") and "13812345678" not in notes[0]
    assert notes[1] == "地址是上海市浦东新区世纪大道100号"  # the customer's own words

    left = " ".join(assistant.texts(sender, "算了不用人工了"))
    assert "取消人工排队" in left
    assert _status(assistant, handoff.id) == "cancelled"
    assert handoff.id not in [row["id"] for row in agent.get("/api/queue")["queued"]]
    with assistant.session_factory() as session:
        assert session.get(Conversation, sender).status == "bot"
    tracker = assistant.tracker(sender)
    assert not tracker.get("paused") and tracker["slots"].get("handoff_id") is None
    # the bot is back: the next line is answered as usual
    assert " ".join(assistant.texts(sender, "你好"))
    assert agent.post(f"/api/handoffs/{handoff.id}/claim").status_code == 409


def test_en_refund_change_of_mind_is_noted_on_the_ticket(
    assistant: Assistant, agent: AgentClient, supervisor: AgentClient
) -> None:
    sender = as_customer(assistant, "demo-atrisk-en")
    assistant.texts(sender, "I want a refund, the item is not what I ordered")
    handoff = _queued(assistant, sender)
    assert handoff.reason == "refund"
    wait = " ".join(assistant.texts(sender, "how long do I have to wait?"))
    assert re.search(r"number \d+ in the queue", wait)
    left = " ".join(assistant.texts(sender, "I don't want the refund anymore"))
    assert "out of the queue" in left and "refund ticket" in left
    assert _status(assistant, handoff.id) == "cancelled"
    # an ended handoff is the supervisors' to open (agents see the queue and what they hold)
    assert agent.http.get(f"/api/handoffs/{handoff.id}").status_code == 403
    card = supervisor.get(f"/api/handoffs/{handoff.id}")
    assert card["status"] == "cancelled" and card["refund_withdrawn"] is True
    with assistant.session_factory() as session:
        refunds = list(session.scalars(select(Ticket).where(
            Ticket.customer_id == "C000003", Ticket.topic == TicketTopic.REFUND.value)))
    assert refunds and all(t.status == "closed" for t in refunds if t.conversation_id == sender)
    assert any("refund withdrawn" in t.subject for t in refunds)


async def test_wechat_waits_and_leaves_the_queue_the_same_way(
    assistant: Assistant, sim: WeChatSimulator  # noqa: F811
) -> None:
    openid = new_sender("o-queue")
    url = f"{assistant.rasa_url}/webhooks/wechat/webhook"
    assert await _answers(sim, url, sim.text(openid, "转人工"), openid)
    handoff = _queued(assistant, f"wechat:{openid}")
    assert handoff.channel == "wechat"
    wait = " ".join(await _answers(sim, url, sim.text(openid, "还要等多久？"), openid))
    assert re.search(r"第 \d+ 位", wait), wait
    noted = " ".join(await _answers(sim, url, sim.text(openid, "我买的杯子有裂缝"), openid))
    assert "留言已转给人工客服" in noted
    left = " ".join(await _answers(sim, url, sim.text(openid, "不用人工了"), openid))
    assert "取消人工排队" in left
    assert _status(assistant, handoff.id) == "cancelled"


def test_silent_once_an_agent_has_claimed(assistant: Assistant, agent: AgentClient) -> None:
    sender = new_sender("claimed")
    assistant.texts(sender, "real person please")
    handoff = _queued(assistant, sender)
    claimed = agent.post(f"/api/handoffs/{handoff.id}/claim")
    assert claimed.status_code == 200 and claimed.json()["status"] == "assigned"
    for text in ("how long?", "cancel the agent", "my order number is E20261120001"):
        assert assistant.say(sender, text) == []
    assert _status(assistant, handoff.id) == "assigned"
    events = assistant.tracker(sender)["events"]
    assert any(e.get("event") == "user" and e.get("text") == "cancel the agent" for e in events)
    assert "customer_notes" not in handoffs_of(assistant, sender)[0].package


def test_outside_the_queue_the_wait_question_is_answered(assistant: Assistant) -> None:
    sender = new_sender("noqueue")
    reply = " ".join(assistant.texts(sender, "how many people are ahead of me in the queue?"))
    assert "not waiting for an agent" in reply
