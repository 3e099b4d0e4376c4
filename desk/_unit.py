"""One unit of work per public store call, with database errors turned into StoreUnavailable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
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


T = TypeVar("T")


def retry_on_conflict(work: Callable[[], T], attempts: int = 3) -> T:
    """Run ``work`` (one unit of work) again when a concurrent writer won a unique constraint.

    Get-or-create paths read first and insert when nothing is there; two processes can both see
    nothing. The database's unique constraint stops the second insert, and the retry then reads the
    winner's row, so the caller gets the one row either way instead of an IntegrityError.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")
