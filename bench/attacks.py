"""Replays every finding of the adversarial review (issue 11) against the running stack, on loopback.

    .venv/bin/python bench/attacks.py                    # starts its own stack (SQLite, Rasa, actions, console)
    .venv/bin/python bench/attacks.py --rasa-url http://127.0.0.1:5005 --console-url http://127.0.0.1:8000 \\
        --token "$RASA_AUTH_TOKEN" --database-url sqlite:///var/app.db   # a stack started by `make run`

Every attack is bounded (a few requests each, short time-outs) and only ever talks to 127.0.0.1 /
localhost: another host is refused. Prints one row per finding: what was tried, and ``blocked`` or
``THROUGH``. Findings that a plain local stack cannot show (TLS needs nginx with a certificate, the
compose file's proxy settings, the supervisor of ``make run``) are checked against the files that
decide them, and the row says so (``config: ...``; ``tests/deploy`` runs them for real). Exits 1 when
anything got through (or could not be replayed), else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import logging
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
TIMEOUT = 30.0
DEMO_AGENT, DEMO_AGENT_PASSWORD = "agent1", "agent1-demo-pass"
DEMO_AGENT2, DEMO_AGENT2_PASSWORD = "agent2", "agent2-demo-pass"


@dataclass
class Result:
    finding: str
    tried: str
    blocked: bool
    how: str = "live"  # live | in-process | config: <file>

    @property
    def status(self) -> str:
        return "blocked" if self.blocked else "THROUGH"


@dataclass
class Target:
    rasa_url: str
    console_url: str
    token: str
    database_url: str


# -- HTTP on loopback -------------------------------------------------------------------------------------------


def _loopback(url: str) -> str:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"refusing {url}: attacks are replayed on loopback only")
    return url


class Client:
    """urllib with a cookie jar; never raises on an HTTP status."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())

    def request(self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = TIMEOUT) -> tuple[int, bytes]:
        request = urllib.request.Request(_loopback(url), data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=timeout) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read()

    def post_json(self, url: str, payload: Any, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        return self.request("POST", url, body=json.dumps(payload).encode(),
                            headers={"Content-Type": "application/json", **(headers or {})})

    def post_form(self, url: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        return self.request("POST", url, body=urllib.parse.urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:  # a 303 after sign-in is an answer
        return None


def say(target: Target, sender: str, text: str, **extra: Any) -> tuple[int, list[dict[str, Any]]]:
    status, body = Client().post_json(f"{target.rasa_url}/webhooks/rest/webhook",
                                      {"sender": sender, "message": text, **extra})
    try:
        return status, json.loads(body or b"[]") if status == 200 else []
    except ValueError:
        return status, []


def texts(replies: list[dict[str, Any]]) -> str:
    parts = []
    for reply in replies:
        parts.append(str(reply.get("text") or ""))
        parts.extend(str(b.get("title") or "") + str(b.get("payload") or "") for b in reply.get("buttons") or [])
    return " ".join(parts)


def slot(target: Target, sender: str, name: str) -> Any:
    status, body = Client().request(
        "GET", f"{target.rasa_url}/conversations/{urllib.parse.quote(sender, safe='')}/tracker?token={target.token}")
    return json.loads(body).get("slots", {}).get(name) if status == 200 else None


def sign_in(target: Target, username: str, password: str) -> Client:
    client = Client()
    _, page = client.request("GET", f"{target.console_url}/login", headers={"Accept": "text/html"})
    found = re.search(rb'name="csrf_token" value="([^"]*)"', page)
    client.post_form(f"{target.console_url}/login", {"username": username, "password": password,
                                                     "csrf_token": found.group(1).decode() if found else ""})
    _, home = client.request("GET", f"{target.console_url}/", headers={"Accept": "text/html"})
    token = re.search(rb'name="csrf-token" content="([^"]+)"', home)
    client.csrf = token.group(1).decode() if token else ""  # type: ignore[attr-defined]
    return client


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- the data the attacks need ----------------------------------------------------------------------------------


def order_of(database_url: str, customer_id: str, status: str = "shipped") -> Any:
    from sqlalchemy import select

    from common.db import make_engine, make_session_factory
    from profiles.models import Order

    with make_session_factory(make_engine(database_url))() as session:
        return session.scalars(select(Order).where(Order.customer_id == customer_id, Order.status == status)
                               .order_by(Order.created_at.desc())).first()


# -- the findings -----------------------------------------------------------------------------------------------


def f01_impersonation(t: Target) -> Result:
    codes = [say(t, sender, "我的订单")[0] for sender in ("rest:web-C000001", "web:web-C000003", "web-C000001",
                                                           "wechat:oAttacker", "REST:web-C000002")]
    guest = new_sender("claim")
    status, _ = say(t, guest, "hello", input_channel="web",
                    metadata={"channel": "web", "customer_id": "C000001", "signed_in": True})
    customer = slot(t, guest, "customer_id")
    return Result("1 impersonation via REST aliases", "aliases rest:web-C000001, web:web-C000003 …; input_channel/"
                  "metadata claiming C000001", all(c == 403 for c in codes) and status == 200 and customer is None)


def f02_stall(t: Target) -> Result:
    def timed(metadata: dict[str, Any]) -> tuple[float, int]:
        started = time.perf_counter()
        status, _ = say(t, new_sender("stall"), "hi", metadata=metadata)
        return time.perf_counter() - started, status

    small = min(timed({"note": "a@b"})[0] for _ in range(2))
    large, status = timed({"note": "a@" * 29_000})  # 58 KB: inside the body limit
    from common.masking import mask_text

    started = time.perf_counter()
    for kind in ("a" * 65_536, "a." * 32_768, "1" * 65_536, "a@" * 32_768):
        mask_text(kind)
    masking = time.perf_counter() - started
    return Result("2 one request stalls a replica", f"58 KB metadata: {large:.2f}s (HTTP {status}) vs {small:.2f}s "
                  f"small; 64 KB masking x4: {masking:.2f}s", large < max(5 * small, 2.0) and masking < 2.0)


def f03_guest_order(t: Target) -> Result:
    order = order_of(t.database_url, "C000001")
    if order is None:
        return Result("3 guest reads any order", "no shipped order of C000001 in the database", False)
    _, replies = say(t, new_sender("guest"), f"订单{order.id}到哪了")
    shown = texts(replies)
    leaked = bool(order.tracking_no and order.tracking_no[-4:] in shown) or "顺丰" in shown or "预计" in shown
    return Result("3 guest reads any order by number", f"a guest asks 订单{order.id}到哪了", not leaked)


def f04_forwarded_for(t: Target) -> Result:
    client = Client()
    _, page = client.request("GET", f"{t.console_url}/login", headers={"Accept": "text/html"})
    found = re.search(rb'name="csrf_token" value="([^"]*)"', page)
    csrf = found.group(1).decode() if found else ""
    for n in range(6):
        client.post_form(f"{t.console_url}/login", {"username": DEMO_AGENT2, "password": f"wrong-{n}-password",
                                                    "csrf_token": csrf}, headers={"X-Forwarded-For": f"203.0.113.{n}"})
    owner = sign_in(t, DEMO_AGENT2, DEMO_AGENT2_PASSWORD)
    status, _ = owner.request("GET", f"{t.console_url}/api/queue")
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    trusts_all = bool(re.search(r'FORWARDED_ALLOW_IPS:\s*"\*"', compose))
    return Result("4 client address spoofing / lockout", "6 wrong passwords for agent2 under spoofed X-Forwarded-For,"
                  " then the owner signs in; FORWARDED_ALLOW_IPS in docker-compose.yml",
                  status == 200 and not trusts_all, "live + config: docker-compose.yml")


def f05_tls(t: Target) -> Result:
    conf = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "deploy").rglob("*.conf"))
    ok = bool(re.search(r"listen\s+443\s+ssl", conf)) and "Strict-Transport-Security" in conf and \
        bool(re.search(r"return\s+301\s+https", conf))
    return Result("5 no TLS in the deployment", "nginx listens on 443 with ssl, redirects 80, sends HSTS", ok,
                  "config: deploy/nginx (tests/deploy serves it with a self-signed certificate)")


def f06_outbox(t: Target) -> Result:
    from sqlalchemy import text as sql

    try:
        from wechat.outbox import Outbox
    except ImportError:  # moved into the wechat library
        from wechat.outbox import Outbox  # type: ignore[no-redef]
    from common.db import make_engine

    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/outbox.db")
        from desk.schema import create_all

        create_all(engine)
        outbox = Outbox(engine)
        asyncio.run(outbox.hold(openid="o-attack", text="请回电 13812341234", source="bot", reason="window_closed"))
        with engine.connect() as connection:
            stored = " ".join(str(row) for row in connection.execute(sql("SELECT * FROM wechat_outbox")))
        engine.dispose()
    return Result("6 unmasked data in the WeChat outbox", "hold a line with a phone number, read the table",
                  "13812341234" not in stored, "in-process")


def f07_masking_forms(t: Target) -> Result:
    from common.masking import mask_text

    forms = ["１３８１２３４１２３４", "138.1234.1234", "1381-234-1234", "138–1234–1234", "138　1234　1234",
             "110101 19900307 1234", "zhang＠example.com", "378282246310005"]
    missed = [f for f in forms if mask_text(f) == f]
    return Result("7 masking misses everyday forms", f"{len(forms)} forms (full-width, dots, dashes, spaces, ＠, "
                  f"15-digit card); missed: {missed or 'none'}", not missed, "in-process")


def f08_erasure(t: Target) -> Result:
    """On a seeded copy in a temporary SQLite file: never erases anyone in the stack under test."""
    from sqlalchemy import select

    from common.db import make_engine, make_session_factory
    from demo.seed import seed_demo
    from desk.models import Ticket
    from desk.privacy import PrivacyOffice
    from desk.schema import create_all

    customer = "C000006"
    marker = f"回电 13912345678 {uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{directory}/erasure.db")
        create_all(engine)
        factory = make_session_factory(engine)
        seed_demo(factory, salt="attacks-salt")
        with factory.begin() as session:
            session.add(Ticket(customer_id=None, conversation_id=f"web-{customer}", channel="web", topic="other",
                               subject=marker, status="open", priority="low"))
        try:
            PrivacyOffice(factory, None).erase(customer, actor="attack-replay", reason="erasure check")
        except Exception as exc:  # the API moved: say so
            engine.dispose()
            return Result("8 erasure leaves traces", f"could not replay ({type(exc).__name__}: {exc})"[:110], False)
        with factory() as session:
            left = session.scalars(select(Ticket.subject).where(Ticket.conversation_id == f"web-{customer}")).all()
        engine.dispose()
    return Result("8 erasure leaves traces", "a ticket of web-C000006 stored without customer_id, then erase "
                  "C000006", not any(marker in (s or "") for s in left), "in-process (seeded copy)")


def f09_production(t: Target) -> Result:
    from common.settings import Settings

    refused = []
    for environment in ("prod", "Production", "staging-prod"):
        try:
            Settings.from_env({"ENVIRONMENT": environment})
            refused.append(False)
        except Exception:
            refused.append(True)
    return Result("9 production mode fails open", "ENVIRONMENT=prod / Production / staging-prod with demo "
                  "secrets", all(refused), "in-process")


def f10_access_log(t: Target) -> Result:
    import io

    from common.logging import install_masking, uninstall_masking

    try:
        from uvicorn.logging import AccessFormatter
    except ImportError:
        return Result("10 access log traceback / extra", "uvicorn missing", False, "in-process")
    out, errors = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    logger = logging.getLogger("attacks.access")
    logger.propagate, logger.handlers = False, [handler]
    logger.setLevel(logging.INFO)
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    fields = logging.getLogger("attacks.extra")
    fields.propagate, fields.handlers = False, [Keep()]
    fields.setLevel(logging.INFO)
    stderr, sys.stderr = sys.stderr, errors
    install_masking()
    try:
        logger.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", "/x?p=13812341234", "1.1", 200)
        fields.warning("lookup", extra={"phone": "13812341234"})
    finally:
        uninstall_masking()
        sys.stderr = stderr
    ok = "Traceback" not in errors.getvalue() and "13812341234" not in out.getvalue() and \
        getattr(seen[-1], "phone", "") != "13812341234"
    return Result("10 access log traceback; extra unmasked", "uvicorn access line + extra={'phone': ...}", ok,
                  "in-process")


def f11_csrf(t: Target) -> Result:
    client = Client()
    client.request("GET", f"{t.console_url}/login", headers={"Accept": "text/html"})
    status, _ = client.post_form(f"{t.console_url}/login", {"username": DEMO_AGENT, "password": "x" * 12,
                                                            "csrf_token": "令牌"})
    agent = sign_in(t, DEMO_AGENT, DEMO_AGENT_PASSWORD)
    status2, _ = agent.post_form(f"{t.console_url}/logout", {"csrf_token": "令牌"})
    return Result("11 non-ASCII CSRF token answers 500", "csrf_token=令牌 on /login and /logout",
                  status < 500 and status2 < 500)


def f12_growth(t: Target) -> Result:
    import websockets

    from common.ratelimit import RedisRateLimiter

    async def frame() -> int | None:
        url = t.console_url.replace("http", "ws", 1) + "/widget/ws"
        async with websockets.connect(url, max_size=None) as socket:
            try:
                await socket.send("x" * (1024 * 1024))
                await asyncio.wait_for(socket.recv(), timeout=10)
            except websockets.ConnectionClosed as exc:
                return exc.rcvd.code if exc.rcvd else None
        return None

    code = asyncio.run(frame())
    limiter = RedisRateLimiter("redis://127.0.0.1:9/0", per_minute=60, burst=3)

    async def flood() -> list[bool]:
        return [await limiter.allow("flood") for _ in range(10)]

    allowed = sum(asyncio.run(flood()))
    from bot.event_archive import EventArchive
    from bot.tracker_store import CompactingSQLTrackerStore

    bounded = hasattr(CompactingSQLTrackerStore, "pending_max") and hasattr(EventArchive, "waiting_max")
    return Result("12a unbounded growth (buffers)", f"1 MiB WebSocket frame → close {code}; Redis down → "
                  f"{allowed}/10 lines allowed; outage buffers bounded: {bounded} (tests/security/"
                  "test_outage_bounds.py halts PostgreSQL)", code == 1009 and allowed <= 3 and bounded,
                  "live + in-process")


def f12_queue(t: Target) -> Result:
    before = _queued_handoffs(t)
    flood = [new_sender("flood") for _ in range(25)]
    for sender in flood:
        say(t, sender, "转人工")
    queued = _queued_handoffs(t) - before
    _abandon(t, flood)  # the findings after this one start from an ordinary queue
    retention = (ROOT / "desk" / "retention.py").read_text(encoding="utf-8")
    purged = "wechat_kv" in retention
    return Result("12b unbounded growth (queue, wechat_kv)", f"25 fresh guests ask for a human → {queued} queued; "
                  f"wechat_kv purged by retention: {purged}", queued < 25 and purged, "live + config: desk/retention.py")


def _abandon(t: Target, senders: list[str]) -> None:
    from sqlalchemy import update

    from common.db import make_engine, make_session_factory
    from desk.models import Handoff, HandoffStatus

    with make_session_factory(make_engine(t.database_url))() as session:
        session.execute(update(Handoff).where(Handoff.conversation_id.in_(senders),
                                              Handoff.status == HandoffStatus.QUEUED.value)
                        .values(status=HandoffStatus.ABANDONED.value))
        session.commit()


def _queued_handoffs(t: Target) -> int:
    from sqlalchemy import func, select

    from common.db import make_engine, make_session_factory
    from desk.models import Handoff

    with make_session_factory(make_engine(t.database_url))() as session:
        return int(session.scalar(select(func.count()).select_from(Handoff)) or 0)


def f13_wechat_mode(t: Target) -> Result:
    from common.settings import Settings

    mode = Settings.from_env({"WECHAT_TOKEN": "t", "WECHAT_AES_KEY": "k" * 43, "WECHAT_APP_ID": "wx1"}).wechat_mode
    return Result("13 WeChat compatible mode by default", f"AES key set, no WECHAT_MODE → {mode}", mode == "safe",
                  "in-process")


def f14_any_handoff(t: Target) -> Result:
    guest = new_sender("handoff")
    say(t, guest, "转人工")
    from sqlalchemy import select

    from common.db import make_engine, make_session_factory
    from desk.models import Handoff

    with make_session_factory(make_engine(t.database_url))() as session:
        handoff_id = session.scalar(select(Handoff.id).where(Handoff.conversation_id == guest))
    if handoff_id is None:
        return Result("14 any agent opens any handoff", "no handoff was queued for the replay", False)
    owner = sign_in(t, DEMO_AGENT2, DEMO_AGENT2_PASSWORD)
    owner.request("POST", f"{t.console_url}/api/handoffs/{handoff_id}/claim",
                  headers={"X-CSRF-Token": getattr(owner, "csrf", "")})
    other = sign_in(t, DEMO_AGENT, DEMO_AGENT_PASSWORD)
    status, _ = other.request("GET", f"{t.console_url}/api/handoffs/{handoff_id}")
    return Result("14 any agent opens any handoff", f"agent1 opens handoff {handoff_id} held by agent2 → {status}",
                  status in (403, 404))


def f15_scrypt(t: Target) -> Result:
    from desk.passwords import hash_password

    parts = hash_password("attack-replay-password").split("$")
    n = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return Result("15 password hashing below guidance", f"scrypt N = {n}", n >= 2**17, "in-process")


def f16_agent_name(t: Target) -> Result:
    from demo.users import DEMO_USERS

    shown = [name for username, _, _, name in DEMO_USERS if username in name]
    return Result("16 customers see the sign-in name", f"display names naming the sign-in: {shown or 'none'}",
                  not shown, "config: demo/users.py")


def f17_supervision(t: Target) -> Result:
    run = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    supervised = bool(re.search(r"restart", run, re.IGNORECASE)) and bool(re.search(r"backoff", run, re.IGNORECASE))
    return Result("17 make run stops everything when one dies", "scripts/run.sh restarts a dead server with "
                  "backoff", supervised, "config: scripts/run.sh")


FINDINGS: list[Callable[[Target], Result]] = [
    f01_impersonation, f02_stall, f03_guest_order, f04_forwarded_for, f05_tls, f06_outbox, f07_masking_forms,
    f08_erasure, f09_production, f10_access_log, f11_csrf, f12_growth, f12_queue, f13_wechat_mode, f14_any_handoff,
    f15_scrypt, f16_agent_name, f17_supervision,
]


# -- the stack --------------------------------------------------------------------------------------------------


def start_stack(work: Path) -> tuple[Target, list[Any]]:
    import subprocess

    from common.db import make_engine, make_session_factory
    from demo.seed import seed_demo
    from desk.schema import create_all
    from devtools.services import free_port
    from devtools.stack import MODEL, action_server, console_server, rasa_server, wait_all_ready

    if not MODEL.exists():
        raise SystemExit(f"no trained model at {MODEL}: run `make train` first")
    database_url = f"sqlite:///{work / 'app.db'}"
    engine = make_engine(database_url)
    create_all(engine)
    seed_demo(make_session_factory(engine), salt="attacks-salt")
    rasa_port, action_port, console_port = free_port(), free_port(), free_port()
    token = uuid.uuid4().hex
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "PII_HASH_SALT": "attacks-salt",
           "TRACKER_DB": str(work / "tracker.db"), "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
           "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore", "RASA_AUTH_TOKEN": token,
           "ACTION_SERVER_TOKEN": uuid.uuid4().hex, "RASA_URL": f"http://127.0.0.1:{rasa_port}",
           "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run([sys.executable, "-m", "desk.console.users", "seed-demo"], env=env, check=True,
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    servers = [action_server("action server", action_port, env, work / "actions.log"),
               rasa_server("Rasa server", rasa_port, env, work / "rasa.log", token=token),
               console_server("console", console_port, env, work / "console.log")]
    for server in servers:
        server.start()
    wait_all_ready(servers)
    return Target(f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{console_port}", token, database_url), servers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rasa-url", help="a running Rasa server (loopback); default: start a stack")
    parser.add_argument("--console-url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default=os.environ.get("RASA_AUTH_TOKEN", ""), help="the Rasa API token")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'app.db'}"))
    parser.add_argument("--only", help="comma-separated finding numbers to replay (default: all)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    servers: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="attacks-") as directory:
        if args.rasa_url:
            target = Target(_loopback(args.rasa_url), _loopback(args.console_url), args.token, args.database_url)
        else:
            print("==> starting a stack on loopback (Rasa, action server, console; about a minute)", flush=True)
            target, servers = start_stack(Path(directory))
        try:
            wanted = {int(n) for n in args.only.split(",")} if args.only else None
            results = []
            for finding in FINDINGS:
                number = int(re.sub(r"\D", "", finding.__name__.split("_")[0]))
                if wanted and number not in wanted:
                    continue
                try:
                    result = finding(target)
                except Exception as exc:  # a replay that could not run is not a pass
                    result = Result(finding.__name__, f"could not replay: {type(exc).__name__}: {exc}"[:120], False)
                results.append(result)
                print(f"  {result.status:8} {result.finding}", flush=True)
        finally:
            for server in servers:
                server.stop()
    print()
    print(f"{'finding':45} {'result':8} {'checked':28} tried")
    print("-" * 130)
    for r in results:
        print(f"{r.finding[:45]:45} {r.status:8} {r.how[:28]:28} {r.tried}")
    through = [r for r in results if not r.blocked]
    print("-" * 130)
    print(f"{len(results) - len(through)} of {len(results)} blocked"
          + (f"; through: {', '.join(r.finding.split()[0] for r in through)}" if through else ""))
    return 1 if through else 0


if __name__ == "__main__":
    sys.exit(main())
