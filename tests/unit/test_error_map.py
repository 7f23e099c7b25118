"""The error map (api/error_map.py, applied by api/errors.py) is the one place where a refusal gets its status and close code."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import commands
import domain
import infra
from api.desk.frames import error_frame as desk_error_frame
from api.errors import CODES, ERROR_CLASSES, ApiError, handle_error, kind_of, refusal
from api.quiz.live import error_frame as quiz_error_frame
from api.relay.socket import error_frame as relay_error_frame
from domain.canvas import CooldownActive
from domain.desk import SequenceGap
from domain.relay.errors import BadRelayRequest
from infra.live.socket import LIVE_SOCKETS
from infra.ratelimit import RateLimited

ROOT = Path(__file__).resolve().parents[2]
NAMING_CALLS = {"ApiError", "close_socket", "of", "_close_soon"}


def error_classes() -> list[type[Exception]]:
    """Every error class a context or the spine raises to a caller: those with a wire `code`."""
    found = set()
    for package in (domain, commands, infra):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if module.name in {"infra.embedded"}:
                continue
            for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
                if issubclass(cls, Exception) and isinstance(cls.__dict__.get("code"), str):
                    found.add(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


@pytest.mark.parametrize("cls", error_classes(), ids=lambda cls: cls.__qualname__)
def test_every_error_class_with_a_code_has_a_status_and_a_close_code(cls: type[Exception]):
    kind = kind_of(cls.__new__(cls))
    assert kind is not None, f"{cls.__module__}.{cls.__qualname__} is not in the error map"
    assert 400 <= kind.status < 600 and kind.close >= 1000


def test_the_map_has_no_class_that_no_context_raises():
    assert all(issubclass(cls, Exception) for cls in ERROR_CLASSES)


def api_modules() -> list[Path]:
    return [p for p in (ROOT / "api").rglob("*.py") if p.name not in {"errors.py", "error_map.py"}]


@pytest.mark.parametrize("path", api_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_handler_writes_an_error_status_or_close_code_of_its_own(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg in {"status_code", "status", "code"} and isinstance(
                keyword.value, ast.Constant
            ):
                value = keyword.value.value
                assert not (isinstance(value, int) and value >= 400), (
                    f"{path.relative_to(ROOT)}:{node.lineno} sets {keyword.arg}={value}: "
                    "name the refusal by its code in api/errors.py instead"
                )


@pytest.mark.parametrize("path", api_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_code_a_handler_names_is_in_the_map(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in NAMING_CALLS:
            continue
        for arg in node.args:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                assert arg.value in CODES, f"{path.relative_to(ROOT)}:{node.lineno}: {arg.value}"
                break


def test_a_cooldown_is_a_429_with_its_wait_on_http_and_in_a_frame():
    error = CooldownActive(wait_ms=1500)
    response = handle_error(None, error)  # type: ignore[arg-type]
    assert (response.status_code, response.headers["Retry-After"]) == (429, "2")
    assert refusal(error).frame("canvas", op="a") == {
        "type": "error", "op": "a", "error": "cooldown", "detail": str(error), "wait_ms": 1500,
    }


def test_a_sequence_gap_tells_the_expected_sequence():
    told = refusal(SequenceGap(expected=7))
    assert (told.kind.status, told.code, told.extra) == (409, "seq_gap", {"expected_seq": 7})


def test_a_rate_limit_is_a_429_whoever_hits_it():
    told = refusal(RateLimited(wait_ms=200))
    assert (told.kind.status, told.code, told.extra) == (429, "rate_limited", {"wait_ms": 200})


def test_a_named_refusal_takes_its_status_from_the_map():
    assert ApiError("desk_not_found", "no such desk").status_code == 404
    with pytest.raises(KeyError):
        ApiError("no_such_code", "a code the map does not know")


@pytest.mark.parametrize(
    ("context", "code", "refuse"),
    [
        ("desk", "seq_gap", lambda: desk_error_frame("seq_gap", "a gap", expected_seq=3)),
        ("quiz", "hello_first", lambda: quiz_error_frame("hello_first", "send hello first")),
        ("relay", "relay_bad_request", lambda: relay_error_frame(BadRelayRequest("no flag"))),
        ("billiards", "cooldown", lambda: refusal(CooldownActive(wait_ms=1)).frame("billiards")),
    ],
)
def test_every_sockets_error_frame_is_counted_for_metrics(context: str, code: str, refuse):
    before = LIVE_SOCKETS.refused[context, code]
    refuse()
    assert LIVE_SOCKETS.refused[context, code] == before + 1
