"""Import direction, read from the source (AST): libraries never reach up into a process, ``common``
imports nothing of ours, ``profiles`` does not know ``desk``, and product code never imports the demo
data, the development tools or the tests.

Libraries: ``common``, ``profiles``, ``sentiment``, ``wechat``, ``desk`` (without ``desk.console``).
Processes: ``bot`` (the Rasa server), ``actions`` (the action server), ``desk.console`` (the console).
Imports inside functions count as well, and so do module names written as strings in ``common``
(``importlib`` by name). Every exception is listed in ``EXCEPTIONS`` with its reason.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROCESSES = ("bot", "actions", "desk.console")
# what each library may import of ours (everything else of ours is a violation)
LIBRARIES: dict[str, frozenset[str]] = {
    "common": frozenset(),
    "profiles": frozenset({"common"}),
    "sentiment": frozenset({"common"}),
    "wechat": frozenset({"common"}),
    "desk": frozenset({"common", "profiles", "sentiment", "wechat"}),
}
# never imported by the product (libraries and processes)
OUTSIDE_THE_PRODUCT = ("demo", "devtools", "tests", "bench", "scripts", "sentiment_training")
OURS = (*LIBRARIES, *PROCESSES, *OUTSIDE_THE_PRODUCT)

# (importing file, imported module) -> why it is allowed for now
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("desk/console/users.py", "demo.users"): "the development-only `seed-demo` command of the console's "
    "user tool (refused when ENVIRONMENT=production)",
}


@dataclass(frozen=True)
class Violation:
    path: str
    module: str
    rule: str

    def __str__(self) -> str:
        return f"{self.path} imports {self.module}: {self.rule}"


def component(module: str) -> str | None:
    """The library or process a dotted module name belongs to (``desk.console.app`` -> ``desk.console``)."""
    if module == "desk.console" or module.startswith("desk.console."):
        return "desk.console"
    top = module.split(".")[0]
    return top if top in OURS else None


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports (top level or inside functions, relative ones resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
    return found


def named_modules(path: Path) -> set[str]:
    """String constants that name a module of ours (``importlib.import_module(name)``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and node.value.replace(".", "").replace("_", "").isalnum() and "." in node.value
        and component(node.value) is not None
    }


def check(root: Path, exceptions: dict[tuple[str, str], str]) -> list[Violation]:
    violations = []
    owners = [*LIBRARIES, "bot", "actions"]
    for owner in owners:
        for path in sorted((root / owner).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            package = ".".join(path.relative_to(root).with_suffix("").parts[:-1]) or owner
            own = component(package) or owner
            modules = imported_modules(path, package)
            if own == "common":
                modules |= named_modules(path)
            for module in sorted(modules):
                other = component(module)
                if other is None or other == own or (relative, module) in exceptions:
                    continue
                rule = _rule(own, other)
                if rule:
                    violations.append(Violation(relative, module, rule))
    return violations


def _rule(own: str, other: str) -> str | None:
    if other in OUTSIDE_THE_PRODUCT:
        return f"product code never imports {other}/"
    if own in LIBRARIES:
        if other in PROCESSES:
            return f"the library {own} reaches up into the process {other}"
        if other not in LIBRARIES[own]:
            return f"{own} may import only {sorted(LIBRARIES[own]) or 'nothing of ours'}"
    elif other in PROCESSES:
        return f"the process {own} imports the process {other} (share a library instead)"
    return None


def test_imports_go_one_way() -> None:
    violations = check(ROOT, EXCEPTIONS)
    assert not violations, "\n".join(map(str, violations))


def test_every_exception_is_still_needed() -> None:
    """An exception whose import is gone is taken off the list (it would hide the next one)."""
    stale = [key for key in EXCEPTIONS if not check(ROOT, {k: v for k, v in EXCEPTIONS.items() if k != key})]
    assert not stale, f"no longer needed: {stale}"


@pytest.mark.parametrize(
    ("path", "source", "rule"),
    [
        ("common/x.py", "import desk.models\n", "common may import only"),
        ("common/x.py", "MODULES = ('profiles.models',)\n", "common may import only"),
        ("profiles/x.py", "def f():\n    from desk.tickets import TicketStore\n", "profiles may import only"),
        ("desk/x.py", "from desk.console.app import create_app\n", "reaches up into the process desk.console"),
        ("wechat/x.py", "from bot.connectors import wechat\n", "reaches up into the process bot"),
        ("sentiment/x.py", "import actions.providers\n", "reaches up into the process actions"),
        ("actions/x.py", "from tests.utils import builders\n", "never imports tests/"),
        ("bot/x.py", "from actions import names\n", "the process bot imports the process actions"),
        ("desk/console/x.py", "from demo.seed import seed_demo\n", "never imports demo/"),
        ("profiles/x.py", "from demo.users import DEMO_USERS\n", "never imports demo/"),
        ("wechat/x.py", "from desk.models import Handoff\n", "wechat may import only"),
        ("sentiment/x.py", "from profiles.store import ProfileStore\n", "sentiment may import only"),
        ("common/x.py", "OWNERS = ('wechat.outbox',)\n", "common may import only"),
    ],
)
def test_the_check_finds_each_kind_of_wrong_import(tmp_path: Path, path: str, source: str, rule: str) -> None:
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    (tmp_path / "desk" / "ok.py").parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "desk" / "ok.py").write_text("from common.db import make_engine\nfrom .models import X\n")
    violations = check(tmp_path, {})
    assert [v.path for v in violations] == [path] and rule in violations[0].rule


# the one place that creates the application's tables (the embedded default; production runs Alembic),
# and the tracker-side tables the Rasa adapters keep next to Rasa's own ``events`` (which Rasa creates)
CREATES_TABLES = {"desk/schema.py", "common/db.py",  # common.db.create_tables: the DDL lock they use
                  "bot/event_archive.py", "bot/tracker_store.py"}


def table_creators(root: Path) -> set[str]:
    """Product files that call ``create_all`` / ``create_tables`` / ``Table.create``."""
    found = set()
    for owner in [*LIBRARIES, *PROCESSES]:
        for path in sorted((root / owner.replace(".", "/")).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                    if name in {"create_all", "create_tables"} or (
                            name == "create" and isinstance(node.func, ast.Attribute)
                            and getattr(node.func.value, "attr", "") == "__table__"):
                        found.add(path.relative_to(root).as_posix())
    return found


def test_one_entry_point_creates_the_tables() -> None:
    """Constructors, servers and tools never create tables: ``desk.schema.create_all`` or Alembic does."""
    assert table_creators(ROOT) - CREATES_TABLES == set()


def test_the_table_check_sees_a_constructor_creating_its_table(tmp_path: Path) -> None:
    target = tmp_path / "wechat" / "x.py"
    target.parent.mkdir(parents=True)
    target.write_text("class Outbox:\n    def __init__(self, engine):\n"
                      "        Base.metadata.create_all(engine, tables=[Row.__table__])\n", encoding="utf-8")
    assert table_creators(tmp_path) == {"wechat/x.py"}
