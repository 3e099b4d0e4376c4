"""Sign-in, sessions and CSRF: hashed passwords, HttpOnly SameSite cookies, expiry, tokens checked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from desk.agents import AgentExists, AgentStore
from desk.console.routes.auth import LoginThrottle
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
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("desk_session=")).lower()
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


def _attempt(client, username: str, password: str, language: str = "en"):  # type: ignore[no-untyped-def]
    page = client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                       headers={"Accept-Language": language}, follow_redirects=False)


def test_failed_sign_ins_are_throttled_per_username(console: Console) -> None:
    client = console.client()
    for _ in range(5):  # LOGIN_MAX_FAILURES_PER_USER
        assert _attempt(client, "agent1", "wrong password").status_code == 401
    throttled = _attempt(client, "Agent1", PASSWORD)  # even the right password waits; names ignore case
    assert throttled.status_code == 429 and 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    assert "please wait a few minutes" in throttled.text
    assert "稍候几分钟" in _attempt(client, "agent1", PASSWORD, language="zh").text
    assert "desk_session" not in client.cookies
    assert _attempt(client, "agent2", PASSWORD).status_code == 303  # another username from the same address


def test_a_successful_sign_in_clears_the_usernames_failures(console: Console) -> None:
    client = console.client()
    for _ in range(4):
        assert _attempt(client, "agent1", "wrong password").status_code == 401
    assert _attempt(client, "agent1", PASSWORD).status_code == 303
    for _ in range(4):
        assert _attempt(client, "agent1", "wrong password").status_code == 401
    assert _attempt(client, "agent1", PASSWORD).status_code == 303


def test_failed_sign_ins_are_throttled_per_client_address(console: Console) -> None:
    client = console.client()
    for n in range(20):  # LOGIN_MAX_FAILURES_PER_IP, each username tried once
        assert _attempt(client, f"guess{n}", "wrong password").status_code == 401
    assert _attempt(client, "agent1", PASSWORD).status_code == 429


def test_the_throttle_forgets_failures_older_than_the_window() -> None:
    now = [1000.0]
    throttle = LoginThrottle(per_user=2, per_ip=0, window_s=900, clock=lambda: now[0])
    throttle.failed("li.na", "10.0.0.1")
    now[0] += 600
    throttle.failed("li.na", "10.0.0.1")
    assert throttle.retry_after("li.na", "10.0.0.1") == 300  # the first failure leaves the window then
    assert throttle.retry_after("li.na", "10.0.0.2") == 0  # the pair (user, address) is throttled, not the user
    now[0] += 300
    assert throttle.retry_after("li.na", "10.0.0.1") == 0
    throttle.failed("li.na", "10.0.0.1")
    assert throttle.retry_after("li.na", "10.0.0.1") == 600
    throttle.succeeded("LI.NA", "10.0.0.1")
    assert throttle.retry_after("li.na", "10.0.0.1") == 0


@pytest.mark.parametrize("language, expected", [("zh", ("请先登录", "您的角色没有权限访问此页面", "页面已过期，请刷新后再试")),
                                                ("en", ("Please sign in", "Your role may not open this page",
                                                        "This page has expired; please reload it and try again"))])
def test_refusals_are_worded_in_the_agents_language(console: Console, language: str, expected: tuple) -> None:
    headers = {"Accept-Language": language}
    assert console.client().get("/api/queue", headers=headers).json()["detail"] == expected[0]
    agent = console.client("agent1")
    assert agent.get("/supervisor/api/transcripts", headers=headers).json()["detail"] == expected[1]
    refused = agent.post("/api/handoffs/1/claim", headers={**headers, "X-CSRF-Token": "forged"})
    assert refused.status_code == 403 and refused.json()["detail"] == expected[2]
