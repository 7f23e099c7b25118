"""A club: its tables and its queue of players, event-sourced so a queue survives restarts.

Players queue for a game. When a table of that game is free, the first two are called and must
confirm before the deadline; whoever has not by then loses his turn (those who confirmed go back
to the head of the queue) and the next are called. Once both confirmed, a match is created for
them (by the application) and assigned to the table; when it ends, the table is freed and the
next players are called.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.billiards.errors import AlreadyQueued, InvalidQueue, NotInQueue
from domain.billiards.match import check_name
from domain.billiards.rules import GAMES, KOLKHOZ

PLAYERS_PER_TABLE = 2
MAX_TABLES = 50
MAX_QUEUE = 500


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class Club(Aggregate):
    class Created(Aggregate.Created):
        name: str
        admin: str
        confirm_ms: int

    def __init__(self, name: str, admin: str, confirm_ms: int) -> None:
        self.name = name
        self.admin = admin
        self.confirm_ms = confirm_ms
        self.tables: dict[str, dict[str, Any]] = {}
        self.queue: list[dict[str, Any]] = []

    @classmethod
    def create(
        cls, *, club_id: UUID, name: str, admin: str, confirm_ms: int, now: datetime
    ) -> Club:
        if confirm_ms <= 0:
            raise InvalidQueue("the time to confirm is positive")
        return cls._create(
            cls.Created, id=club_id, timestamp=now, name=check_name(name), admin=admin,
            confirm_ms=confirm_ms,
        )

    # -- queries ----------------------------------------------------------------------------------

    def entry_of(self, account: str) -> dict[str, Any] | None:
        for entry in self.queue:
            if entry["account"] == account:
                return entry
        for table in self.tables.values():
            for entry in table["called"]:
                if entry["account"] == account:
                    return entry
        return None

    def called_table(self, account: str) -> str | None:
        for table_id, table in self.tables.items():
            if any(entry["account"] == account for entry in table["called"]):
                return table_id
        return None

    def view(self, match_minutes: float) -> dict[str, Any]:
        """Tables, calls and the queue with each entry's position and waiting estimate."""
        queue = []
        for entry in self.queue:
            same = [e for e in self.queue if e["game"] == entry["game"]]
            position = same.index(entry) + 1
            tables = sum(1 for t in self.tables.values() if t["game"] == entry["game"]) or 1
            rounds = math.ceil(position / PLAYERS_PER_TABLE)
            queue.append(
                {**entry, "position": position,
                 "wait_minutes": round(rounds * match_minutes / tables, 1)}
            )
        return {
            "id": str(self.id),
            "name": self.name,
            "version": self.version,
            "confirm_ms": self.confirm_ms,
            "tables": [{"id": key, **table} for key, table in self.tables.items()],
            "queue": queue,
        }

    # -- decisions --------------------------------------------------------------------------------

    def add_table(self, *, by: str, table_id: str, name: str, game: str, now: datetime) -> None:
        if by != self.admin:
            raise InvalidQueue("only the club's admin adds tables")
        if game not in GAMES or game == KOLKHOZ:
            raise InvalidQueue("a table is queued for Американка or Московская")
        if table_id in self.tables or len(self.tables) >= MAX_TABLES:
            raise InvalidQueue("that table exists, or the club has all its tables")
        self.trigger_event(
            self.TableAdded, timestamp=now, table_id=table_id, name=check_name(name), game=game
        )
        self._call(now)

    def join(self, *, account: str, name: str, game: str, entry_id: str, now: datetime) -> None:
        if game not in {table["game"] for table in self.tables.values()}:
            raise InvalidQueue(f"this club has no table for {game!r}")
        if self.entry_of(account) is not None:
            raise AlreadyQueued("you are in this queue already")
        if len(self.queue) >= MAX_QUEUE:
            raise InvalidQueue("the queue is full")
        self.expire(now)
        entry = {"id": entry_id, "account": account, "name": check_name(name), "game": game,
                 "joined_ms": epoch_ms(now)}
        self.trigger_event(self.Queued, timestamp=now, entry=entry)
        self._call(now)

    def leave(self, *, account: str, now: datetime) -> None:
        if not any(entry["account"] == account for entry in self.queue):
            raise NotInQueue("you are not waiting in this queue")
        self.trigger_event(self.Left, timestamp=now, account=account)

    def confirm(self, *, account: str, now: datetime) -> list[dict[str, Any]] | None:
        """The caller confirms his call; the players of the table once all have confirmed."""
        self.expire(now)
        table_id = self.called_table(account)
        if table_id is None:
            raise NotInQueue("you are not called to a table (or your call expired)")
        table = self.tables[table_id]
        if account in table["confirmed"]:
            return None  # confirmed already: whoever completed the table answered for it
        self.trigger_event(self.Confirmed, timestamp=now, table_id=table_id, account=account)
        if len(table["confirmed"]) == len(table["called"]):
            return list(table["called"])
        return None

    def assign(self, *, table_id: str, match_id: UUID, now: datetime) -> None:
        table = self.tables.get(table_id)
        if table is None or table["state"] != "calling":
            raise InvalidQueue("that table is not waiting for its players")
        self.trigger_event(self.MatchAssigned, timestamp=now, table_id=table_id, match_id=match_id)

    def free(self, *, table_id: str, match_id: UUID, now: datetime) -> None:
        """The table's match ended: the next players are called. Idempotent."""
        table = self.tables.get(table_id)
        if table is not None and table["match_id"] == str(match_id):
            self.trigger_event(self.TableFreed, timestamp=now, table_id=table_id)
            self._call(now)

    def expire(self, now: datetime) -> bool:
        """Calls past their deadline: the unconfirmed lose their turn, the next are called."""
        expired = False
        for table_id, table in list(self.tables.items()):
            if table["state"] == "calling" and table["deadline_ms"] <= epoch_ms(now):
                confirmed = table["confirmed"]
                lost = [e["account"] for e in table["called"] if e["account"] not in confirmed]
                if not lost:
                    continue
                self.trigger_event(self.CallExpired, timestamp=now, table_id=table_id, lost=lost)
                expired = True
        if expired:
            self._call(now)
        return expired

    def next_deadline_ms(self) -> int | None:
        deadlines = [t["deadline_ms"] for t in self.tables.values() if t["state"] == "calling"]
        return min(deadlines, default=None)

    def _call(self, now: datetime) -> None:
        for table_id, table in self.tables.items():
            if table["state"] != "free":
                continue
            waiting = [e for e in self.queue if e["game"] == table["game"]]
            if len(waiting) < PLAYERS_PER_TABLE:
                continue
            called = [e["id"] for e in waiting[:PLAYERS_PER_TABLE]]
            self.trigger_event(
                self.Called, timestamp=now, table_id=table_id, entries=called,
                deadline_ms=epoch_ms(now) + self.confirm_ms,
            )

    # -- events -----------------------------------------------------------------------------------

    class TableAdded(Aggregate.Event):
        table_id: str
        name: str
        game: str

        def apply(self, club: Club) -> None:
            club.tables[self.table_id] = {
                "name": self.name, "game": self.game, "state": "free", "match_id": None,
                "called": [], "confirmed": [], "deadline_ms": None,
            }

    class Queued(Aggregate.Event):
        entry: dict[str, Any]

        def apply(self, club: Club) -> None:
            club.queue.append(dict(self.entry))

    class Left(Aggregate.Event):
        account: str

        def apply(self, club: Club) -> None:
            club.queue = [e for e in club.queue if e["account"] != self.account]

    class Called(Aggregate.Event):
        table_id: str
        entries: list[str]
        deadline_ms: int

        def apply(self, club: Club) -> None:
            table = club.tables[self.table_id]
            table["called"] = [e for e in club.queue if e["id"] in self.entries]
            club.queue = [e for e in club.queue if e["id"] not in self.entries]
            table.update(state="calling", confirmed=[], deadline_ms=self.deadline_ms)

    class Confirmed(Aggregate.Event):
        table_id: str
        account: str

        def apply(self, club: Club) -> None:
            club.tables[self.table_id]["confirmed"].append(self.account)

    class CallExpired(Aggregate.Event):
        table_id: str
        lost: list[str]

        def apply(self, club: Club) -> None:
            table = club.tables[self.table_id]
            kept = [e for e in table["called"] if e["account"] not in self.lost]
            club.queue = kept + club.queue
            table.update(state="free", called=[], confirmed=[], deadline_ms=None)

    class MatchAssigned(Aggregate.Event):
        table_id: str
        match_id: UUID

        def apply(self, club: Club) -> None:
            table = club.tables[self.table_id]
            table.update(state="playing", match_id=str(self.match_id), deadline_ms=None)

    class TableFreed(Aggregate.Event):
        table_id: str

        def apply(self, club: Club) -> None:
            club.tables[self.table_id].update(
                state="free", match_id=None, called=[], confirmed=[], deadline_ms=None
            )
