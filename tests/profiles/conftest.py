"""Profiles tests: the generic fixtures (``thresholds``, ``today``, ``clock``, ``engine``,
``session_factory``, ``seeded_template``, ``seeded``, ``store``) live in ``tests/conftest.py``.

``Order.amount`` is ``Numeric(asdecimal=False)``, so SQLite's Decimal warning no longer occurs.
"""

from __future__ import annotations

import pytest

from demo.seed import DEMO_CAST


@pytest.fixture
def demo_cast() -> dict[str, str]:
    """Demo external id -> customer id (``demo.seed.DEMO_CAST``)."""
    return dict(DEMO_CAST)
