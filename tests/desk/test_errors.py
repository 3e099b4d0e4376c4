"""desk/errors.py draws the DeskError tree: it must be the tree the code has."""

from __future__ import annotations

import re

import desk.agents
import desk.errors
import desk.gateway
import desk.privacy
import desk.rasa_client
import desk.teams
import desk.ticket_inbox
import desk.weekly_report
from desk.errors import DeskError

MODULES = (desk.errors, desk.agents, desk.privacy, desk.rasa_client, desk.gateway, desk.ticket_inbox,
           desk.teams, desk.weekly_report)


def drawn_tree() -> dict[str, str]:
    """Class name -> parent name, read from the module's docstring."""
    parents: dict[str, str] = {}
    path: list[str] = []
    for line in (desk.errors.__doc__ or "").splitlines():
        if line.startswith("DeskError"):
            path = ["DeskError"]
            continue
        match = re.match(r"^([│ ]*)[├└]── (\w+)", line)
        if match and path:
            depth = len(match.group(1)) // 4 + 1
            del path[depth:]
            parents[match.group(2)] = path[-1]
            path.append(match.group(2))
    return parents


def real_tree() -> dict[str, str]:
    found: dict[str, str] = {}
    pending = [DeskError]
    while pending:
        parent = pending.pop()
        for child in parent.__subclasses__():
            if child.__module__.startswith("desk."):
                found[child.__name__] = parent.__name__
                pending.append(child)
    return found


def test_the_drawn_tree_is_the_real_one() -> None:
    for module in MODULES:
        assert module  # every module that defines a desk error is imported before the tree is read
    assert drawn_tree() == real_tree()


def test_store_unavailable_is_not_drawn_as_a_desk_error() -> None:
    assert not issubclass(desk.errors.StoreUnavailable, DeskError)
    assert "StoreUnavailable" not in drawn_tree()
