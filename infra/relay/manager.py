"""The room manager: every live room this node owns, by its number; creating them within the
server's caps, finding them by number and secret, closing them (by request, or once empty for
`idle_room_s`), and the summary the v1 API reports."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid4

from domain.relay.errors import InvalidRoom, RoomNotFound, TooManyClients
from domain.relay.protocols import protocol_named
from infra.relay.room import Journal, Room
from infra.settings import RelaySettings

log = logging.getLogger(__name__)

INT32 = 2**31
SWEEP_EVERY_S = 1.0

Created = Callable[[Room], Awaitable[None]]
"""Records a new room durably before anyone is told of it."""


def new_secret() -> int:
    """A secret within int32 (as v1 clients hold it), from the OS's CSPRNG."""
    return secrets.randbelow(INT32)


class RoomManager:
    def __init__(
        self,
        settings: RelaySettings,
        journal: Journal,
        created: Created,
        *,
        clock: Callable[[], float] = time.monotonic,
        changed: Callable[[Room], None] = lambda room: None,
    ) -> None:
        self.settings = settings
        self._changed = changed
        self._journal = journal
        self._created = created
        self._clock = clock
        self.rooms: dict[int, Room] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # -- creating and finding ---------------------------------------------------------------------

    def committed(self, max_clients: int) -> int:
        step = max(1, self.settings.committed_round_to)
        return math.ceil(max_clients / step) * step

    def committed_clients(self) -> int:
        return sum(self.committed(room.max_clients) for room in self.rooms.values())

    async def create(
        self,
        max_clients: int,
        protocol: str | None = None,
        record: bool = False,
        number: int | None = None,
        uuid: UUID | None = None,
        committed_elsewhere: int = 0,
    ) -> Room:
        """`committed_elsewhere`: what the other nodes' rooms commit (the directory's count)."""
        cap = self.settings.max_room_clients
        if not 1 <= max_clients <= cap:
            raise InvalidRoom(
                f"the room must have a maximum clients value from 1 to {cap}, "
                f"{max_clients} is invalid"
            )
        room_protocol = protocol_named(protocol)
        committed = self.committed_clients() + committed_elsewhere + self.committed(max_clients)
        if committed > self.settings.max_clients:
            raise TooManyClients(
                "cannot create this room, this would result in more committed clients than "
                f"the max ({committed}/{self.settings.max_clients})"
            )
        while number is None or number in self.rooms:
            number = secrets.randbelow(INT32)
        room = Room(
            uuid=uuid or uuid4(),
            number=number,
            secret=new_secret(),
            max_clients=max_clients,
            protocol=room_protocol,
            record=record,
            journal=self._journal,
            new_secret=new_secret,
            clock=self._clock,
            changed=self._changed,
        )
        self.rooms[number] = room  # held before the await: no other creation takes its number
        try:
            await self._created(room)
        except BaseException:
            self.rooms.pop(number, None)
            raise
        return room

    def adopt(
        self,
        *,
        uuid: UUID,
        number: int,
        secret: int,
        max_clients: int,
        protocol: str,
        record: bool,
        clients: dict[int, int],
        banned: list[int],
        next_id: int,
    ) -> Room:
        """A room whose owner died, taken over by this node as it was."""
        room = Room(
            uuid=uuid, number=number, secret=secret, max_clients=max_clients,
            protocol=protocol_named(protocol), record=record, journal=self._journal,
            new_secret=new_secret, clock=self._clock, changed=self._changed,
        )  # fmt: skip
        room.restore(clients, banned, next_id)
        self.rooms[number] = room
        return room

    def get(self, number: int) -> Room:
        room = self.rooms.get(number)
        if room is None:
            raise RoomNotFound(f"no room found with the ID {number}")
        return room

    def find(self, number: int, secret: int) -> Room:
        """The room with this number and secret; the same refusal for a wrong secret as for no
        such room."""
        room = self.rooms.get(number)
        if room is None or not room.matches(secret):
            raise RoomNotFound(f"no valid room match found for ID {number}")
        return room

    def close(self, number: int, reason: str = "deleted") -> None:
        room = self.get(number)
        room.close(reason)
        del self.rooms[number]

    def summary(self) -> dict[str, int]:
        return {
            "number_of_rooms": len(self.rooms),
            "max_clients": self.settings.max_clients,
            "current_clients": sum(room.current_clients for room in self.rooms.values()),
            "committed_clients": self.committed_clients(),
        }

    # -- idle rooms -------------------------------------------------------------------------------

    def sweep(self) -> list[int]:
        """Close the rooms empty for `idle_room_s`; their numbers."""
        now = self._clock()
        idle = self.settings.idle_room_s
        closed = [
            number
            for number, room in self.rooms.items()
            if room.empty_since is not None and now - room.empty_since >= idle
        ]
        for number in closed:
            self.close(number, "idle")
        return closed

    def start(self) -> None:
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(min(SWEEP_EVERY_S, self.settings.idle_room_s / 4))
            try:
                self.sweep()
            except Exception:
                log.exception("sweeping idle relay rooms failed")

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for room in self.rooms.values():  # not closed: another node takes them over
            room.evacuate()
        self.rooms.clear()
