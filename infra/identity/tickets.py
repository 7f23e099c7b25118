"""The WebSocket tickets that have opened a connection, as every API node knows them: a ticket
opens one connection, whichever node it is shown to.

One entry per ticket (its `jti`) in a NATS KV bucket, created only where there is none: JetStream
takes the first create of a key and refuses any other, from whichever node. The bucket forgets an
entry once the ticket has expired anyway (its max age is the ticket's life plus a margin for
clocks that disagree).

Why NATS KV: the state is volatile and shared by the nodes, as presence is (`<PREFIX>_PRESENCE`);
the create is one round trip and atomic across nodes; and the bucket's max age does the forgetting.
A PostgreSQL table would do the same with a unique key but needs a sweeper for expired rows, and a
node's own memory would let the ticket open a second connection on another node.
"""

from __future__ import annotations

from typing import Protocol

import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyWrongLastSequenceError

CLOCK_MARGIN_S = 60
"""How much longer than a ticket lives its entry is kept: a node whose clock is behind the
issuer's still takes the ticket for that long."""


class TicketsUnavailable(Exception):
    """NATS could not be asked whether a ticket was used."""


class Bucket(Protocol):
    """The NATS `KeyValue` bucket, as far as tickets use it."""

    async def create(self, key: str, value: bytes) -> int:
        """Store `key` if it is not there; `KeyWrongLastSequenceError` if it is."""


class UsedTickets:
    def __init__(self, bucket: Bucket) -> None:
        self._bucket = bucket

    @classmethod
    async def open(cls, js: JetStreamContext, name: str, *, ticket_ttl_s: float) -> UsedTickets:
        try:
            kv = await js.key_value(name)
        except BucketNotFoundError:
            kv = await js.create_key_value(
                bucket=name, history=1, ttl=ticket_ttl_s + CLOCK_MARGIN_S
            )
        return cls(kv)

    async def take(self, ticket_id: str) -> bool:
        """True the first time a ticket is taken, on any node; False ever after."""
        try:
            await self._bucket.create(ticket_id, b"")
        except KeyWrongLastSequenceError:
            return False
        except (nats.errors.Error, TimeoutError) as error:
            raise TicketsUnavailable(f"used tickets cannot be checked: {error!r}") from error
        return True
