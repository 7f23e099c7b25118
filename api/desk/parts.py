"""What the desks' handlers receive: their running parts, as the dependency `desk`."""

from __future__ import annotations

from dataclasses import dataclass

from api.node import parts_provider
from commands.desk.desks import Desks
from infra.desk.hub import DeskHub
from infra.desk.lifecycle import DeskLifecycle
from infra.desk.reads import DeskReads
from infra.desk.view import DeskView

NAME = "desk"


@dataclass
class DeskParts:
    desks: Desks
    view: DeskView
    reads: DeskReads
    hub: DeskHub
    lifecycle: DeskLifecycle


provide_desk = parts_provider(NAME, DeskParts)
