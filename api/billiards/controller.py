"""Templates and matches over HTTP, under `/api/billiards`. Commands on a match go through the
matches' writer; every answer after commit carries the match version and its scoreboard."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import AS_PLAYER, AS_VIEWER
from api.billiards.parts import BilliardsParts
from commands.actor import Actor
from commands.billiards.billiards import Decided
from commands.billiards.wire import (
    Act,
    AddGuest,
    AgreeDraw,
    CreateMatch,
    CreateTemplate,
    EditTemplate,
    JoinMatch,
    MatchCommand,
    RecordShot,
    Resign,
    SetOrder,
    Stop,
    TakeOver,
    Undo,
)
from domain.billiards import errors as billiards_errors
from domain.billiards.errors import MatchNotFound
from domain.billiards.rules import BUILT_IN, BUILT_IN_IDS, BUILT_IN_NAMES
from domain.billiards.template import RuleTemplate
from infra.billiards.views import TemplateOut


class TemplateSaved(msgspec.Struct):
    id: UUID
    name: str
    base: str
    version: int
    rules: dict[str, Any]


class MatchCreated(msgspec.Struct):
    id: UUID
    invite: str
    """The invite link's secret: `/billiards/join/<id>?invite=<invite>`."""
    version: int
    board: dict[str, Any]


class MatchAnswer(msgspec.Struct):
    version: int
    replayed: bool
    board: dict[str, Any]


def _saved(template: RuleTemplate) -> TemplateSaved:
    return TemplateSaved(
        template.id,
        template.name,
        template.base,
        template.template_version,
        template.rules().as_dict(),
    )


def _answer(decided: Decided) -> MatchAnswer:
    return MatchAnswer(decided.version, decided.replayed, decided.board)


class TemplateController(Controller):
    path = "/api/billiards/templates"
    tags = ("billiards",)

    @get("/", dependencies=AS_VIEWER)
    async def list_templates(
        self, viewer: NamedDependency[Actor | None], billiards: NamedDependency[BilliardsParts]
    ) -> list[TemplateOut]:
        """The three built-in games, then the viewer's own templates (newest first), then his
        groups' templates."""
        built = [
            TemplateOut(BUILT_IN_IDS[game], BUILT_IN_NAMES[game], game, 1, rules.as_dict(),
                        built_in=True)
            for game, rules in BUILT_IN.items()
        ]
        own = [] if viewer is None else await billiards.templates.list_templates(viewer.user)
        if viewer is not None and billiards.social is not None:  # and his groups' templates
            for group in await billiards.social.view.list_groups(viewer.user):
                own += await billiards.templates.list_templates(f"group:{group['id']}")
        return built + own

    @post("/", status_code=201, dependencies=AS_PLAYER)
    async def create_template(
        self,
        data: JSONBody[CreateTemplate],
        player: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> TemplateSaved:
        """A template derived from a built-in game (`base`); an unknown parameter is 422."""
        template = await asyncio.to_thread(billiards.app.create_template, player.user, data)
        return _saved(template)

    @put("/{template_id:uuid}", dependencies=AS_PLAYER)
    async def edit_template(
        self,
        template_id: FromPath[UUID],
        data: JSONBody[EditTemplate],
        player: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> TemplateSaved:
        """A new version of one's own template; matches already created keep theirs."""
        template = await asyncio.to_thread(
            billiards.app.edit_template, player.user, template_id, data
        )
        return _saved(template)

    @delete("/{template_id:uuid}", status_code=204, dependencies=AS_PLAYER)
    async def delete_template(
        self,
        template_id: FromPath[UUID],
        player: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> None:
        await asyncio.to_thread(billiards.app.delete_template, player.user, template_id)


class MatchController(Controller):
    path = "/api/billiards/matches"
    tags = ("billiards",)

    @post(
        "/",
        status_code=201,
        dependencies=AS_PLAYER,
        refuses=(billiards_errors.TemplateNotFound, billiards_errors.InvalidMatch),
    )
    async def create_match(
        self,
        data: JSONBody[CreateMatch],
        player: NamedDependency[Actor],
        billiards: NamedDependency[BilliardsParts],
    ) -> MatchCreated:
        """A match from a template version (the latest by default); `me` marks the creator's
        seat, the others are guests until someone joins by the invite."""
        created = await asyncio.to_thread(billiards.app.create_match, player.user, data)
        match = created.match
        return MatchCreated(match.id, created.invite, match.version, match.board())

    @get("/{match_id:uuid}")
    async def get_match(
        self, match_id: FromPath[UUID], billiards: NamedDependency[BilliardsParts]
    ) -> dict[str, Any]:
        """The scoreboard, from the matches read model; a match it has not seen yet is folded
        from the event store."""
        board = await billiards.boards.find_board(match_id)
        if board is not None:
            return board
        frames, _ = await billiards.hub.frames_since(match_id, 0)
        if not frames:
            raise MatchNotFound(f"no match {match_id}")
        board_frame: dict[str, Any] = msgspec.json.decode(frames[-1])
        return dict(board_frame["board"])

    async def _act(
        self, billiards: BilliardsParts, match_id: UUID, by: str, command: MatchCommand
    ) -> MatchAnswer:
        return _answer(await billiards.hub.execute(match_id, Act(by, command)))

    @post("/{match_id:uuid}/join", status_code=200, dependencies=AS_PLAYER)
    async def join_match(
        self, match_id: FromPath[UUID], data: JSONBody[JoinMatch],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        """Take a guest's seat (`seat`) or a new one, with the invite from the link."""
        return await self._act(billiards, match_id, player.user, data)

    @post("/{match_id:uuid}/guests", status_code=200, dependencies=AS_PLAYER)
    async def add_guest(
        self, match_id: FromPath[UUID], data: JSONBody[AddGuest],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        return await self._act(billiards, match_id, player.user, data)

    @post("/{match_id:uuid}/order", status_code=200, dependencies=AS_PLAYER)
    async def set_order(
        self, match_id: FromPath[UUID], data: JSONBody[SetOrder],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        """Who breaks (the first seat) and the rotation, before the break."""
        return await self._act(billiards, match_id, player.user, data)

    @post("/{match_id:uuid}/takeover", status_code=200, dependencies=AS_PLAYER)
    async def take_over(
        self, match_id: FromPath[UUID],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        """This player's phone becomes the scorekeeper."""
        return await self._act(billiards, match_id, player.user, TakeOver())

    @post("/{match_id:uuid}/shots", status_code=200, dependencies=AS_PLAYER)
    async def record_shot(
        self, match_id: FromPath[UUID], data: JSONBody[RecordShot],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        """One shot, by the scorekeeper; sent again under its `key`, applied once."""
        return await self._act(billiards, match_id, player.user, data)

    @post("/{match_id:uuid}/undo", status_code=200, dependencies=AS_PLAYER)
    async def undo(
        self, match_id: FromPath[UUID], data: JSONBody[Undo],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        """Take back the last shot (an event, never a deletion)."""
        return await self._act(billiards, match_id, player.user, data)

    @post("/{match_id:uuid}/draw", status_code=200, dependencies=AS_PLAYER)
    async def agree_draw(
        self, match_id: FromPath[UUID], data: JSONBody[AgreeDraw],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        return await self._act(billiards, match_id, player.user, data)

    @post("/{match_id:uuid}/resign", status_code=200, dependencies=AS_PLAYER)
    async def resign(
        self, match_id: FromPath[UUID], data: JSONBody[Resign],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        return await self._act(billiards, match_id, player.user, data)

    @post("/{match_id:uuid}/stop", status_code=200, dependencies=AS_PLAYER)
    async def stop(
        self, match_id: FromPath[UUID], data: JSONBody[Stop],
        player: NamedDependency[Actor], billiards: NamedDependency[BilliardsParts],
    ) -> MatchAnswer:
        """Колхоз: the players stop; the standings stand."""
        return await self._act(billiards, match_id, player.user, data)
