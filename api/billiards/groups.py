"""Groups of players under `/api/billiards/groups`: create, join by invite link or request,
roles, the group's templates (rule templates the group owns), its matches feed and its
leaderboard (ranked once the stats are connected; until then, its members).

Decisions go to the `Group` aggregate; pages read the groups read model, which follows the
events by a moment: an answer to a command carries the group as the command left it."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from api.auth import AS_PLAYER, AS_VIEWER
from api.billiards.controller import TemplateSaved, _saved
from api.billiards.friends import SOCIAL
from api.billiards.parts import BilliardsParts
from api.billiards.social_parts import SocialParts
from api.openapi import refusing
from commands.actor import Actor
from commands.billiards.social_wire import ChangeGroup, CreateGroup, JoinGroup, SetRole
from commands.billiards.wire import CreateTemplate, EditTemplate
from domain.billiards import errors
from domain.billiards.group import Group, group_owner_key
from infra.billiards.views import TemplateOut


def _view(group: Group, viewer: str) -> dict[str, Any]:
    return group.view(viewer)


async def _find_group(social: SocialParts, group_id: UUID, viewer: str | None) -> dict[str, Any]:
    """The group from its read model; one it has not seen yet, folded from the event store."""
    found = await social.view.find_group(group_id, viewer)
    if found is None:
        group = await asyncio.to_thread(social.social.get_group, group_id)
        found = group.view(viewer)
    return found


async def _visible_group(
    social: SocialParts, group_id: UUID, viewer: Actor | None
) -> dict[str, Any]:
    """An open group, or a closed one the viewer is a member of."""
    group = await _find_group(social, group_id, None if viewer is None else viewer.user)
    if not group["open"] and group["role"] is None:
        raise errors.NotGroupMember("a closed group shows its members and matches to members")
    return group


class GroupController(Controller):
    path = "/api/billiards/groups"
    tags = ("billiards",)
    dependencies = SOCIAL
    opt = refusing(errors.GroupNotFound)

    @get("/", dependencies=AS_PLAYER)
    async def list_groups(
        self, player: NamedDependency[Actor], social: NamedDependency[SocialParts]
    ) -> list[dict[str, Any]]:
        """The caller's groups and his role in each."""
        return await social.view.list_groups(player.user)

    @post("/", status_code=201, dependencies=AS_PLAYER, refuses=(
        errors.NoProfile, errors.InvalidGroup))
    async def create_group(
        self, data: JSONBody[CreateGroup], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """A group owned by the caller, and its invite link's secret (`invite`)."""
        group, invite = await asyncio.to_thread(social.social.create_group, player.user, data)
        return {**_view(group, player.user), "invite": invite}

    @get("/{group_id:uuid}", dependencies=AS_VIEWER)
    async def get_group(
        self, group_id: FromPath[UUID], viewer: NamedDependency[Actor | None],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """The group, its members and the viewer's role; a closed group shows its members to
        members only; join requests go to its owner and admins. A group the read model has not
        seen yet is folded from the event store."""
        found = await _find_group(social, group_id, None if viewer is None else viewer.user)
        if found["role"] is None and not found["open"]:
            found = {**found, "members": [], "count": len(found["members"])}
        return found

    @patch("/{group_id:uuid}", dependencies=AS_PLAYER, refuses=(
        errors.NotGroupAdmin, errors.InvalidGroup))
    async def change_group(
        self, group_id: FromPath[UUID], data: JSONBody[ChangeGroup],
        player: NamedDependency[Actor], social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """Rename it, open or close it (owner and admins)."""
        group = await asyncio.to_thread(social.social.change_group, player.user, group_id, data)
        return _view(group, player.user)

    @post("/{group_id:uuid}/invite", status_code=200, dependencies=AS_PLAYER,
          refuses=(errors.NotGroupAdmin,))
    async def replace_invite(
        self, group_id: FromPath[UUID], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """A new invite link (the old one stops working)."""
        group, invite = await asyncio.to_thread(
            social.social.replace_group_invite, player.user, group_id)
        return {**_view(group, player.user), "invite": invite}

    @post("/{group_id:uuid}/join", status_code=200, dependencies=AS_PLAYER, refuses=(
        errors.NoProfile, errors.AlreadyMember, errors.WrongGroupInvite, errors.InvalidGroup))
    async def join_group(
        self, group_id: FromPath[UUID], data: JSONBody[JoinGroup],
        player: NamedDependency[Actor], social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """With the invite link's secret, or into an open group: a member at once. Without it,
        into a closed group: a request its owner or admins answer (`member: false`)."""
        group, member = await asyncio.to_thread(
            social.social.join_group, player.user, group_id, data.invite)
        return {**_view(group, player.user), "member": member}

    @post("/{group_id:uuid}/requests/{account:str}/approve", status_code=200,
          dependencies=AS_PLAYER, refuses=(errors.NotGroupAdmin, errors.NoJoinRequest,
                                           errors.InvalidGroup))
    async def approve(
        self, group_id: FromPath[UUID], account: FromPath[str], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        group = await asyncio.to_thread(
            social.social.answer_join, player.user, group_id, account, True)
        return _view(group, player.user)

    @post("/{group_id:uuid}/requests/{account:str}/decline", status_code=200,
          dependencies=AS_PLAYER, refuses=(errors.NotGroupAdmin, errors.NoJoinRequest))
    async def decline(
        self, group_id: FromPath[UUID], account: FromPath[str], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        group = await asyncio.to_thread(
            social.social.answer_join, player.user, group_id, account, False)
        return _view(group, player.user)

    @put("/{group_id:uuid}/members/{account:str}/role", dependencies=AS_PLAYER, refuses=(
        errors.NotGroupAdmin, errors.NotGroupMember, errors.InvalidGroup, errors.OwnerStays))
    async def set_role(
        self, group_id: FromPath[UUID], account: FromPath[str], data: JSONBody[SetRole],
        player: NamedDependency[Actor], social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """`admin` or `member` (the owner's choice); `owner` hands the group over."""
        group = await asyncio.to_thread(
            social.social.set_role, player.user, group_id, account, data.role)
        return _view(group, player.user)

    @delete("/{group_id:uuid}/members/{account:str}", status_code=200, dependencies=AS_PLAYER,
            refuses=(errors.NotGroupAdmin, errors.NotGroupMember, errors.OwnerStays))
    async def remove_member(
        self, group_id: FromPath[UUID], account: FromPath[str], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """Remove a member (owner and admins), or leave (one's own account)."""
        group = await asyncio.to_thread(
            social.social.remove_member, player.user, group_id, account)
        return _view(group, player.user)

    @get("/{group_id:uuid}/feed", dependencies=AS_VIEWER, refuses=(errors.NotGroupMember,))
    async def feed(
        self, group_id: FromPath[UUID], viewer: NamedDependency[Actor | None],
        social: NamedDependency[SocialParts],
    ) -> list[dict[str, Any]]:
        """The group's latest matches: played with its templates or by two of its members (a
        closed group's: for its members)."""
        await _visible_group(social, group_id, viewer)
        return await social.view.group_feed(group_id)

    @get("/{group_id:uuid}/leaderboard", dependencies=AS_VIEWER, refuses=(errors.NotGroupMember,))
    async def leaderboard(
        self, group_id: FromPath[UUID], viewer: NamedDependency[Actor | None],
        social: NamedDependency[SocialParts],
    ) -> dict[str, Any]:
        """The members ranked on the players read model, then those not rated yet (a closed
        group's: for its members)."""
        return await social.standings((await _visible_group(social, group_id, viewer))["members"])

    # -- the group's templates --------------------------------------------------------------------

    @get("/{group_id:uuid}/templates")
    async def list_templates(
        self, group_id: FromPath[UUID], billiards: NamedDependency[BilliardsParts]
    ) -> list[TemplateOut]:
        return await billiards.templates.list_templates(group_owner_key(group_id))

    @post("/{group_id:uuid}/templates", status_code=201, dependencies=AS_PLAYER, refuses=(
        errors.NotGroupAdmin, errors.UnknownParameter, errors.InvalidParameter,
        errors.UnknownGame))
    async def create_template(
        self, group_id: FromPath[UUID], data: JSONBody[CreateTemplate],
        player: NamedDependency[Actor], social: NamedDependency[SocialParts],
    ) -> TemplateSaved:
        """A rule template the group owns (its owner and admins keep it)."""
        template = await asyncio.to_thread(
            social.social.create_group_template, player.user, group_id, data)
        return _saved(template)

    @put("/{group_id:uuid}/templates/{template_id:uuid}", dependencies=AS_PLAYER, refuses=(
        errors.NotGroupAdmin, errors.NotTemplateOwner, errors.TemplateNotFound,
        errors.UnknownParameter, errors.InvalidParameter))
    async def edit_template(
        self, group_id: FromPath[UUID], template_id: FromPath[UUID],
        data: JSONBody[EditTemplate], player: NamedDependency[Actor],
        social: NamedDependency[SocialParts],
    ) -> TemplateSaved:
        template = await asyncio.to_thread(
            social.social.edit_group_template, player.user, group_id, template_id, data)
        return _saved(template)

    @delete("/{group_id:uuid}/templates/{template_id:uuid}", status_code=204,
            dependencies=AS_PLAYER, refuses=(errors.NotGroupAdmin, errors.NotTemplateOwner,
                                             errors.TemplateNotFound))
    async def delete_template(
        self, group_id: FromPath[UUID], template_id: FromPath[UUID],
        player: NamedDependency[Actor], social: NamedDependency[SocialParts],
    ) -> None:
        await asyncio.to_thread(
            social.social.delete_group_template, player.user, group_id, template_id)
