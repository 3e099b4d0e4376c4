"""The app around the routes: what a request meets whatever route it asks for."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from common.db import make_engine, make_session_factory
from common.settings import Settings
from desk.console.app import create_app
from tests.utils.services import free_port


@pytest.mark.parametrize(("language", "expected"), [("en", "The database is unavailable at the moment"),
                                                    ("zh-CN,zh;q=0.9", "数据库暂时连接不上")])
def test_an_unreachable_database_is_a_503_in_the_agents_language(language: str, expected: str) -> None:
    # the real store on a PostgreSQL URL where nothing listens
    engine = make_engine(f"postgresql+psycopg2://nobody@127.0.0.1:{free_port()}/none")
    app = create_app(Settings(), session_factory=make_session_factory(engine), gateways={}, watch_queue=False)
    with TestClient(app) as client:
        response = client.get("/api/queue", headers={"Cookie": "desk_session=any", "Accept-Language": language})
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["detail"].startswith(expected)
