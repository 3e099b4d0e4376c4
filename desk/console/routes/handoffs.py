"""One handoff: the warm-handoff card page, its live transcript, chat, notes and the ways to end it.

Who opens what: an agent opens the handoffs waiting in the queue and those they hold now (with that
customer's transcript and notes while they hold it); another agent's handoff or one that has ended is
for supervisors (403, ``handoff_supervisors_only``). Acting on a handoff needs holding it (``_held``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from common.db import StoreUnavailable
from desk.agents import SignedIn
from desk.console.card import build_card, customer_notes
from desk.console.deps import AGENT_ONLY, CurrentAgent, ServicesDep, T
from desk.console.i18n import DEFAULT_LANGUAGE, Translator
from desk.console.pages import render, sse
from desk.console.routes.sla import handoff_badges
from desk.console.services import Services
from desk.errors import HandoffNotFound, InvalidTransition
from desk.gateway import ChannelUnavailable, OutboundMessage
from desk.live import QUEUE, conversation_topic
from desk.models import HandoffStatus, TicketTopic
from desk.rasa_client import RasaUnavailable
from desk.resolution import BACK_TO_BOT, RESOLVED, end_handoff
from desk.schemas import HandoffView
from desk.transcripts import Message, agent_event, read_events
from desk.wechat_held import HeldLine, openid_of

logger = logging.getLogger(__name__)
router = APIRouter(dependencies=AGENT_ONLY)
MESSAGE_MAX = 2000
TICKET_TOPICS = (TicketTopic.REFUND, TicketTopic.ORDER, TicketTopic.ADDRESS, TicketTopic.COMPLAINT, TicketTopic.OTHER)


def routers() -> list[APIRouter]:
    return [router]


async def _handoff(services: Services, handoff_id: int, t: Translator) -> HandoffView:
    try:
        return await asyncio.to_thread(services.queue.get, handoff_id)
    except HandoffNotFound as exc:
        raise HTTPException(status_code=404, detail=t("handoff_not_found")) from exc


def _over(t: Translator, status: str) -> HTTPException:
    return HTTPException(status_code=409, detail=t("handoff_over", status=t("status_" + status)))


def _holds(who: SignedIn, handoff: HandoffView) -> bool:
    return handoff.status == HandoffStatus.ASSIGNED.value and (
        handoff.agent_id == who.agent.username or who.agent.is_supervisor
    )


def _may_note(who: SignedIn, handoff: HandoffView) -> bool:
    """Private notes: the agent holding the handoff now, or a supervisor (on any handoff)."""
    return who.agent.is_supervisor or (
        handoff.status == HandoffStatus.ASSIGNED.value and handoff.agent_id == who.agent.username
    )


def _may_open(who: SignedIn, handoff: HandoffView) -> bool:
    """Supervisors: every handoff. Agents: the queue and what they hold now."""
    if who.agent.is_supervisor or handoff.status == HandoffStatus.QUEUED.value:
        return True
    return handoff.status == HandoffStatus.ASSIGNED.value and handoff.agent_id == who.agent.username


async def _opened(services: Services, who: SignedIn, handoff_id: int, t: Translator) -> HandoffView:
    """The handoff, if this agent may open it (card, transcript, notes); else 403 (404 when unknown)."""
    handoff = await _handoff(services, handoff_id, t)
    if not _may_open(who, handoff):
        raise HTTPException(status_code=403, detail=t("handoff_supervisors_only"))
    return handoff


async def _held(services: Services, who: SignedIn, handoff_id: int, t: Translator) -> HandoffView:
    """The handoff, if this agent (or a supervisor) has it now; 403 for anyone else, 409 when it is over."""
    handoff = await _handoff(services, handoff_id, t)
    if handoff.status != HandoffStatus.ASSIGNED.value:
        raise _over(t, handoff.status)
    if not _holds(who, handoff):
        raise HTTPException(status_code=403, detail=t("held_by_other"))
    return handoff


async def _transcript(services: Services, conversation_id: str, after: float | None = None) -> list[Message] | None:
    try:
        tracker = await services.rasa.tracker(conversation_id)
    except RasaUnavailable:
        logger.warning("transcript unavailable (conversation=%s)", conversation_id)
        return None
    return read_events(tracker.get("events") or [], after=after)


def _waiting_view(line: HeldLine, t: Translator) -> dict[str, Any]:
    """One message WeChat has not taken yet, with the agent's wording (the page sets every value as text)."""
    return {
        **line.as_dict(),
        "from_label": t("from_" + line.source),
        "reason_label": t("held_reason_" + line.kind),
        "since_label": t("held_since", time=line.held_since.strftime("%Y-%m-%d %H:%M")),
    }


async def _waiting(services: Services, conversation_id: str, t: Translator) -> list[dict[str, Any]]:
    """What waits in the WeChat outbox for this conversation's customer; [] for other channels."""
    if openid_of(conversation_id) is None:
        return []
    lines = await asyncio.to_thread(services.held.for_conversation, conversation_id)
    return [_waiting_view(line, t) for line in lines]


async def _changed(services: Services, handoff: HandoffView) -> None:
    await services.broker.publish(conversation_topic(handoff.conversation_id), {"type": "handoff", "id": handoff.id})
    await services.broker.publish(QUEUE, {"type": "queue"})


def _transfer_agents(services: Services, who: SignedIn) -> list[dict[str, str]]:
    """Colleagues a conversation can be passed to, with their availability (blocking)."""
    status = {a.username: a.status for a in services.agents.roster()}
    return [{"username": a.username, "display_name": a.display_name, "status": status.get(a.username, "offline")}
            for a in services.agents.all() if a.username != who.agent.username]


@router.get("/handoffs/{handoff_id}", response_class=HTMLResponse)
async def card_page(handoff_id: int, request: Request, services: ServicesDep, who: CurrentAgent, t: T) -> HTMLResponse:
    handoff = await _opened(services, who, handoff_id, t)
    card = build_card(handoff, now=services.clock())
    transcript = await _transcript(services, handoff.conversation_id)
    notes = await asyncio.to_thread(services.notes.for_handoff, handoff_id)
    holds = _holds(who, handoff)
    transfer_teams = await asyncio.to_thread(services.desk.teams) if holds else []
    transfer_agents = await asyncio.to_thread(_transfer_agents, services, who) if holds else []
    return render(
        request,
        "handoff.html",
        transfers=await asyncio.to_thread(services.desk.transfers, handoff_id),
        transfer_teams=transfer_teams,
        transfer_agents=transfer_agents,
        card=card,
        wechat=openid_of(handoff.conversation_id) is not None,
        waiting=await _waiting(services, handoff.conversation_id, t),
        handoff=handoff,
        transcript=transcript,
        cursor=transcript[-1].timestamp if transcript else 0.0,
        notes=notes,
        canned=await _canned(services, t.language),
        sla=(await handoff_badges(services, [handoff], t)).get(handoff.id),
        holds=holds,
        may_note=_may_note(who, handoff),
        topics=[topic.value for topic in TICKET_TOPICS],
    )


@router.get("/api/handoffs/{handoff_id}")
async def card_json(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    handoff = await _opened(services, who, handoff_id, t)
    card = build_card(handoff, now=services.clock())
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "status": handoff.status,
        "agent_id": handoff.agent_id,
        "reason": handoff.reason,
        "priority": handoff.priority,
        "summary": handoff.summary,
        "profile": card.profile,
        "sentiment": {"history": list(card.sentiment_history), "trend": card.trend, "emotion": card.emotion},
        "recent_tickets": list(card.recent_tickets),
        "repeat_contacts": card.repeat_contacts,
        "waiting_s": card.waiting_s,
        "customer_notes": list(card.customer_notes),  # lines the customer added while queued
        "refund_withdrawn": card.refund_withdrawn,
        # WeChat only: messages kept until the customer next writes (outside the 48-hour window, ...)
        "held": await _waiting(services, handoff.conversation_id, t),
    }


@router.get("/api/handoffs/{handoff_id}/messages")
async def messages(
    handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T, after: float | None = None
) -> dict[str, Any]:
    handoff = await _opened(services, who, handoff_id, t)
    lines = await _transcript(services, handoff.conversation_id, after)
    if lines is None:
        raise HTTPException(status_code=503, detail=t("transcript_later"))
    return {"messages": [m.as_dict() for m in lines]}


async def transcript_events(
    request: Request, services: Services, handoff: HandoffView, after: float, t: Translator | None = None,
    who: SignedIn | None = None,
) -> AsyncIterator[str]:
    """New transcript lines as they are stored: on every notification about the conversation (the
    console's own chat), and every poll interval for channels that reach Rasa directly. For a WeChat
    conversation also what waits in the outbox (``held``), whenever it changes (first: as it is now).
    With ``who``: the stream ends once that agent may no longer open the handoff (taken, ended)."""
    t = t or Translator(DEFAULT_LANGUAGE)
    wechat = openid_of(handoff.conversation_id) is not None
    shown: list[int] | None = None
    cursor = after
    status = handoff.status
    notes_shown = len(customer_notes(handoff))
    poll_s = services.settings.console_transcript_poll_ms / 1000
    async with services.broker.subscribe(conversation_topic(handoff.conversation_id)) as subscription:
        yield "retry: 1000\n\n"
        note: dict[str, Any] | None = {"type": "transcript"}
        while True:
            if await request.is_disconnected():
                return
            lines = await _transcript(services, handoff.conversation_id, cursor)
            for line in lines or []:
                cursor = max(cursor, line.timestamp)
                yield sse("message", line.as_dict())
            if wechat:
                try:
                    waiting = await _waiting(services, handoff.conversation_id, t)
                except StoreUnavailable:
                    waiting = None  # looked at again on the next poll
                if waiting is not None and [w["id"] for w in waiting] != shown:
                    shown = [w["id"] for w in waiting]
                    yield sse("held", {"messages": waiting})
            current = None
            if note is not None and note.get("type") == "handoff":
                current = await _handoff(services, handoff.id, t)
                yield sse("handoff", {"id": current.id, "status": current.status, "agent_id": current.agent_id})
                if who is not None and not _may_open(who, current):
                    return
            if lines and status == HandoffStatus.QUEUED.value:
                # a customer line while queued may have been kept for the agent, or ended the handoff
                current = current or await _handoff(services, handoff.id, t)
                notes = customer_notes(current)
                if len(notes) != notes_shown or current.status != status:
                    notes_shown = len(notes)
                    yield sse("notes", {"notes": list(notes)})
                if current.status != status:
                    yield sse("handoff", {"id": current.id, "status": current.status, "agent_id": current.agent_id})
            status = current.status if current is not None else status
            if not lines:
                yield ": tick\n\n"
            note = await subscription.next(timeout=poll_s)


@router.get("/api/handoffs/{handoff_id}/stream")
async def transcript_stream(
    handoff_id: int, request: Request, services: ServicesDep, who: CurrentAgent, t: T, after: float = 0.0
) -> StreamingResponse:
    handoff = await _opened(services, who, handoff_id, t)
    return StreamingResponse(
        transcript_events(request, services, handoff, after, t, who),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/api/handoffs/{handoff_id}/messages")
async def send(
    handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T, text: str = Body(..., embed=True)
) -> dict[str, Any]:
    """The agent's line: into the tracker (agent-sent bot event), then to the customer's channel."""
    text = text.strip()
    if not text or len(text) > MESSAGE_MAX:
        raise HTTPException(status_code=422, detail=t("message_length", max=MESSAGE_MAX))
    handoff = await _held(services, who, handoff_id, t)
    try:
        await services.rasa.append_events(handoff.conversation_id, [
            agent_event(text, agent_id=who.agent.username, agent_name=who.agent.public_name)])
    except RasaUnavailable as exc:
        logger.error("agent line not stored (conversation=%s): %s", handoff.conversation_id, exc)
        raise HTTPException(status_code=503, detail=t("line_not_sent")) from exc
    # human first-response time (dashboards)
    await asyncio.to_thread(services.review.note_first_response, handoff.id, who.agent.username)
    try:
        delivered = await services.gateways.send(
            handoff.channel,
            handoff.conversation_id,
            OutboundMessage(text=text, sender="agent", agent_id=who.agent.username,
                            agent_name=who.agent.public_name),  # customers never see the sign-in name
        )
    except ChannelUnavailable:
        logger.warning("agent line kept, not delivered (conversation=%s channel=%s)", handoff.conversation_id,
                       handoff.channel)
        delivered = False
    await services.broker.publish(conversation_topic(handoff.conversation_id), {"type": "transcript"})
    return {"stored": True, "delivered": delivered, "notice": None if delivered else t("not_delivered")}


@router.get("/api/handoffs/{handoff_id}/notes")
async def list_notes(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    await _opened(services, who, handoff_id, t)
    notes = await asyncio.to_thread(services.notes.for_handoff, handoff_id)
    return {"notes": [{"id": n.id, "agent": n.agent_id, "text": n.text, "created_at": n.created_at.isoformat()}
                      for n in notes]}


@router.post("/api/handoffs/{handoff_id}/notes")
async def add_note(
    handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T, text: str = Body(..., embed=True)
) -> dict[str, Any]:
    if not text.strip():
        raise HTTPException(status_code=422, detail=t("note_empty"))
    if not _may_note(who, await _handoff(services, handoff_id, t)):
        raise HTTPException(status_code=403, detail=t("note_not_holder"))
    try:
        note = await asyncio.to_thread(services.notes.add, handoff_id=handoff_id, agent_id=who.agent.username,
                                       text=text)
    except HandoffNotFound as exc:
        raise HTTPException(status_code=404, detail=t("handoff_not_found")) from exc
    return {"id": note.id, "agent": note.agent_id, "text": note.text, "created_at": note.created_at.isoformat()}


async def _deliver_bot(services: Services, handoff: HandoffView, messages: list[dict[str, Any]]) -> bool:
    if not services.gateways.carries_bot_lines(handoff.channel):
        return True  # the channel's output inside Rasa (WeChat) has sent them
    try:
        for message in messages:
            await services.gateways.send(handoff.channel, handoff.conversation_id, OutboundMessage.from_rasa(message))
    except ChannelUnavailable:
        return False
    return True


async def _end(services: Services, who: SignedIn, t: Translator, handoff_id: int, ending: str) -> dict[str, Any]:
    """Close the handoff and resume the bot; while Rasa is out of reach the handoff is closed all the
    same, marked for the sweep to resume it, and the agent is told so (``notice``)."""
    handoff = await _held(services, who, handoff_id, t)
    outbox = services.held if openid_of(handoff.conversation_id) is not None else None
    mark = 0
    if outbox is not None:
        try:
            mark = await asyncio.to_thread(outbox.last_id, handoff.conversation_id)
        except StoreUnavailable:  # ending the handoff does not wait for the outbox
            logger.warning("wechat outbox unread before ending handoff %s", handoff_id)
            outbox = None
    try:
        result = await end_handoff(services.queue, services.rasa, handoff_id, ending)
    except InvalidTransition as exc:
        raise _over(t, exc.current) from exc
    delivered = await _deliver_bot(services, result.handoff, result.messages) if result.resumed else False
    kept = 0
    if outbox is not None and result.resumed and result.messages:
        # the WeChat output inside Rasa has sent the bot's lines (the rating question) before Rasa
        # answered, or kept them in the outbox (48-hour window, allowance): whatever is held since the mark
        try:
            kept = len(await asyncio.to_thread(outbox.for_conversation, handoff.conversation_id,
                                               after_id=mark, source="bot"))
            delivered = kept == 0
        except StoreUnavailable:
            logger.warning("wechat outbox unread after ending handoff %s", handoff_id)
    await _changed(services, result.handoff)
    notice = t("resume_pending") if not result.resumed else t("bot_lines_held") if kept else None
    return {"id": result.handoff.id, "status": result.handoff.status, "bot_messages": len(result.messages),
            "delivered": delivered, "held": kept, "resumed": result.resumed, "notice": notice}


@router.post("/api/handoffs/{handoff_id}/resolve")
async def resolve(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    """Resolved: the bot resumes and asks the customer for a rating in their channel."""
    return await _end(services, who, t, handoff_id, RESOLVED)


@router.post("/api/handoffs/{handoff_id}/back-to-bot")
async def back_to_bot(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    """Back to the bot without a rating question."""
    return await _end(services, who, t, handoff_id, BACK_TO_BOT)


@router.post("/api/handoffs/{handoff_id}/requeue")
async def requeue(handoff_id: int, services: ServicesDep, who: CurrentAgent, t: T) -> dict[str, Any]:
    held = await _held(services, who, handoff_id, t)
    try:
        handoff = await asyncio.to_thread(services.queue.transition, handoff_id, HandoffStatus.QUEUED)
    except InvalidTransition as exc:
        raise _over(t, exc.current) from exc
    # auto-assignment offers it to someone else (the holder put it back)
    await asyncio.to_thread(services.desk.passed_on, handoff_id, held.agent_id or who.agent.username)
    await _changed(services, handoff)
    return {"id": handoff.id, "status": handoff.status}


@router.post("/api/handoffs/{handoff_id}/tickets")
async def open_ticket(
    handoff_id: int,
    services: ServicesDep,
    who: CurrentAgent,
    t: T,
    topic: str = Body(...),
    subject: str = Body(...),
) -> dict[str, Any]:
    handoff = await _held(services, who, handoff_id, t)
    if topic not in {tp.value for tp in TICKET_TOPICS} or not subject.strip():
        raise HTTPException(status_code=422, detail=t("ticket_fields"))
    record = await asyncio.to_thread(
        services.tickets.record_contact,
        customer_id=handoff.customer_id,
        conversation_id=handoff.conversation_id,
        channel=handoff.channel,
        topic=topic,
        order_id=(handoff.package.get("summary_facts") or {}).get("order_id"),
        subject=subject.strip(),
    )
    return {"ticket_id": record.ticket.id, "created": record.created, "notice": t("ticket_opened", id=record.ticket.id)}


async def _canned(services: Services, language: str) -> list[Any]:
    """The canned replies supervisors keep in the console (desk.canned), in the agent's language."""
    return await asyncio.to_thread(services.canned.replies, language)


@router.get("/api/canned")
async def canned(services: ServicesDep, t: T) -> dict[str, Any]:
    return {"language": t.language, "replies": [{"id": c.id, "title": c.title, "text": c.text}
                                                for c in await _canned(services, t.language)]}
