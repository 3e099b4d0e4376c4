"""Callback tickets promised while the database was down: spooled on local disk, written when it is back.

When the application database is unreachable the bot still tells the customer that their request is
saved as a callback ticket (``utter_handoff_unavailable``). ``CallbackOutbox.add`` makes that true: it
appends the request to a JSON-lines file (``OUTBOX_DIR``, one file shared by the processes of a host,
under an exclusive ``flock``), and ``flush`` (the action server runs it every few seconds) turns every
spooled request into a ticket through ``TicketStore.record_contact``, keeping whatever could not be
written yet. ``record_contact`` adds a conversation's contact to the open ticket of the same topic, so a
request written twice (a crash between writing and truncating) still makes one ticket.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from common.db import StoreUnavailable
from desk.tickets import TicketStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallbackRequest:
    conversation_id: str
    channel: str
    topic: str
    subject: str
    customer_id: str | None = None
    order_id: str | None = None
    requested_at: str = ""


class CallbackOutbox:
    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / "callbacks.jsonl"

    @contextmanager
    def _locked(self) -> Iterator[IO[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as spool:
            fcntl.flock(spool, fcntl.LOCK_EX)
            try:
                yield spool
            finally:
                fcntl.flock(spool, fcntl.LOCK_UN)

    def add(self, request: CallbackRequest) -> None:
        if not request.requested_at:
            request = CallbackRequest(**{**asdict(request), "requested_at": datetime.utcnow().isoformat()})
        with self._locked() as spool:
            spool.write(json.dumps(asdict(request), ensure_ascii=False) + "\n")
            spool.flush()
            os.fsync(spool.fileno())
        logger.warning("callback for conversation %s kept in the outbox until the database returns",
                       request.conversation_id)

    def pending(self) -> list[CallbackRequest]:
        with self._locked() as spool:
            spool.seek(0)
            return [CallbackRequest(**json.loads(line)) for line in spool.read().splitlines() if line.strip()]

    def flush(self, tickets: TicketStore) -> int:
        """Write every spooled request as a ticket (oldest first); stop at the first database error."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0
        written = 0
        with self._locked() as spool:
            spool.seek(0)
            lines = [line for line in spool.read().splitlines() if line.strip()]
            for line in lines:
                request = CallbackRequest(**json.loads(line))
                try:
                    tickets.record_contact(
                        customer_id=request.customer_id, conversation_id=request.conversation_id,
                        channel=request.channel, topic=request.topic, order_id=request.order_id,
                        subject=request.subject,
                    )
                except StoreUnavailable:
                    break
                written += 1
            spool.seek(0)
            spool.truncate()
            spool.writelines(line + "\n" for line in lines[written:])
            spool.flush()
        if written:
            logger.warning("outbox: %d callback ticket(s) written now that the database is back", written)
        return written
