"""The WeChat 5-second rule under a slow bot: 1,000 messages through the simulator.

    .venv/bin/python bench/wechat_5s.py                          # 1,000 messages, 20 % of turns take 6 s
    .venv/bin/python bench/wechat_5s.py --slow-fraction 0.5 --slow-seconds 8 --mode safe --store redis
    .venv/bin/python bench/wechat_5s.py --lose-fraction 0.1     # also cut 10 % of first tries (WeChat retries)
    .venv/bin/python bench/wechat_5s.py --messages 50 --users 5 # a quick check

The channel (``WeChatInput`` on Sanic) runs with ``EchoBot`` in place of Rasa: each turn answers
``echo: <text>`` after a delay, 6 s for the slow fraction, so slower than WeChat waits. Customers
send their messages one after another, ``--users`` of them at once. Every message has a unique
text, so each answer the simulator sees, passive or through the customer-service API, is matched
to its message: a message with two answers is a duplicate. The customer-service window is WeChat's
(``WECHAT_WINDOW_MESSAGES``, 5 per customer message, enforced by both the channel and the simulator),
so an answer WeChat would refuse is *held* in the outbox for the customer's next message or an
agent: kept, counted apart, not lost. A message with no answer and nothing held is lost. Prints a
table; exits 1 when a request was not answered inside 5 s (apart from the first tries cut on
purpose) or a reply was lost or duplicated, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.db import make_engine  # noqa: E402
from devtools.wechat_sim.channel_app import EchoBot, config_for, serve_channel, slow_fraction  # noqa: E402
from devtools.wechat_sim.simulator import Exchange, WeChatSimulator, free_port  # noqa: E402
from wechat.outbox import Outbox  # noqa: E402
from wechat.stores import KeyValueStore, RedisStore, SQLStore  # noqa: E402


async def _customer(sim: WeChatSimulator, url: str, user: int, count: int, lose: float,
                    rng_seed: int) -> list[tuple[Exchange, bool]]:
    """Each message's exchange, and whether its first try was cut on purpose."""
    import random

    rng = random.Random(rng_seed + user)
    exchanges = []
    for i in range(count):
        cut = 0.01 if rng.random() < lose else None
        exchange = await sim.send(url, sim.text(f"o-bench-{user:04d}", f"u{user}-m{i}"), lose_first_after_s=cut)
        exchanges.append((exchange, cut is not None))
    return exchanges


async def run(args: argparse.Namespace) -> int:
    aes_key = None if args.mode == "plain" else WeChatSimulator.aes_key_for_tests()
    sim = await WeChatSimulator(mode=args.mode, aes_key=aes_key).start()  # WeChat's own window and allowance
    work = Path(tempfile.mkdtemp(prefix="wechat-bench-"))
    redis_process = None
    store: KeyValueStore
    if args.store == "redis":
        port = free_port()
        redis_process = subprocess.Popen([str(ROOT / "scripts" / "services.sh"), "redis", str(port)],
                                         stdout=subprocess.DEVNULL)
        await asyncio.sleep(0.5)
        store = RedisStore(f"redis://127.0.0.1:{port}/0")
    else:
        store = SQLStore(make_engine(f"sqlite:///{work / 'bench.db'}"))
    from desk.schema import create_all

    create_all(make_engine(f"sqlite:///{work / 'bench.db'}"))
    outbox = Outbox(make_engine(f"sqlite:///{work / 'bench.db'}"))
    bot = EchoBot(delay=slow_fraction(args.slow_fraction, args.slow_seconds, seed=args.seed))
    channel = await serve_channel(config_for(sim), store, outbox, bot)
    per_user = args.messages // args.users
    started = time.monotonic()
    try:
        batches = await asyncio.gather(
            *(_customer(sim, channel.url, u, per_user, args.lose_fraction, args.seed) for u in range(args.users))
        )
        await channel.drain()
    finally:
        await channel.close()
        await sim.close()
        if redis_process is not None:
            redis_process.terminate()
    elapsed = time.monotonic() - started

    sent = [pair for batch in batches for pair in batch]
    exchanges = [e for e, _ in sent]
    answers: Counter[str] = Counter()
    for e in exchanges:
        if e.reply:
            answers[e.reply] += 1
    for d in sim.deliveries:
        answers[d.text] += 1
    expected = [f"echo: {e.fields['Content']}" for e in exchanges]
    attempts = [a for e in exchanges for a in e.attempts]
    # every try must be answered inside WeChat's 5 s, except first tries cut on purpose (--lose-fraction)
    judged = [a for e, cut_first in sent for n, a in enumerate(e.attempts) if not (n == 0 and cut_first)]
    answered_5s = [a for a in judged if a.status == 200 and a.elapsed_s < 5.0]
    over_5s = len(judged) - len(answered_5s)
    cut = sum(1 for _, cut_first in sent if cut_first)
    times = sorted(a.elapsed_s for a in attempts if a.status) or [0.0]
    held = Counter(m.text for m in await outbox.held())
    duplicates = sum(1 for t in expected if answers[t] + held[t] > 1)
    lost = sum(1 for t in expected if answers[t] + held[t] == 0)
    held_count = sum(1 for t in expected if held[t] and not answers[t])
    rows = [
        ("messages", f"{len(exchanges)}  ({args.users} customers x {per_user})"),
        ("slow turns (bot)", f"{sum(1 for t, n in bot.calls.items() if bot.delay(t) >= 5)} take {args.slow_seconds:g} s"),
        ("requests (incl. WeChat retries)", f"{len(attempts)}  ({len(attempts) - len(exchanges)} retries, "
                                            f"{cut} first tries cut on purpose)"),
        ("requests answered inside 5 s", f"{100 * len(answered_5s) / max(1, len(judged)):.1f} %"
                                         f" of those not cut ({over_5s} not)"),
        ("response time p50 / p99 / max", f"{statistics.median(times):.3f} / {times[int(0.99 * (len(times) - 1))]:.3f}"
                                          f" / {times[-1]:.3f} s"),
        ("bot turns run", f"{sum(bot.calls.values())}  (one per message: {sum(bot.calls.values()) == len(exchanges)})"),
        ("answers: passive reply", str(sum(1 for e in exchanges if e.reply))),
        ("answers: customer-service API", str(len(sim.deliveries))),
        ("duplicates (messages answered twice)", str(duplicates)),
        ("lost replies (never answered, not held)", str(lost)),
        ("held for the next window (not lost)", f"{held_count}  (in the outbox: sent when the customer writes again)"),
        ("access-token fetches", str(sim.token_fetches)),
        ("wall time", f"{elapsed:.1f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"\nWeChat 5-second rule: mode={args.mode}, store={args.store}, slow fraction={args.slow_fraction:g}, "
          f"reply budget={config_for(sim).reply_budget_s:g} s")
    print(f"| {'metric'.ljust(width)} | value")
    print(f"|{'-' * (width + 2)}|------")
    for key, value in rows:
        print(f"| {key.ljust(width)} | {value}")
    failures = [f"{n} {what}" for n, what in ((over_5s, "requests not answered inside 5 s"),
                                              (lost, "replies lost"), (duplicates, "replies duplicated")) if n]
    if failures:
        print("\nFAILED: " + ", ".join(failures))
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--slow-fraction", type=float, default=0.2)
    parser.add_argument("--slow-seconds", type=float, default=6.0)
    parser.add_argument("--lose-fraction", type=float, default=0.0, help="first tries whose connection is cut")
    parser.add_argument("--mode", choices=["plain", "compatible", "safe"], default="safe")
    parser.add_argument("--store", choices=["sql", "redis"], default="sql")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(main())
