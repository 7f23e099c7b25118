"""What the live rooms tell the rooms' writer: each is a fact a node's room already decided,
to be appended to its `RelayRoom` in order."""

from __future__ import annotations

from typing import NamedTuple

from domain.relay.room import RecordedMessage


class RecordJoin(NamedTuple):
    client_id: int
    rejoined: bool
    node: str


class RecordLeave(NamedTuple):
    client_id: int


class RecordKick(NamedTuple):
    client_id: int
    by: int


class RecordHost(NamedTuple):
    client_id: int | None
    granted_by: int | None
    """None: a migration (the first client, or the host left); else the host who granted it."""


class RecordMessages(NamedTuple):
    messages: list[RecordedMessage]


class RecordClose(NamedTuple):
    reason: str


RoomCommand = RecordJoin | RecordLeave | RecordKick | RecordHost | RecordMessages | RecordClose
