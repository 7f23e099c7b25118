"""Clubs, their tables and queues over HTTP (`/api/billiards/clubs`) and live
(`/api/billiards/clubs/{id}/live`: `club {version, club}` frames, the first as it is now).

Players called to a table see it in the club frame (`tables[].called`, `deadline_ms`) and
confirm with `POST …/confirm`; once all did, a match is created for them and the table shows
its `match_id`."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, WebSocket, delete, get, post, websocket
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import AS_ADMIN, AS_PLAYER, origin_allowed
from api.billiards.parts import BilliardsParts, provide_billiards
from api.errors import close_socket
from api.live import receive_frames
from commands.actor import Actor
from commands.billiards.clubs import (
    AddTable,
    ClubAct,
    ConfirmCall,
    CreateClub,
    JoinQueue,
    LeaveQueue,
    club_frame,
)
from domain.billiards.errors import ClubNotFound
from infra.billiards.hub import FrameHead, head_of
from infra.live.sender import Sender
from infra.live.socket import frame_sink
from infra.tasks import until_first_ends


class ClubController(Controller):
    path = "/api/billiards/clubs"
    tags = ("billiards",)

    @post("/", status_code=201, dependencies=AS_ADMIN)
    async def create_club(
        self, data: JSONBody[CreateClub], admin: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> dict[str, Any]:
        """A club with its tables (admins only)."""
        club = await asyncio.to_thread(billiards.app.create_club, admin.user, data)
        return club.view(billiards.app.match_minutes)

    @get("/{club_id:uuid}")
    async def get_club(
        self, club_id: FromPath[UUID], billiards: NamedDependency[BilliardsParts]
    ) -> dict[str, Any]:
        """Tables (with their matches and calls) and the queue, with positions and estimates."""
        club = await asyncio.to_thread(billiards.app.get_club, club_id)
        return club.view(billiards.app.match_minutes)

    async def _act(self, billiards: BilliardsParts, club_id: UUID, act: ClubAct) -> dict[str, Any]:
        decided = await billiards.queues.execute(club_id, act)
        view: dict[str, Any] = decided.view
        return view

    @post("/{club_id:uuid}/tables", status_code=200, dependencies=AS_ADMIN)
    async def add_table(
        self, club_id: FromPath[UUID], data: JSONBody[AddTable], admin: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> dict[str, Any]:
        return await self._act(billiards, club_id, ClubAct(admin.user, data))

    @post("/{club_id:uuid}/queue", status_code=200, dependencies=AS_PLAYER)
    async def join_queue(
        self, club_id: FromPath[UUID], data: JSONBody[JoinQueue], player: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> dict[str, Any]:
        """Wait for a table of a game; called at once when one is free."""
        return await self._act(billiards, club_id, ClubAct(player.user, data))

    @delete("/{club_id:uuid}/queue", status_code=200, dependencies=AS_PLAYER)
    async def leave_queue(
        self, club_id: FromPath[UUID], player: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> dict[str, Any]:
        return await self._act(billiards, club_id, ClubAct(player.user, LeaveQueue()))

    @post("/{club_id:uuid}/confirm", status_code=200, dependencies=AS_PLAYER)
    async def confirm_call(
        self, club_id: FromPath[UUID], player: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> dict[str, Any]:
        """Confirm a call to a table before its deadline."""
        return await self._act(billiards, club_id, ClubAct(player.user, ConfirmCall()))


@websocket("/api/billiards/clubs/{club_id:uuid}/live")
async def club_live(socket: WebSocket[Any, Any, Any], club_id: FromPath[UUID]) -> None:
    if not origin_allowed(socket):
        await close_socket(socket, "origin_not_allowed")
        return
    parts = provide_billiards(socket.app.state)
    hub = parts.hub
    await socket.accept()
    key = str(club_id)
    listener = await hub.fanout.listen(key)
    await hub.frames_nc.flush()
    out = Sender(socket, frame_sink(socket.scope), "text")
    try:
        try:
            club = await asyncio.to_thread(parts.app.get_club, club_id)
        except ClubNotFound:
            await close_socket(socket, "club_not_found")
            return
        view = club.view(parts.app.match_minutes)
        seen = [int(view["version"])]
        await out.send(club_frame(view))

        def admit(head: FrameHead) -> bool:
            if head.version <= seen[0]:
                return False
            seen[0] = head.version
            return True

        async def forward() -> None:
            while (frames := await out.next_frames(listener)) is not None:
                await out.send_frames([f for f in frames if admit(head_of(f[0]))])

        async def serve() -> None:
            async def handle(raw: str | bytes) -> bool:
                if msgspec.json.decode(raw or b"{}", type=dict).get("type") == "ping":
                    await out.send(b'{"type":"pong"}')
                return True

            await receive_frames(socket, 1024, handle)

        await until_first_ends(forward(), serve())
    finally:
        await hub.fanout.leave(key, listener)
