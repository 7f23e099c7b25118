"""The relay context (relay rooms, wire-compatible with JamJar relay v1 clients): the one place
that builds its parts."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid

import asyncpg
from litestar import Router
from litestar.di import Provide

from api.errors import RELAY_V1_EXCEPTION_HANDLERS
from api.node import Gauge, Projection, Spine
from api.relay.cors import cors
from api.relay.parts import NAME, RelayParts, provide_relay
from api.relay.rooms import RoomsController
from api.relay.socket import error_frame, relay_socket
from commands.relay.rooms import RelayRooms
from infra.relay.cluster import Cluster
from infra.relay.connection import Connection
from infra.relay.directory import RoomDirectory
from infra.relay.forwarding import Forwarder
from infra.relay.journal import RoomJournal
from infra.relay.limits import AttemptLimiter
from infra.relay.manager import RoomManager
from infra.relay.room import Room
from infra.spine.eventstore import application_env


class RelayContext:
    name = NAME
    application = RelayRooms
    publish_gather_s = 0.05

    def __init__(self) -> None:
        self._parts: RelayParts | None = None

    async def migrate(self, conn: asyncpg.Connection, schema: str) -> None:
        """No read model: a room's life is read by replaying its events."""

    def projections(self, spine: Spine) -> list[Projection]:
        return []

    async def start(self, spine: Spine) -> RelayParts:
        settings = spine.settings.relay
        # a subject token and a KV key: no dots
        node = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}".replace(".", "_")
        rooms = await asyncio.to_thread(
            RelayRooms,
            application_env(spine.settings),
            linger_s=settings.writer_linger_ms / 1000,
            max_batch=spine.settings.writer_max_batch,
        )
        journal = RoomJournal(rooms, node=node, record_linger_s=settings.record_linger_ms / 1000)

        async def created(room: Room) -> None:
            await asyncio.to_thread(
                rooms.create_room,
                room_id=room.uuid,
                number=room.number,
                max_clients=room.max_clients,
                protocol=room.protocol.name,
                record=room.record,
                node=node,
            )
            journal.created(room.uuid, time.monotonic())

        cluster: Cluster | None = None

        def changed(room: Room) -> None:
            if cluster is not None:
                cluster.changed(room)

        manager = RoomManager(settings, journal, created, changed=changed)
        limiter = AttemptLimiter(
            window_s=settings.attempt_window_s,
            per_ip=settings.attempts_per_ip,
            per_room=settings.attempts_per_room,
            lockout_after=settings.lockout_after,
            lockout_s=settings.lockout_s,
        )
        directory = await RoomDirectory.open(
            spine.js, spine.settings.stream_prefix, node=node, node_ttl_s=settings.node_ttl_s
        )
        forwarder = Forwarder(spine.nc, prefix=spine.settings.stream_prefix, node=node)
        cluster = Cluster(manager, limiter, journal, directory, forwarder, error_frame)
        await cluster.start(lambda member: Connection(member, cluster))
        self._parts = RelayParts(settings, rooms, journal, manager, limiter, cluster, node)
        manager.start()
        return self._parts

    def gauges(self) -> dict[str, Gauge]:
        if self._parts is None:
            return {}
        summary = self._parts.cluster.summary()
        return {
            "relay_rooms": Gauge("Relay rooms open on every node.", summary["number_of_rooms"]),
            "relay_clients": Gauge("Clients in those rooms.", summary["current_clients"]),
        }

    async def stop(self) -> None:
        parts = self._parts
        if parts is None:
            return
        await parts.cluster.stop()
        await parts.manager.stop()
        parts.journal.flush()
        await asyncio.to_thread(parts.rooms.stop_writer)
        await asyncio.to_thread(parts.rooms.close)

    def router(self) -> Router:
        return Router(
            "/",
            route_handlers=[RoomsController, relay_socket],
            dependencies={"relay": Provide(provide_relay, sync_to_thread=False)},
            exception_handlers=RELAY_V1_EXCEPTION_HANDLERS,
            middleware=[cors],
        )
