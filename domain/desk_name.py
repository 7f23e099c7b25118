"""The index from a desk's name to the desk it currently names: found by name, made unique
by its id (a UUIDv5 of the name), so two desks created under one name at once conflict.

Names are found per opener (a browser or an account that created or opened the desk): the
index of one opener's name is its own aggregate (`opener_name_id`), so a name someone else
used finds nothing and tells nothing."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

_NAMESPACE = UUID("5f0c1a52-7a4e-4e0f-9a53-0d1c2b6f4d11")
_OPENER_NAMESPACE = UUID("9b8e3a1e-3c55-4f5a-8d0e-6a2f7c41b9d3")


def desk_name_id(name: str) -> UUID:
    return uuid5(_NAMESPACE, name)


def opener_name_id(opener: str, name: str) -> UUID:
    """The index of `name` among the desks `opener` (an opaque, hashed identity) has opened."""
    return uuid5(_OPENER_NAMESPACE, f"{opener}\n{name}")


class DeskName(Aggregate):
    class Created(Aggregate.Created):
        name: str
        desk_id: UUID

    def __init__(self, name: str, desk_id: UUID) -> None:
        self.name = name
        self.desk_id = desk_id

    @classmethod
    def create(
        cls, *, name: str, desk_id: UUID, now: datetime, index_id: UUID | None = None
    ) -> DeskName:
        """`index_id`: where the index lives (`opener_name_id`); the global name by default."""
        return cls._create(
            cls.Created,
            id=desk_name_id(name) if index_id is None else index_id,
            timestamp=now,
            name=name,
            desk_id=desk_id,
        )

    def point_to(self, *, desk_id: UUID, now: datetime) -> None:
        if desk_id != self.desk_id:
            self.trigger_event(self.Pointed, timestamp=now, desk_id=desk_id)

    class Pointed(Aggregate.Event):
        desk_id: UUID

        def apply(self, index: DeskName) -> None:
            index.desk_id = self.desk_id
