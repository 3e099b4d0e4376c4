"""``python -m desk.console``: serve the agent console (host, port and Rasa URL from common.settings)."""

from __future__ import annotations

import logging

import uvicorn

from common.logging import install_masking
from common.settings import get_settings
from desk.console.app import create_app


def main() -> None:
    settings = get_settings()
    install_masking()
    logging.basicConfig(level=settings.log_level)
    app = create_app(settings)
    print(f"Agent console on http://{settings.console_host}:{settings.console_port}/ (Rasa at {settings.rasa_url})")
    uvicorn.run(app, host=settings.console_host, port=settings.console_port, log_level=settings.log_level.lower(),
                timeout_graceful_shutdown=3)


if __name__ == "__main__":
    main()
