"""The index from a desk's name to the desk it currently names: found by name, made unique
by its id (a UUIDv5 of the name), so two desks created under one name at once conflict."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

_NAMESPACE = UUID("5f0c1a52-7a4e-4e0f-9a53-0d1c2b6f4d11")


def desk_name_id(name: str) -> UUID:
    return uuid5(_NAMESPACE, name)


class DeskName(Aggregate):
    class Created(Aggregate.Created):
        name: str
        desk_id: UUID

    def __init__(self, name: str, desk_id: UUID) -> None:
        self.name = name
        self.desk_id = desk_id

    @classmethod
    def create(cls, *, name: str, desk_id: UUID, now: datetime) -> DeskName:
        return cls._create(
            cls.Created, id=desk_name_id(name), timestamp=now, name=name, desk_id=desk_id
        )

    def point_to(self, *, desk_id: UUID, now: datetime) -> None:
        if desk_id != self.desk_id:
            self.trigger_event(self.Pointed, timestamp=now, desk_id=desk_id)

    class Pointed(Aggregate.Event):
        desk_id: UUID

        def apply(self, index: DeskName) -> None:
            index.desk_id = self.desk_id
