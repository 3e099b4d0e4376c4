"""``python -m actions.server``: ``rasa run actions``, reachable only from Rasa.

Same arguments as ``rasa run actions`` (``--actions``, ``--port``, ``--cors``, SSL, ``--auto-reload``,
logging) and the same app (``rasa_sdk.endpoint.create_app``), plus:

* it listens on ``ACTION_HOST`` (loopback by default; rasa-sdk binds every interface);
* when ``ACTION_SERVER_TOKEN`` is set, ``/webhook`` and ``/actions`` answer 401 unless the request
  carries it in the ``X-Action-Token`` header, which Rasa sends (``headers`` of ``action_endpoint``
  in ``bot/endpoints.yml``); ``/health`` stays open for probes;
* request bodies over ``MAX_BODY_BYTES`` x 16 are refused (a tracker with long history is bigger
  than a customer's line, so the action server allows more than the channels);
* every log record is masked (``common.logging``);
* every ``OUTBOX_FLUSH_S`` seconds the callback tickets spooled while the database was down are
  written (``desk/outbox.py``).
"""

from __future__ import annotations

import argparse
import hmac
import logging
from collections.abc import Sequence

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from common.logging import install_masking
from common.settings import Settings, get_settings

TOKEN_HEADER = "X-Action-Token"
OPEN_PATHS = frozenset({"/health"})
BODY_FACTOR = 16


def add_token_check(app: Sanic, token: str | None) -> None:
    """Refuse (401) every request but ``/health`` that lacks ``token`` in ``X-Action-Token``."""
    if not token:
        return
    expected = token.encode()

    @app.middleware("request")
    async def _require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        sent = (request.headers.get(TOKEN_HEADER) or "").encode()
        if not hmac.compare_digest(sent, expected):
            return response.json({"error": "unauthorised"}, status=401)
        return None


def build_app(
    actions: str = "actions", *, settings: Settings | None = None, cors: str | list[str] | None = None,
    auto_reload: bool = False,
) -> Sanic:
    from rasa_sdk.endpoint import create_app

    settings = settings or get_settings()
    app = create_app(actions, cors_origins=cors, auto_reload=auto_reload)
    app.config.REQUEST_MAX_SIZE = settings.max_body_bytes * BODY_FACTOR
    add_token_check(app, settings.action_server_token)
    add_outbox_flusher(app, settings.outbox_flush_s)
    return app


def add_outbox_flusher(app: Sanic, every_s: int) -> None:
    """Every ``every_s`` seconds, write the callback tickets spooled while the database was down (desk/outbox.py)."""
    if every_s <= 0:
        return

    async def _flush_forever(app: Sanic) -> None:
        import asyncio

        from actions import providers

        while True:
            await asyncio.sleep(every_s)
            try:
                await asyncio.to_thread(providers.callback_outbox().flush, providers.ticket_store())
            except Exception:  # the database may still be down (or the engine not built yet): next round
                logging.getLogger(__name__).debug("outbox flush postponed", exc_info=True)

    @app.after_server_start
    async def _start_flusher(app: Sanic, _loop: object) -> None:
        app.add_task(_flush_forever(app))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from rasa_sdk.endpoint import create_argument_parser

    parser: argparse.ArgumentParser = create_argument_parser()
    parser.add_argument("--interface", default=None, help="address to listen on (default: ACTION_HOST)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_ssl_context

    args = parse_args(argv)
    settings = get_settings()
    install_masking()
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    app = build_app(args.actions, settings=settings, cors=args.cors, auto_reload=args.auto_reload)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = args.interface or settings.action_host
    logging.getLogger(__name__).info(
        "action server on %s://%s:%s (token %s)", "https" if ssl_context else "http", host, args.port,
        "required" if settings.action_server_token else "not required",
    )
    app.run(host, int(args.port), ssl=ssl_context, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
