"""The layout holds: layers import downwards only, modules stay small, the domain does no I/O.

Read from the source with `ast` (nothing is imported), so a broken module still gets judged.
See ARCHITECTURE.md for the rules themselves.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("domain", "commands", "projections", "infra", "api")
"""Lowest first: a module may import its own layer and those before it, never one after."""
RANK = {layer: rank for rank, layer in enumerate(LAYERS)}
OUTSIDE_THE_SERVICE = ("tests", "scripts")
MAX_LINES = 400
DOING_IO = (
    "aiohttp",
    "asyncio",
    "asyncpg",
    "eventsourcing.postgres",
    "eventsourcing.sqlite",
    "http",
    "httpx",
    "litestar",
    "nats",
    "psycopg",
    "psycopg2",
    "requests",
    "socket",
    "sqlite3",
    "ssl",
    "subprocess",
    "urllib",
    "uvicorn",
)


class Import(NamedTuple):
    path: str
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


def modules_of(layer: str) -> list[Path]:
    return sorted(p for p in (ROOT / layer).rglob("*.py") if "__pycache__" not in p.parts)


def service_modules() -> list[Path]:
    return [path for layer in LAYERS for path in modules_of(layer)]


def package_of(path: Path) -> list[str]:
    """The package a module's relative imports start from (for `__init__.py`, its own)."""
    return list(path.relative_to(ROOT).parts[:-1])


def imports_in(source: str, path: Path) -> list[Import]:
    """Every import in a module, however deep (functions, `if TYPE_CHECKING:` blocks), as the
    absolute module name; `importlib.import_module("…")` with a literal name counts too."""
    name = str(path.relative_to(ROOT))
    found: list[Import] = []
    for node in ast.walk(ast.parse(source, filename=name)):
        match node:
            case ast.Import(names=aliases):
                found += [Import(name, node.lineno, alias.name) for alias in aliases]
            case ast.ImportFrom(module=module, level=0) if module:
                found.append(Import(name, node.lineno, module))
            case ast.ImportFrom(module=module, level=level, names=aliases):
                package = package_of(path)
                base = ".".join(package[: len(package) - (level - 1)])
                if module:
                    found.append(Import(name, node.lineno, f"{base}.{module}"))
                else:  # `from . import wire`
                    found += [Import(name, node.lineno, f"{base}.{a.name}") for a in aliases]
            case ast.Call(func=func, args=[ast.Constant(value=str(module)), *_]):
                if is_import_call(func):
                    found.append(Import(name, node.lineno, module))
    return found


def is_import_call(func: ast.expr) -> bool:
    match func:
        case ast.Attribute(attr="import_module") | ast.Name(id="import_module" | "__import__"):
            return True
    return False


def imports_of(path: Path) -> list[Import]:
    return imports_in(path.read_text(encoding="utf-8"), path)


def layer_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def top(module: str) -> str:
    return module.split(".", 1)[0]


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# -- the reader itself ---------------------------------------------------------------------------


def test_imports_inside_functions_and_relative_imports_are_read():
    source = (
        "import domain.canvas\n"
        "def later():\n"
        "    from api.app import build\n"
        "    from . import wire\n"
        "    from ..desk import hub\n"
        "    importlib.import_module('scripts.benchkit')\n"
    )
    found = imports_in(source, ROOT / "infra" / "canvas" / "view.py")
    assert [i.module for i in found] == [
        "domain.canvas",
        "api.app",
        "infra.canvas.wire",
        "infra.desk",
        "scripts.benchkit",
    ]


def test_every_layer_has_modules_to_judge():
    assert all(modules_of(layer) for layer in LAYERS)


# -- the rules -----------------------------------------------------------------------------------


def test_no_module_imports_a_layer_above_its_own():
    upward = [
        f"{found} ({layer_of(path)} sits below {top(found.module)})"
        for path in service_modules()
        for found in imports_of(path)
        if top(found.module) in RANK and RANK[top(found.module)] > RANK[layer_of(path)]
    ]
    assert upward == [], "\n".join(upward)


def test_no_service_module_imports_the_tests_or_the_scripts():
    outside = [
        str(found)
        for path in service_modules()
        for found in imports_of(path)
        if top(found.module) in OUTSIDE_THE_SERVICE
    ]
    assert outside == [], "\n".join(outside)


def test_no_module_is_longer_than_400_lines():
    long = [
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in service_modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    ]
    assert long == [], "split these modules:\n" + "\n".join(long)


def test_the_domain_imports_no_other_layer():
    foreign = [
        str(found)
        for path in modules_of("domain")
        for found in imports_of(path)
        if top(found.module) in (*LAYERS, *OUTSIDE_THE_SERVICE) and top(found.module) != "domain"
    ]
    assert foreign == [], "\n".join(foreign)


def test_the_domain_imports_nothing_that_does_io():
    io = [
        str(found)
        for path in modules_of("domain")
        for found in imports_of(path)
        if any(is_within(found.module, package) for package in DOING_IO)
    ]
    assert io == [], "\n".join(io)
