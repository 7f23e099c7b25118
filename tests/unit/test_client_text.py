"""Every text a client sends is refused, where it is decoded, if it holds a control character:
PostgreSQL refuses a NUL in a text column, so one that reached an event would stop the read
models that store it. Tab and newline pass only where the text has lines."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import msgspec
import msgspec.inspect as mi
import pytest

import api
import commands
from api.auth import _AuthMessage
from commands.feedback.feedbacks import Feedbacks
from commands.feedback.wire import SubmitFeedback
from commands.identity.accounts import Accounts
from commands.text import LINE_PATTERN, LINES_PATTERN
from tests.support.fakes import IN_MEMORY

MULTI_LINE = {"SubmitFeedback.message", "StickerFields.text"}


def inbound_structs() -> list[type[msgspec.Struct]]:
    """What clients send: the structs of `api/` and `commands/` that refuse unknown fields (every
    request body and socket frame), and the first message of an authenticating socket."""
    found: set[type[msgspec.Struct]] = {_AuthMessage}
    for package in (api, commands):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            for _, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
                if (
                    issubclass(cls, msgspec.Struct)
                    and cls.__module__.startswith(("api.", "commands."))
                    and cls.__struct_config__.forbid_unknown_fields
                ):
                    found.add(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def texts(kind: mi.Type, path: str, seen: set[type]) -> Iterator[tuple[str, mi.StrType]]:
    match kind:
        case mi.StrType():
            yield path, kind
        case mi.StructType(cls=cls) if cls not in seen:
            for field in kind.fields:
                yield from texts(field.type, f"{cls.__name__}.{field.name}", seen | {cls})
        case mi.UnionType(types=types):
            for member in types:
                yield from texts(member, path, seen)
        case mi.ListType(item_type=item) | mi.SetType(item_type=item):
            yield from texts(item, f"{path}[]", seen)
        case mi.TupleType(item_types=items):
            for index, item in enumerate(items):
                yield from texts(item, f"{path}[{index}]", seen)
        case mi.VarTupleType(item_type=item):
            yield from texts(item, f"{path}[]", seen)
        case mi.DictType(key_type=key, value_type=value):
            yield from texts(key, f"{path}{{key}}", seen)
            yield from texts(value, f"{path}{{}}", seen)


def test_the_structs_clients_send_are_found():
    names = {cls.__name__ for cls in inbound_structs()}
    assert {"SubmitFeedback", "InitDesk", "ApplyStickerOp", "CreateCanvas", "RenameRequest",
            "Hello", "PresenceIn", "Place", "Auth", "TelegramWidget"} <= names


@pytest.mark.parametrize("cls", inbound_structs(), ids=lambda cls: cls.__qualname__)
def test_every_text_a_client_sends_refuses_control_characters(cls: type[msgspec.Struct]):
    for path, text in texts(mi.type_info(cls), cls.__name__, set()):
        assert text.pattern is not None, f"{path} takes any text"
        for control in ("\u0000", "\u0007", "\u001b", "\u007f", "\u0085", "\u009b"):
            assert not re.search(text.pattern, f"a{control}b"), f"{path} takes {control!r}"
        lines = re.search(text.pattern, "one\n\ttwo") is not None
        assert lines == (path in MULTI_LINE), f"{path}: lines allowed: {lines}"
        assert not re.search(text.pattern, "one\n") or path in MULTI_LINE, f"{path} takes 'one\\n'"
        if text.pattern in (LINE_PATTERN, LINES_PATTERN):  # free text, not a format (a colour)
            assert re.search(text.pattern, "Ünïcödé, emoji 🎨 and spaces"), f"{path}"


def test_a_sign_in_providers_name_loses_its_control_characters():
    account = Accounts(IN_MEMORY).sign_in(provider="google", subject="1", display_name="Ann\0 Lee")
    assert account.display_name == "Ann Lee"


def test_a_user_agent_loses_its_control_characters():
    feedbacks = Feedbacks(IN_MEMORY)
    submitted = feedbacks.submit_feedback(SubmitFeedback(message="hi"), user_agent="UA\0/1")
    assert submitted.user_agent == "UA/1"
