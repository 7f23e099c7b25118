"""Events as projections get them, taken from where the service takes them: what a real
Application stored, in its notification log's order (`infra.spine.store_reader` reads the same
columns from PostgreSQL)."""

from __future__ import annotations

from eventsourcing.application import Application

from projections.recorded import Recorded


def recorded_by(app: Application, *, after: int = 0) -> list[Recorded]:
    """Everything `app` stored after notification `after`."""
    notifications = app.recorder.select_notifications(start=after + 1, limit=100_000)
    return [
        Recorded(n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in notifications
    ]
