"""Console users from the command line.

    python -m desk.console.users add <username> --role agent|supervisor [--name "显示名"]   (asks for the password)
    python -m desk.console.users passwd <username>
    python -m desk.console.users deactivate <username>
    python -m desk.console.users list
    python -m desk.console.users seed-demo        (development only: the users in demo.users.DEMO_USERS)

The password is read from the terminal, or from standard input with ``--password-stdin``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from common.db import make_engine, make_session_factory
from common.settings import get_settings
from demo.users import DEMO_PASSWORDS, DEMO_USERS, seed_demo_users  # noqa: F401 (DEMO_* re-exported for the sign-in guard)
from desk.agents import AgentExists, AgentStore
from desk.models import AgentRole
from desk.passwords import WeakPassword


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the passwords differ")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desk.console.users", description="console users")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add")
    add.add_argument("username")
    add.add_argument("--role", choices=[r.value for r in AgentRole], default=AgentRole.AGENT.value)
    add.add_argument("--name")
    add.add_argument("--password-stdin", action="store_true")
    passwd = sub.add_parser("passwd")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    sub.add_parser("deactivate").add_argument("username")
    sub.add_parser("list")
    sub.add_parser("seed-demo")
    args = parser.parse_args(argv)

    settings = get_settings()
    # the tables exist already: `make run` creates them (desk.schema), production migrates (alembic)
    engine = make_engine(settings.database_url)
    if "agents" not in sa.inspect(engine).get_table_names():
        engine.dispose()
        print("the database has no tables yet: `make run` creates them (production: `make migrate`)",
              file=sys.stderr)
        return 1
    factory = make_session_factory(engine)
    store = AgentStore(factory)
    try:
        if args.command == "add":
            agent = store.add(username=args.username, password=_password(args), role=args.role, display_name=args.name)
            print(f"added {agent.username} ({agent.role})")
        elif args.command == "passwd":
            store.set_password(args.username, _password(args))
            print(f"password changed for {args.username}; their sessions were ended")
        elif args.command == "deactivate":
            store.deactivate(args.username)
            print(f"deactivated {args.username}")
        elif args.command == "list":
            for agent in store.all():
                print(f"{agent.username}\t{agent.role}\t{agent.display_name}")
        elif args.command == "seed-demo":
            if not settings.is_development:
                print("demo users are for development only", file=sys.stderr)
                return 2
            created = seed_demo_users(factory)
            print("created: " + (", ".join(created) if created else "nothing (they exist)"))
    except (AgentExists, WeakPassword, LookupError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
