"""Fixtures borrowed from the console's tests (a console app on the seeded database)."""

from tests.desk.console.conftest import console, console_factory  # noqa: F401
