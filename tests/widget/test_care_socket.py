"""The widget's socket and proactive care: the customer's data panel (transparency report, masked, zh and
en) and proactive messages held for a customer until their widget connects (the console's fake Rasa server
stands in for the tracker here; tests/integration/test_care.py runs the real servers)."""

from __future__ import annotations

import re
import time
from datetime import datetime

import sqlalchemy as sa

from desk.models import ProactiveMessage
from desk.widget_tokens import sign_token
from tests.desk.console.conftest import Console
from tests.widget.conftest import SECRET
from tests.widget.test_socket import hello, until

CJK = re.compile(r"[\u4e00-\u9fff]")


def token(customer_id: str = "C000001") -> str:
    return sign_token(customer_id, int(time.time()) + 600, SECRET)


def test_the_data_panel_reads_the_signed_in_customers_report_masked_in_their_language(widget_console: Console) -> None:
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        hello(socket, token=token(), guest=None)
        socket.send_json({"type": "my_data", "lang": "zh"})
        [zh] = until(socket, "my_data")
        socket.send_json({"type": "my_data", "lang": "en"})
        [en] = until(socket, "my_data")
    assert zh["level"] == "high" and len(zh["lines"]) >= 5 and all(CJK.search(line) for line in zh["lines"])
    assert en["level"] == "high" and not any(CJK.search(line) for line in en["lines"])
    joined = " ".join(zh["lines"] + en["lines"])
    assert "陈静" not in joined and not re.search(r"\d{11}", joined) and "E2026" not in joined  # no name, phone, order id
    assert any("VIP" in line or "vip" in line.lower() for line in en["lines"])


def test_a_guest_hears_that_nothing_personal_is_used(widget_console: Console) -> None:
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        hello(socket, token=None, guest=None)
        socket.send_json({"type": "my_data", "lang": "en"})
        [frame] = until(socket, "my_data")
    assert frame["level"] == "medium" and len(frame["lines"]) == 1


def test_a_waiting_proactive_message_arrives_when_the_customer_connects(widget_console: Console) -> None:
    with widget_console.session_factory.begin() as session:
        session.add(ProactiveMessage(customer_id="C000001", conversation_id="web-C000001", channel="web",
                                     kind="order_delay", ref="E1:2026-11-17", reason="order E1: ETA passed",
                                     language="zh", text="您好，您的订单还在路上", status="waiting",
                                     created_at=datetime(2026, 11, 20, 4)))
    with widget_console.client().websocket_connect("/widget/ws") as socket:
        hello(socket, token=token(), guest=None)
        [message] = until(socket, "message")
    assert message["text"] == "您好，您的订单还在路上" and message["proactive"] == "order_delay"
    assert widget_console.rasa.appended[-1][1][0]["metadata"] == {"proactive": "order_delay"}
    with widget_console.session_factory.begin() as session:
        row = session.scalars(sa.select(ProactiveMessage)).one()
        assert row.status == "sent" and row.delivered_at is not None
    with widget_console.client().websocket_connect("/widget/ws") as socket:  # now part of the history, once
        [*_, history] = hello(socket, token=token(), guest=None)
    assert [m["text"] for m in history["messages"]] == ["您好，您的订单还在路上"]
