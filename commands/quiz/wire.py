"""The quiz commands as they travel: msgspec structs that refuse unknown fields at decode time.
Shapes and coarse bounds only (and no control characters in text); the aggregates decide the
rest."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from commands.text import Line

Sha = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$")]
Short = Annotated[Line, msgspec.Meta(max_length=200)]
Number = Annotated[float, msgspec.Meta(ge=-1e12, le=1e12)]


class OptionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    text: Short = ""
    image: Sha | None = None
    correct: bool = False


class SliderIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    min: Number
    max: Number
    answer: Number
    tolerance: Annotated[float, msgspec.Meta(ge=0, le=1e12)] = 0.0


class TaskIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    kind: Annotated[Line, msgspec.Meta(max_length=20)]
    text: Annotated[Line, msgspec.Meta(max_length=1000)]
    image: Sha | None = None
    time_limit_s: int = 20
    points: int = 1000
    options: Annotated[list[OptionIn], msgspec.Meta(max_length=10)] = []
    accepted: Annotated[list[Short], msgspec.Meta(max_length=20)] = []
    case_sensitive: bool = False
    slider: SliderIn | None = None

    def raw(self) -> dict[str, Any]:
        raw: dict[str, Any] = msgspec.to_builtins(self)
        raw.setdefault("options", [])
        return raw


class ScoringIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    full_within_ms: int | UnsetType = UNSET
    streak_bonus: int | UnsetType = UNSET
    streak_cap: int | UnsetType = UNSET
    speed: bool | UnsetType = UNSET


class CreateGame(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[Line, msgspec.Meta(max_length=200)]
    description: Annotated[Line, msgspec.Meta(max_length=4000)] = ""
    cover: Sha | None = None
    public: bool = False
    scoring: ScoringIn | None = None
    tasks: Annotated[list[TaskIn], msgspec.Meta(max_length=100)] = []

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {
            "title": self.title,
            "description": self.description,
            "cover": self.cover,
            "public": self.public,
        }
        if self.scoring is not None:
            details["scoring"] = msgspec.to_builtins(self.scoring)
        return details


class ChangeGame(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    title: Annotated[Line, msgspec.Meta(max_length=200)] | UnsetType = UNSET
    description: Annotated[Line, msgspec.Meta(max_length=4000)] | UnsetType = UNSET
    cover: Sha | None | UnsetType = UNSET
    public: bool | UnsetType = UNSET
    scoring: ScoringIn | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        changes: dict[str, Any] = msgspec.to_builtins(self)
        if self.cover is None:
            changes["cover"] = None
        return changes


class SetAdmins(msgspec.Struct, forbid_unknown_fields=True):
    admins: Annotated[list[Annotated[Line, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=20)]


class MoveTask(msgspec.Struct, forbid_unknown_fields=True):
    position: Annotated[int, msgspec.Meta(ge=0, le=1000)]


class StartSession(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    game_id: UUID
    late_join: bool = False


class JoinSession(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    code: Annotated[Line, msgspec.Meta(max_length=20)]
    nickname: Annotated[Line, msgspec.Meta(max_length=100)]


class KickPlayer(msgspec.Struct, forbid_unknown_fields=True):
    player_id: Annotated[Line, msgspec.Meta(max_length=64)]


# -- what the session's writer decides (`commands.quiz.decide`) --------------------------------


Answer = (
    int
    | float
    | Annotated[list[int], msgspec.Meta(max_length=10)]
    | Annotated[Line, msgspec.Meta(max_length=200)]
)


class Join(msgspec.Struct, frozen=True):
    player_id: str
    nickname: str
    token_hash: str


class Rejoin(msgspec.Struct, frozen=True):
    player_id: str
    token_hash: str


class Look(msgspec.Struct, frozen=True):
    """The host's view of the session (no event)."""

    user: str


class HostAction(msgspec.Struct, frozen=True):
    user: str
    action: str
    """next, skip, pause, resume, end"""
    index: int | None = None
    """For next and skip: the task meant, so that sending it again does nothing more."""


class Kick(msgspec.Struct, frozen=True):
    user: str
    player_id: str


class SubmitAnswer(msgspec.Struct, frozen=True):
    player_id: str
    index: int
    answer: Any
    delivered_ms: int | None


class CloseTask(msgspec.Struct, frozen=True):
    index: int


SessionCommand = Join | Rejoin | Look | HostAction | Kick | SubmitAnswer | CloseTask
