"""What the console's routes use, built once per app by ``create_app`` (nothing at import).

Frozen: built complete in :meth:`Services.build` and never changed afterwards; a variant (another
setting, a recording Rasa client in tests) is a new value made with ``dataclasses.replace``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import sessionmaker

from common.db import make_engine
from common.ratelimit import RateLimiter, limiter_from_settings
from common.settings import Settings
from desk.agents import AgentStore
from desk.canned import CannedStore
from desk.care import CareStore
from desk.console.assigner import AutoAssigner
from desk.console.timeouts import QueueTimeouts
from desk.console.watch import QueueWatcher
from desk.gateway import ChannelGateway, GatewayRouter
from desk.handoffs import HandoffQueue
from desk.labels import LabelStore
from desk.live import Broker, broker_from_settings
from desk.notes import NoteStore
from desk.rasa_client import RasaClient
from desk.reports import Reports
from desk.review import ReviewStore
from desk.search import IndexKeeper, TranscriptSearch
from desk.sla_store import SlaStore
from desk.teams import TeamDesk
from desk.ticket_inbox import TicketInbox
from desk.tickets import TicketStore
from desk.wechat_held import HeldMessages
from desk.weekly_report import WeeklyReports
from profiles.offers import OfferStore, load_offer_rules
from profiles.segmentation import load_thresholds
from profiles.store import ProfileStore
from profiles.vault import PiiVault


@dataclass(frozen=True)
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
    review: ReviewStore  # supervisor review and dashboards
    timeouts: QueueTimeouts  # queued handoffs nobody took: timed out / abandoned
    limiter: RateLimiter | None  # customer lines per sender on the web chat sockets (None = no limit)
    held: HeldMessages  # what WeChat has not taken yet (wechat_outbox), shown on the card
    inbox: TicketInbox  # the tickets and callbacks inbox
    desk: TeamDesk  # teams, routing, transfer, auto-assignment
    assigner: AutoAssigner  # the periodic auto-assignment (and availability) task
    sla: SlaStore  # SLA states in the queue and the inbox, the SLA report
    weekly: WeeklyReports  # the stored weekly reports (written by the scheduled job, or by a supervisor)
    # context, canned replies, reports and search (routes/canned.py, context.py, reports.py)
    canned: CannedStore
    labels: LabelStore
    reports: Reports
    search: TranscriptSearch
    indexer: IndexKeeper  # keeps the search index in step in the background (SEARCH_INDEX_S)
    care: CareStore  # proactive messages: the widget's waiting ones, the review's list
    offers: OfferStore  # offers issued and redeemed, by experiment arm (the dashboard's card)
    profiles: ProfileStore  # the widget reads a declared accessibility need (larger text)

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
    ) -> Services:
        broker = broker or broker_from_settings(settings)  # Redis pub/sub when REDIS_URL is set
        queue = HandoffQueue(session_factory, clock=clock, max_queued_guests=settings.handoff_max_queued_guests,
                             max_queued=settings.handoff_max_queued,
                             guest_requests_per_hour=settings.handoff_guest_requests_per_hour)
        tickets = TicketStore(session_factory, window_days=settings.repeat_contact_window_days, clock=clock)
        rasa = rasa or RasaClient(settings.rasa_url, token=settings.rasa_token)
        router = (GatewayRouter.with_web(broker, gateways) if gateways is not None
                  else GatewayRouter.from_settings(settings, broker))
        agents = AgentStore(session_factory, session_ttl=timedelta(hours=settings.console_session_hours), clock=clock)
        timeouts = QueueTimeouts(
            queue, rasa, tickets, broker, router,
            timeout_minutes=settings.handoff_timeout_minutes, abandon_minutes=settings.handoff_abandon_minutes,
            interval_s=settings.queue_sweep_s, clock=clock,
        )
        desk = TeamDesk(session_factory, queue, agents, clock=clock)
        search = TranscriptSearch(session_factory, clock=clock)
        return cls(
            settings=settings,
            agents=agents,
            queue=queue,
            notes=NoteStore(session_factory, clock=clock),
            tickets=tickets,
            rasa=rasa,
            broker=broker,
            gateways=router,
            watcher=QueueWatcher(queue, broker, interval_s=settings.console_queue_poll_ms / 1000),
            clock=clock,
            review=ReviewStore(
                session_factory, vault=PiiVault(session_factory, secret=settings.pii_vault_key), clock=clock
            ),
            timeouts=timeouts,
            limiter=limiter_from_settings(settings, prefix="ratelimit:web:"),
            held=HeldMessages(session_factory),
            inbox=TicketInbox(session_factory, clock=clock),
            sla=SlaStore(session_factory, clock=clock, thresholds=load_thresholds(settings.segments_file)),
            # the tracker store's engine is made here but connects only when a supervisor writes a week
            weekly=WeeklyReports(session_factory, tracker=make_engine(settings.tracker_db_url), clock=clock,
                                 thresholds=load_thresholds(settings.segments_file)),
            canned=CannedStore(session_factory, forbidden_words_file=settings.forbidden_words_file, clock=clock),
            labels=LabelStore(session_factory, clock=clock),
            reports=Reports(session_factory),
            search=search,
            indexer=IndexKeeper(search, lambda conversation_id: rasa.tracker(conversation_id),
                                interval_s=settings.search_index_s, clock=clock),
            desk=desk,
            assigner=AutoAssigner(desk, agents, queue, broker, timeouts,
                                  interval_s=settings.console_queue_poll_ms / 1000),
            care=CareStore(session_factory),
            offers=OfferStore(session_factory, rules=load_offer_rules(settings.offers_file), clock=clock),
            profiles=ProfileStore(session_factory, thresholds=load_thresholds(settings.segments_file), clock=clock),
        )
