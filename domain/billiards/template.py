"""A user's rule template: a base game and parameters, versioned.

Each edit is a new version; a match records the version it was created from and the rules of
that version, so an edit never changes a match already played.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.billiards.errors import InvalidParameter, NotTemplateOwner, TemplateNotFound
from domain.billiards.rules import Rules, built_in

MAX_TEMPLATE_NAME = 80


def check_template_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_TEMPLATE_NAME:
        raise InvalidParameter(f"a template's name has 1 to {MAX_TEMPLATE_NAME} characters")
    return name


class RuleTemplate(Aggregate):
    class Created(Aggregate.Created):
        owner: str
        name: str
        base: str
        params: dict[str, Any]

    def __init__(self, owner: str, name: str, base: str, params: dict[str, Any]) -> None:
        self.owner = owner
        self.name = name
        self.base = base
        self.revisions: list[dict[str, Any]] = [dict(params)]
        self.deleted = False

    @classmethod
    def create(
        cls,
        *,
        template_id: UUID,
        owner: str,
        name: str,
        base: str,
        params: Mapping[str, Any],
        now: datetime,
    ) -> RuleTemplate:
        built_in(base).derive(params)  # refuses an unknown game or parameter
        return cls._create(
            cls.Created,
            id=template_id,
            timestamp=now,
            owner=owner,
            name=check_template_name(name),
            base=base,
            params=dict(params),
        )

    @property
    def template_version(self) -> int:
        return len(self.revisions)

    def rules(self, version: int | None = None) -> Rules:
        """The rules of `version` (the latest by default)."""
        if version is None:
            version = self.template_version
        if not 1 <= version <= self.template_version:
            raise TemplateNotFound(f"this template has versions 1 to {self.template_version}")
        return built_in(self.base).derive(self.revisions[version - 1])

    def edit(
        self, *, by: str, params: Mapping[str, Any], name: str | None, now: datetime
    ) -> int:
        """A new version; returns its number."""
        self._owned(by)
        built_in(self.base).derive(params)
        self.trigger_event(
            self.Edited,
            timestamp=now,
            params=dict(params),
            name=check_template_name(name) if name is not None else self.name,
        )
        return self.template_version

    def delete(self, *, by: str, now: datetime) -> None:
        """Gone from lists; matches already created from it keep their rules."""
        self._owned(by)
        if not self.deleted:
            self.trigger_event(self.Deleted, timestamp=now)

    def _owned(self, by: str) -> None:
        if by != self.owner:
            raise NotTemplateOwner("only the template's owner changes it")
        if self.deleted:
            raise TemplateNotFound("this template was deleted")

    class Edited(Aggregate.Event):
        params: dict[str, Any]
        name: str

        def apply(self, template: RuleTemplate) -> None:
            template.revisions.append(dict(self.params))
            template.name = self.name

    class Deleted(Aggregate.Event):
        def apply(self, template: RuleTemplate) -> None:
            template.deleted = True
