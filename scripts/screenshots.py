"""Screenshots of the console for the README: the queue, the handoff card, the tickets inbox and the
dashboard, in zh and en, written to ``docs/screenshots/<page>-<lang>.png``.

    make screenshots                       # or: .venv/bin/python scripts/screenshots.py [--out DIR]

It needs ``models/assistant.tar.gz`` (``make train``) and Debian's ``chromium`` (``scripts/system_deps.sh``);
Playwright drives it, no browser is downloaded. Everything runs on loopback and is thrown away afterwards:
a fresh SQLite database seeded with the demo data (``demo.seed``) and the demo console users
(``demo.users``), the action server, the Rasa server and the console, started by the shared launcher
(``devtools/stack.py``). Before the pictures, demo customers talk to the real assistant on Rasa's REST
channel (questions the bot answers, a refund, a complaint, a request for a person), and ``agent1``
takes two handoffs on the console's API: one is answered, resolved and rated by its customer (the
dashboard has a day with a rating), the other stays open on the card. The pictures show what a demo
console shows; rerun the script after the pages change.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devtools.stack import (  # noqa: E402  the one launcher of our servers
    StartFailed,
    embedded_trio,
    wait_all_ready,
)

MODEL = ROOT / "models" / "assistant.tar.gz"
OUT = ROOT / "docs" / "screenshots"
LOGS = ROOT / "results" / "screenshots"
SALT = "screenshots-salt"
RASA_TOKEN = "screenshots-rasa-token"
ACTION_TOKEN = "screenshots-action-token"
VIEWPORT = {"width": 1366, "height": 860}
LANGUAGES = ("zh", "en")
# (demo customer, lines): the handoffs end up in the queue in this order
CONVERSATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("demo-regular-zh", ("你好", "退货政策是什么")),
    ("demo-new-en", ("hi", "how long do refunds take")),
    ("demo-vip-zh", ("你好", "我要退款，东西不想要了")),
    ("demo-atrisk-en", ("I want to complain, the parcel arrived broken and nobody answered my emails",)),
    ("demo-regular-zh", ("转人工",)),
    ("demo-elderly-zh", ("我想找人工客服",)),
    ("demo-new-en", ("I want a refund, the item is not what I ordered",)),
)


def prepare_database(work: Path, senders: list[tuple[str, str]]) -> str:
    from common.db import make_engine, make_session_factory
    from demo.seed import DEMO_CAST, seed_demo
    from demo.users import seed_demo_users
    from desk.schema import create_all
    from profiles.models import ChannelIdentity

    url = f"sqlite:///{work / 'app.db'}"
    engine = make_engine(url)
    try:
        create_all(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, salt=SALT)
        seed_demo_users(factory)
        with factory.begin() as session:
            session.add_all(ChannelIdentity(channel="rest", external_id=sender, customer_id=DEMO_CAST[demo])
                            for sender, demo in senders if demo in DEMO_CAST)
        return url
    finally:
        engine.dispose()


class Rasa:
    def __init__(self, url: str) -> None:
        self.url = url

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"sender": sender, "message": text}).encode())
        with urllib.request.urlopen(request, timeout=120) as response:
            return list(json.loads(response.read() or b"[]"))

    def last_buttons(self, sender: str) -> list[dict[str, Any]]:
        url = f"{self.url}/conversations/{sender}/tracker?token={RASA_TOKEN}"
        with urllib.request.urlopen(url, timeout=30) as response:
            events = json.loads(response.read())["events"]
        for event in reversed(events):
            buttons = (event.get("data") or {}).get("buttons") if event.get("event") == "bot" else None
            if buttons:
                return list(buttons)
        return []


class Agent:
    """A demo user on the console's HTTP API (signs in like the browser does)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=60)
        page = self.http.get("/login", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
        signed = self.http.post("/login", data={"username": username, "password": password, "csrf_token": token})
        if signed.status_code != 303:
            raise StartFailed(f"{username} could not sign in ({signed.status_code})")
        home = self.http.get("/", headers={"Accept": "text/html"})
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
        self.http.headers.update({"X-CSRF-Token": csrf, "Accept": "application/json"})

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http.post(path, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text[:200]}")
        return dict(response.json())

    def queued(self) -> list[dict[str, Any]]:
        return list(self.http.get("/api/queue").json()["queued"])


def play(rasa: Rasa, agent: Agent, senders: list[tuple[str, str]]) -> int:
    """The demo traffic; returns the id of the handoff left open on agent1's card."""
    for (sender, _), (_, lines) in zip(senders, CONVERSATIONS):
        for line in lines:
            rasa.say(sender, line)
    by_conversation = {row["conversation_id"]: row for row in agent.queued()}
    refund = by_conversation[senders[2][0]]  # the VIP's refund: answered, resolved, rated
    agent.post(f"/api/handoffs/{refund['id']}/claim")
    agent.post(f"/api/handoffs/{refund['id']}/messages", json={"text": "您好，我是小李，这就为您加急处理退款。"})
    rasa.say(senders[2][0], "好的，谢谢")
    agent.post(f"/api/handoffs/{refund['id']}/resolve")
    for _ in range(2):  # the rating (the highest), then the offer to leave a comment (the last button: no)
        deadline = time.monotonic() + 20
        buttons: list[dict[str, Any]] = []
        while not buttons and time.monotonic() < deadline:
            buttons = rasa.last_buttons(senders[2][0])
            time.sleep(0.3)
        if not buttons:
            break
        rasa.say(senders[2][0], str(buttons[-1]["payload"]))
    complaint = by_conversation[senders[3][0]]  # the complaint stays open on the card
    agent.post(f"/api/handoffs/{complaint['id']}/claim")
    agent.post(f"/api/handoffs/{complaint['id']}/messages",
               json={"text": "Hello, this is Li. I'm checking your parcel with the courier now."})
    rasa.say(senders[3][0], "thank you, the box was crushed")
    return int(complaint["id"])


def shoot(console_url: str, card_id: int, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise StartFailed("Debian's chromium is missing: run scripts/system_deps.sh (apt-get install -y chromium)")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pages = (("agent1", "agent1-demo-pass", (("queue", "/", False), ("handoff-card", f"/handoffs/{card_id}", True),
                                               ("tickets", "/tickets", False))),
             ("supervisor", "supervisor-demo-pass", (("dashboard", "/supervisor/dashboard", True),)))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            for lang in LANGUAGES:
                for username, password, shots in pages:
                    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", viewport=VIEWPORT)
                    page = context.new_page()
                    page.goto(f"{console_url}/lang/{lang}?next=/login")
                    page.fill("input[name=username]", username)
                    page.fill("input[name=password]", password)
                    page.click("form[action='/login'] button[type=submit]")
                    page.wait_for_load_state("networkidle")
                    for name, path, full in shots:
                        page.goto(f"{console_url}{path}")
                        page.wait_for_load_state("load")
                        page.wait_for_timeout(1500)  # the live parts (queue stream, transcript) draw
                        target = out / f"{name}-{lang}.png"
                        page.screenshot(path=str(target), full_page=full)
                        written.append(target)
                        print(f"    {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}", flush=True)
                    context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"where the PNG files go (default {OUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL.relative_to(ROOT)}: run `make train` first", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="screenshots-"))
    LOGS.mkdir(parents=True, exist_ok=True)
    stamp = int(time.time())
    senders = [(f"shot-{demo}-{stamp}-{n}", demo) for n, (demo, _) in enumerate(CONVERSATIONS)]
    database_url = prepare_database(work, senders)
    trio = embedded_trio(work, database_url, LOGS, salt=SALT, rasa_token=RASA_TOKEN, action_token=ACTION_TOKEN,
                         drop=("REDIS_URL", "ENVIRONMENT"))
    servers = trio.servers
    try:
        print("==> starting the action server, the Rasa server and the console (about a minute)", flush=True)
        for server in servers:
            server.start()
        wait_all_ready(servers, 600)
        console_url = trio.console_url
        print("==> demo conversations", flush=True)
        card_id = play(Rasa(trio.rasa_url), Agent(console_url, "agent1", "agent1-demo-pass"), senders)
        print(f"==> screenshots into {args.out}", flush=True)
        shoot(console_url, card_id, args.out)
    except (StartFailed, RuntimeError, KeyError) as exc:
        print(f"failed: {exc!r} (logs in {LOGS.relative_to(ROOT)})", file=sys.stderr)
        return 1
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
