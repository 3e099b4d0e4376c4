"""Issue 11 item 12 (the bot/channel side): every buffer has a bound and a clear behaviour at the bound.

* the console's WebSocket server refuses a frame past ``WS_MAX_BYTES`` while reading it (close 1009),
  instead of reading up to 16 MiB first (a real uvicorn server on loopback, the real console app);
* the Redis rate limiter falls back to a bounded in-process budget while Redis is down (a real
  redis URL nobody listens on);
* trackers and archive events held during a database outage are bounded (oldest dropped, logged).
"""

from __future__ import annotations

import asyncio
import logging

import pytest
import uvicorn
import websockets

from common.ratelimit import RedisRateLimiter
from desk.console.__main__ import WS_MAX_BYTES, uvicorn_options
from devtools.wechat_sim.simulator import free_port
from tests.desk.console.conftest import Console


async def test_an_oversized_websocket_frame_is_refused_while_it_is_read(console: Console) -> None:
    port = free_port()
    options = {**uvicorn_options(), "host": "127.0.0.1", "port": port, "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(console.app, **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.05)
        assert WS_MAX_BYTES <= 256 * 1024
        async with websockets.connect(f"ws://127.0.0.1:{port}/widget/ws", max_size=None) as socket:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await socket.send("x" * (WS_MAX_BYTES + 1))
                await asyncio.wait_for(socket.recv(), timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
        # a normal hello still works
        async with websockets.connect(f"ws://127.0.0.1:{port}/widget/ws") as socket:
            await socket.send('{"type": "hello", "token": null, "guest": null}')
            assert "welcome" in await asyncio.wait_for(socket.recv(), timeout=10)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def test_the_redis_limiter_keeps_a_bounded_budget_while_redis_is_down(caplog) -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", per_minute=60, burst=3)
    with caplog.at_level(logging.WARNING):
        answers = [await limiter.allow("sender-a") for _ in range(10)]
    assert answers[:3] == [True, True, True] and not any(answers[3:])
    assert await limiter.allow("sender-b")  # another sender has its own budget
    assert any("Redis unavailable" in r.getMessage() for r in caplog.records)
