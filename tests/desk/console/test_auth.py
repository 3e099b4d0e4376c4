"""Sign-in, sessions and CSRF: hashed passwords, HttpOnly SameSite cookies, expiry, tokens checked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from desk.agents import AgentExists, AgentStore
from desk.passwords import WeakPassword, hash_password, verify_password
from tests.conftest import MovableClock
from tests.desk.console.conftest import PASSWORD, Console, sign_in


def test_passwords_are_scrypt_with_a_salt_of_their_own() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$") and first != second  # per-user salt
    assert PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password("wrong password!", first)
    assert not verify_password(PASSWORD, "md5$nonsense")
    with pytest.raises(WeakPassword):
        hash_password("short")


def test_a_username_is_unique(console: Console) -> None:
    with pytest.raises(AgentExists):
        console.agents.add(username="agent1", password=PASSWORD, role="agent")


def test_sign_in_sets_a_protected_session_cookie(console: Console) -> None:
    client = console.client()
    page = client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    response = client.post("/login", data={"username": "agent1", "password": PASSWORD, "csrf_token": token},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = [h for h in response.headers.get_list("set-cookie") if h.startswith("desk_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "max-age=28800" in cookie
    assert client.get("/api/queue").status_code == 200


@pytest.mark.parametrize(("username", "password"), [("agent1", "wrong password"), ("nobody", PASSWORD)])
def test_wrong_credentials_are_refused(console: Console, username: str, password: str) -> None:
    client = console.client()
    page = client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 401
    assert client.get("/api/queue").status_code == 401


def test_sign_in_without_the_forms_token_is_refused(console: Console) -> None:
    response = console.client().post("/login", data={"username": "agent1", "password": PASSWORD})
    assert response.status_code == 403


def test_redirect_after_sign_in_stays_on_this_site(console: Console) -> None:
    client = console.client()
    page = client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    response = client.post("/login", data={"username": "agent1", "password": PASSWORD, "csrf_token": token,
                                           "next": "//evil.example/"}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_state_changes_need_the_sessions_csrf_token(console: Console) -> None:
    from tests.desk.console.conftest import enqueue

    handoff_id = enqueue(console.queue)
    client = console.client("agent1")
    assert client.post(f"/api/handoffs/{handoff_id}/claim").status_code == 403
    assert client.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": "forged"}).status_code == 403
    other = console.client("agent2")  # another session's token is no good either
    assert client.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": other.csrf}).status_code == 403
    assert client.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": client.csrf}).status_code == 200


def test_sign_out_ends_the_session(console: Console) -> None:
    client = console.client("agent1")
    response = client.post("/logout", data={"csrf_token": client.csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert client.get("/api/queue").status_code == 401


def test_sessions_expire(seeded) -> None:  # type: ignore[no-untyped-def]
    clock = MovableClock()
    store = AgentStore(seeded, session_ttl=timedelta(hours=8), clock=clock)
    agent = store.add(username="night", password=PASSWORD, role="agent")
    token, session = store.start_session(agent.id)
    assert store.signed_in(token) == session
    assert store.signed_in(token + "x") is None
    clock.advance(hours=8, seconds=1)
    assert store.signed_in(token) is None


def test_a_deactivated_user_is_signed_out(console: Console) -> None:
    client = console.client("agent2")
    console.agents.deactivate("agent2")
    assert client.get("/api/queue").status_code == 401
    fresh = console.client()
    page = fresh.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    assert fresh.post("/login", data={"username": "agent2", "password": PASSWORD, "csrf_token": token}).status_code == 401


def test_sign_in_helper_signs_in(console: Console) -> None:
    client = console.client()
    sign_in(client, "boss")
    assert client.get("/supervisor/api/agents").status_code == 200
