"""The console's Services: built once, complete, and frozen (nothing is set on it afterwards)."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import sessionmaker

from common.settings import Settings
from desk.console.services import Services


def test_services_are_built_complete(session_factory: sessionmaker) -> None:
    services = Services.build(Settings(), session_factory)
    for spec in dataclasses.fields(services):
        if spec.name != "limiter":  # None means "no limit" (RATE_LIMIT_PER_MINUTE=0)
            assert getattr(services, spec.name) is not None, spec.name
    assert services.limiter is not None


def test_services_are_frozen(session_factory: sessionmaker) -> None:
    services = Services.build(Settings(), session_factory)
    with pytest.raises(dataclasses.FrozenInstanceError):
        services.settings = dataclasses.replace(services.settings, environment="production")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        services.review = None  # type: ignore[misc]


def test_a_changed_copy_leaves_the_original_alone(session_factory: sessionmaker) -> None:
    services = Services.build(Settings(), session_factory)
    production = dataclasses.replace(services, settings=dataclasses.replace(services.settings, environment="staging"))
    assert production.settings.is_production and not services.settings.is_production
    assert production.queue is services.queue
