"""Loading an aggregate of a known kind from an Application's repository: what every context's
`get_…` does, with its own not-found error."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate

T = TypeVar("T", bound=Aggregate)


def find(app: Application[UUID], aggregate_id: UUID, kind: type[T]) -> T | None:
    """The stored aggregate `aggregate_id` when there is one and it is a `kind`, else None
    (another kind under that id is as good as none: ids are never shared across kinds)."""
    try:
        found: object = app.repository.get(aggregate_id, projector_func=replay)
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, kind) else None


def get(app: Application[UUID], aggregate_id: UUID, kind: type[T], missing: Exception) -> T:
    """`find`, raising `missing` when it finds nothing."""
    found = find(app, aggregate_id, kind)
    if found is None:
        raise missing
    return found


def replay(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's `project_aggregate` without its `assert isinstance(event,
    CanMutateProtocol)` on every event: a runtime Protocol check costs about 10 µs, which was
    60 % of loading a desk of 800 ops (a node taking over a hundred desks from a restarting one
    spent seconds of its interpreter on it). Every event here is the library's, with `mutate`."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
