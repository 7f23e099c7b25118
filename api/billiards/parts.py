"""What the billiards handlers receive: their running parts, as the dependency `billiards`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from api.billiards.social_parts import SocialParts
from api.billiards.stats_parts import StatsParts
from api.node import parts_provider
from commands.billiards.billiards import Billiards
from infra.billiards.hub import MatchHub
from infra.billiards.queues import QueueKeeper
from infra.billiards.views import TemplateOut

NAME = "billiards"


class MatchBoards(Protocol):
    """The matches read model (`infra.billiards.views.MatchesView`)."""

    async def find_board(self, match_id: UUID) -> dict[str, Any] | None: ...

    async def list_for_table(self, table_id: str, limit: int = 1) -> list[dict[str, Any]]: ...


class TemplateList(Protocol):
    async def list_templates(self, owner: str) -> list[TemplateOut]: ...


@dataclass
class BilliardsParts:
    app: Billiards
    hub: MatchHub
    boards: MatchBoards
    templates: TemplateList
    queues: QueueKeeper
    stats: StatsParts
    social: SocialParts | None = None
    """Friends, groups and notifications (`api.billiards.social_parts`)."""


provide_billiards = parts_provider(NAME, BilliardsParts)
