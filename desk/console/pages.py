"""Server-rendered pages: one Jinja2 environment with autoescaping on for every template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from desk.console.i18n import LANG_COOKIE, Translator, pick_language

TEMPLATES = Path(__file__).with_name("templates")


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=True),
    )
    return env


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    t = Translator(pick_language(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")))
    who = getattr(request.state, "signed_in", None)
    html = env.get_template(template).render(
        request=request, t=t, lang=t.language, who=who, csrf_token=who.csrf_token if who else "", **context
    )
    return HTMLResponse(html, status_code=status_code)


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event frame."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"
