"""One unit of work per public store call, with database errors turned into StoreUnavailable."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from common.db import StoreUnavailable


@contextmanager
def unit_of_work(factory: sessionmaker) -> Iterator[Session]:
    try:
        with factory.begin() as session:
            yield session
    except (OperationalError, DBAPIError) as exc:
        if getattr(exc, "connection_invalidated", False) or isinstance(exc, OperationalError):
            raise StoreUnavailable(str(exc.orig) if exc.orig else str(exc)) from exc
        raise
