"""What the console's routes use, built once per app by ``create_app`` (nothing at import)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping

from sqlalchemy.orm import sessionmaker

from common.ratelimit import RateLimiter, limiter_from_settings
from common.settings import Settings
from desk.agents import AgentStore
from desk.console.timeouts import QueueTimeouts
from desk.console.watch import QueueWatcher
from desk.gateway import ChannelGateway, GatewayRouter
from desk.handoffs import HandoffQueue
from desk.live import Broker, InProcessBroker
from desk.notes import NoteStore
from desk.rasa_client import RasaClient
from desk.review import ReviewStore
from desk.ticket_inbox import TicketInbox
from desk.tickets import TicketStore
from desk.wechat_held import HeldMessages
from profiles.vault import PiiVault


@dataclass
class Services:
    settings: Settings
    agents: AgentStore
    queue: HandoffQueue
    notes: NoteStore
    tickets: TicketStore
    rasa: RasaClient
    broker: Broker
    gateways: GatewayRouter
    watcher: QueueWatcher
    clock: Callable[[], datetime]
    review: ReviewStore | None = None  # supervisor review and dashboards (issue 5)
    timeouts: QueueTimeouts | None = None  # queued handoffs nobody took: timed out / abandoned
    limiter: RateLimiter | None = None  # customer lines per sender on the web chat sockets (None = no limit)
    held: HeldMessages | None = None  # what WeChat has not taken yet (wechat_outbox), shown on the card
    inbox: TicketInbox | None = None  # the tickets and callbacks inbox

    @classmethod
    def build(
        cls,
        settings: Settings,
        session_factory: sessionmaker,
        *,
        rasa: RasaClient | None = None,
        broker: Broker | None = None,
        gateways: Mapping[str, ChannelGateway] | None = None,
        clock: Callable[[], datetime] = datetime.utcnow,
    ) -> "Services":
        broker = broker or InProcessBroker()
        queue = HandoffQueue(session_factory, clock=clock, max_queued_guests=settings.handoff_max_queued_guests,
                             max_queued=settings.handoff_max_queued,
                             guest_requests_per_hour=settings.handoff_guest_requests_per_hour)
        services = cls(
            settings=settings,
            agents=AgentStore(
                session_factory, session_ttl=timedelta(hours=settings.console_session_hours), clock=clock
            ),
            queue=queue,
            notes=NoteStore(session_factory, clock=clock),
            tickets=TicketStore(session_factory, window_days=settings.repeat_contact_window_days, clock=clock),
            rasa=rasa or RasaClient(settings.rasa_url, token=settings.rasa_token),
            broker=broker,
            gateways=GatewayRouter.with_web(broker, gateways) if gateways is not None
            else GatewayRouter.from_settings(settings, broker),
            watcher=QueueWatcher(queue, broker, interval_s=settings.console_queue_poll_ms / 1000),
            clock=clock,
        )
        services.review = ReviewStore(
            session_factory, vault=PiiVault(session_factory, secret=settings.pii_vault_key), clock=clock
        )
        services.held = HeldMessages(session_factory)
        services.inbox = TicketInbox(session_factory, clock=clock)
        services.limiter = limiter_from_settings(settings, prefix="ratelimit:web:")
        services.timeouts = QueueTimeouts(
            queue, services.rasa, services.tickets, broker, services.gateways,
            timeout_minutes=settings.handoff_timeout_minutes, abandon_minutes=settings.handoff_abandon_minutes,
            interval_s=settings.queue_sweep_s, clock=clock,
        )
        return services
