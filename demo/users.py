"""The demo console users (development only; refused when ENVIRONMENT=production by the command that
seeds them, ``python -m desk.console.users seed-demo``). Documented in desk/console/README.md."""

from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from desk.agents import AgentStore
from desk.models import AgentRole

DEMO_USERS: tuple[tuple[str, str, str, str], ...] = (
    ("agent1", "agent1-demo-pass", AgentRole.AGENT.value, "小李"),
    ("agent2", "agent2-demo-pass", AgentRole.AGENT.value, "Sam"),
    ("supervisor", "supervisor-demo-pass", AgentRole.SUPERVISOR.value, "王主管"),
)
# The display name is what customers see: never the sign-in name (desk.agents.AgentView.public_name).
DEMO_PASSWORDS = frozenset(password for _, password, _, _ in DEMO_USERS)  # published: refused outside development


def seed_demo_users(session_factory: sessionmaker) -> list[str]:
    """Create the demo users that do not exist yet; returns the usernames created."""
    store = AgentStore(session_factory)
    created = []
    for username, password, role, name in DEMO_USERS:
        if store.get(username) is None:
            store.add(username=username, password=password, role=role, display_name=name)
            created.append(username)
    return created
