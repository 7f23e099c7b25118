"""The billiards context's Application: rule templates, matches and club queues in one events
table. Templates and new matches are saved directly; every command on a match goes through one
shared writer thread (`SharedWriter`), which decides it against the match held in memory and
saves each batch of every match's events in one transaction."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import msgspec
from eventsourcing.application import Application
from eventsourcing.persistence import Transcoder

from commands import stored
from commands.billiards.clubs import ClubAct, ClubDecided, CreateClub, decide_club
from commands.billiards.wire import (
    Act,
    AddGuest,
    AgreeDraw,
    CreateMatch,
    CreateTemplate,
    EditTemplate,
    JoinMatch,
    RecordShot,
    Resign,
    SetOrder,
    Stop,
    TakeOver,
    Undo,
)
from commands.clock import utc_now
from commands.codec import MsgspecTranscoder
from commands.shared_writer import SharedWriter
from domain.billiards.club import Club
from domain.billiards.errors import (
    BilliardsError,
    ClubNotFound,
    InvalidMatch,
    MatchNotFound,
    TemplateNotFound,
)
from domain.billiards.keys import Outcome
from domain.billiards.match import BilliardsMatch
from domain.billiards.play import Shot
from domain.billiards.rules import BUILT_IN_IDS, BUILT_IN_NAMES, Rules, built_in, built_in_game
from domain.billiards.template import RuleTemplate

MatchWriter = SharedWriter[BilliardsMatch, Act]
ClubWriter = SharedWriter[Club, ClubAct]
MAX_RESUME_EVENTS = 1000
_encode = msgspec.json.Encoder().encode


class Decided(NamedTuple):
    """A match command's answer: what the caller is told, and the live frame to fan out
    (None for a command sent again: it changed nothing)."""

    version: int
    replayed: bool
    board: dict[str, Any]
    frame: bytes | None


class CreatedMatch(NamedTuple):
    match: BilliardsMatch
    invite: str
    """The invite link's secret, shown to the creator only."""


def invite_hash(invite: str) -> str:
    return hashlib.sha256(invite.encode()).hexdigest()


def event_summary(event: Any) -> dict[str, Any]:
    """An event as live frames carry it: its kind, version and fields."""
    fields = {
        name: value
        for name, value in vars(event).items()
        if name not in ("originator_id", "originator_version", "timestamp", "originator_topic")
    }
    return {"kind": type(event).__name__, "version": event.originator_version, **fields}


LIVE_FIELDS = (
    "version", "players", "scorekeeper", "scores", "order", "turn", "on_table", "remaining",
    "owed", "fouls", "shots", "from_hand", "last_shot", "finished",
)
"""What an update's board carries: what a shot, a join or an end can change (the rules, the
template and the ids come with the first `board` frame). Half the bytes of the whole board, and
encoded once per shot on the writer's thread."""


def update_frame(board: dict[str, Any], events: list[Any]) -> bytes:
    return _encode(
        {
            "type": "update",
            "version": board["version"],
            "events": [event_summary(event) for event in events],
            "board": {name: board[name] for name in LIVE_FIELDS},
        }
    )


def decide(match: BilliardsMatch, act: Act, now: datetime) -> Decided:
    before = len(match.pending_events)
    outcome = _decide(match, act, now)
    new = match.pending_events[before:]
    board = match.board()
    frame = update_frame(board, new) if new and not outcome.replayed else None
    return Decided(outcome.version, outcome.replayed, board, frame)


def _decide(match: BilliardsMatch, act: Act, now: datetime) -> Outcome:
    by, command = act
    match command:
        case RecordShot():
            shot = Shot(
                shooter=command.shooter,
                balls=command.balls,
                numbers=tuple(command.numbers),
                cue=command.cue,
                fouls=tuple(dict.fromkeys(command.fouls)),
                on_ball=command.on_ball,
            )
            return match.record_shot(by=by, key=command.key, shot=shot, now=now)
        case Undo():
            return match.undo(by=by, key=command.key, now=now)
        case TakeOver():
            return match.take_over(by=by, now=now)
        case JoinMatch():
            return match.join(
                account=by,
                name=command.name,
                invite_hash=invite_hash(command.invite),
                seat=command.seat,
                now=now,
            )
        case AddGuest():
            return match.add_guest(by=by, name=command.name, now=now)
        case SetOrder():
            return match.set_order(by=by, order=command.order, now=now)
        case AgreeDraw():
            return match.agree_draw(by=by, key=command.key, now=now)
        case Resign():
            return match.resign(by=by, key=command.key, seat=command.seat, now=now)
        case Stop():
            return match.stop(by=by, key=command.key, now=now)
    raise TypeError(f"not a match command: {command!r}")


class Billiards(Application[UUID]):
    name = "billiards"

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        linger_s: float = 0.002,
        max_batch: int = 2000,
        shuffle: Callable[[list[int]], None] | None = None,
        confirm_s: float = 60.0,
        match_minutes: float = 20.0,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._shuffle = shuffle or _system_shuffle
        self._writer: MatchWriter | None = None
        self._club_writer: ClubWriter | None = None
        self._writer_lock = threading.Lock()
        self.confirm_s = confirm_s
        self.match_minutes = match_minutes

    def construct_transcoder(self) -> Transcoder:
        return MsgspecTranscoder()

    # -- templates (blocking) ---------------------------------------------------------------------

    def create_template(self, by: str, command: CreateTemplate) -> RuleTemplate:
        template = RuleTemplate.create(
            template_id=uuid4(),
            owner=by,
            name=command.name,
            base=command.base,
            params=command.params,
            now=self.clock(),
        )
        self.save(template)
        return template

    def edit_template(self, by: str, template_id: UUID, command: EditTemplate) -> RuleTemplate:
        template = self.get_template(template_id)
        template.edit(by=by, params=command.params, name=command.name, now=self.clock())
        self.save(template)
        return template

    def delete_template(self, by: str, template_id: UUID) -> None:
        template = self.get_template(template_id)
        template.delete(by=by, now=self.clock())
        self.save(template)

    def get_template(self, template_id: UUID) -> RuleTemplate:
        return stored.get(self, template_id, RuleTemplate, TemplateNotFound(f"no template {template_id}"))

    def rules_of(self, template_id: UUID, version: int | None) -> tuple[Rules, int, str]:
        """The rules of a template version (the latest by default), that version and its name."""
        game = built_in_game(template_id)
        if game is not None:
            if version not in (None, 1):
                raise TemplateNotFound("a built-in template has version 1 only")
            return built_in(game), 1, BUILT_IN_NAMES[game]
        template = self.get_template(template_id)
        if template.deleted and version is None:
            raise TemplateNotFound("this template was deleted")
        chosen = template.template_version if version is None else version
        return template.rules(chosen), chosen, template.name

    # -- matches (blocking) -----------------------------------------------------------------------

    def create_match(self, by: str, command: CreateMatch) -> CreatedMatch:
        rules, version, name = self.rules_of(command.template_id, command.template_version)
        players = [
            {"name": player.name, "account": by if player.me else None}
            for player in command.players
        ]
        if sum(1 for player in command.players if player.me) > 1:
            raise InvalidMatch("one seat is the creator's")
        order = list(command.order) if command.order is not None else list(range(len(players)))
        if command.order is None and rules.game == "kolkhoz" and rules.rotation != "manual":
            self._shuffle(order)
        invite = secrets.token_urlsafe(16)
        match = BilliardsMatch.create(
            match_id=uuid4(),
            template_id=command.template_id,
            template_version=version,
            template_name=name,
            rules=rules,
            players=players,
            order=order,
            creator=by,
            invite_hash=invite_hash(invite),
            table_id=command.table_id,
            now=self.clock(),
        )
        self.save(match)
        return CreatedMatch(match, invite)

    def get_match(self, match_id: UUID) -> BilliardsMatch:
        return stored.get(self, match_id, BilliardsMatch, MatchNotFound(f"no match {match_id}"))

    def frames_since(self, match_id: UUID, version: int) -> tuple[list[bytes], int]:
        """The live frames a client at `version` missed, from the store, and the version they
        bring it to. A client at 0, or too far behind, gets the board as it is."""
        match: Any = None
        frames: list[bytes] = []
        for recorded in self.events.get(match_id):
            event: Any = recorded
            match = event.mutate(match)
            if 0 < version < event.originator_version:
                frames.append(update_frame(match.board(), [event]))
        if not isinstance(match, BilliardsMatch):
            raise MatchNotFound(f"no match {match_id}")
        if version <= 0 or len(frames) > MAX_RESUME_EVENTS or version > match.version:
            board = match.board()
            frames = [_encode({"type": "board", "version": match.version, "board": board})]
        return frames, match.version

    # -- the writer -------------------------------------------------------------------------------

    @property
    def writer(self) -> MatchWriter:
        if self._writer is not None:
            return self._writer
        with self._writer_lock:
            if self._writer is None:
                writer = SharedWriter[BilliardsMatch, Act](
                    name="billiards",
                    app=self,
                    load=self.get_match,
                    decide=decide,
                    clock=lambda: self.clock(),
                    linger_s=self._linger_s,
                    max_batch=self._max_batch,
                    domain_errors=(BilliardsError,),
                )
                writer.start()
                self._writer = writer
            return self._writer

    async def execute(self, match_id: UUID, act: Act) -> Decided:
        decided: Decided = await self.writer.submit(match_id, act)
        return decided

    def stop_writers(self) -> None:
        for writer in (self._writer, self._club_writer):
            if writer is not None:
                writer.stop()

    # -- clubs --------------------------------------------------------------------------------------

    def create_club(self, admin: str, command: CreateClub) -> Club:
        now = self.clock()
        confirm_s = command.confirm_s if command.confirm_s is not None else self.confirm_s
        club = Club.create(
            club_id=uuid4(), name=command.name, admin=admin, confirm_ms=int(confirm_s * 1000),
            now=now,
        )
        for table in command.tables:
            club.add_table(by=admin, table_id=table.id, name=table.name, game=table.game, now=now)
        self.save(club)
        return club

    def get_club(self, club_id: UUID) -> Club:
        return stored.get(self, club_id, Club, ClubNotFound(f"no club {club_id}"))

    def create_table_match(
        self, club_id: UUID, table_id: str, game: str, players: list[dict[str, Any]]
    ) -> BilliardsMatch:
        """The match of a table's called players, who confirmed; the first listed breaks."""
        rules = built_in(game)
        seats = [{"name": p["name"], "account": p["account"]} for p in players]
        match = BilliardsMatch.create(
            match_id=uuid4(),
            template_id=BUILT_IN_IDS[game],
            template_version=1,
            template_name=BUILT_IN_NAMES[game],
            rules=rules,
            players=seats,
            order=list(range(len(seats))),
            creator=str(seats[0]["account"]),
            invite_hash=invite_hash(secrets.token_urlsafe(16)),
            table_id=f"{club_id}/{table_id}",
            now=self.clock(),
        )
        self.save(match)
        return match

    def waiting_for_tables(self) -> int:
        """Players in the queues of the clubs this node's writer holds (those called to a table
        not counted): the clubs' queue length for `/metrics`."""
        writer = self._club_writer
        return 0 if writer is None else sum(len(club.queue) for club in writer.held_aggregates())

    @property
    def club_writer(self) -> ClubWriter:
        if self._club_writer is not None:
            return self._club_writer
        with self._writer_lock:
            if self._club_writer is None:
                writer = SharedWriter[Club, ClubAct](
                    name="billiards-clubs",
                    app=self,
                    load=self.get_club,
                    decide=lambda club, act, now: decide_club(club, act, now, self.match_minutes),
                    clock=lambda: self.clock(),
                    linger_s=self._linger_s,
                    max_batch=self._max_batch,
                    domain_errors=(BilliardsError,),
                )
                writer.start()
                self._club_writer = writer
            return self._club_writer

    async def execute_club(self, club_id: UUID, act: ClubAct) -> ClubDecided:
        decided: ClubDecided = await self.club_writer.submit(club_id, act)
        return decided


def _system_shuffle(order: list[int]) -> None:
    for index in range(len(order) - 1, 0, -1):
        other = secrets.randbelow(index + 1)
        order[index], order[other] = order[other], order[index]
