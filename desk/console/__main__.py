"""``python -m desk.console``: serve the agent console (host, port and Rasa URL from common.settings)."""

from __future__ import annotations

import logging
from typing import Any

import uvicorn

from common.logging import install_masking
from common.settings import get_settings
from desk.console.app import create_app

# Largest WebSocket message the server reads (uvicorn's default is 16 MiB): a bigger frame is refused while
# it arrives (close 1009). Widget frames are at most 16 KiB (desk/console/routes/widget.py FRAME_MAX).
WS_MAX_BYTES = 64 * 1024


def uvicorn_options() -> dict[str, Any]:
    """The server options besides host, port and log level."""
    return {"timeout_graceful_shutdown": 3, "ws_max_size": WS_MAX_BYTES}


def main() -> None:
    settings = get_settings()
    install_masking()
    logging.basicConfig(level=settings.log_level)
    app = create_app(settings)
    print(f"Agent console on http://{settings.console_host}:{settings.console_port}/ (Rasa at {settings.rasa_url})")
    uvicorn.run(app, host=settings.console_host, port=settings.console_port, log_level=settings.log_level.lower(),
                proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips, **uvicorn_options())


if __name__ == "__main__":
    main()
