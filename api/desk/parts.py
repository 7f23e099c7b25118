"""What the desks' handlers receive: their running parts, as the dependency `desk`."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import State

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


def provide_desk(state: State) -> DeskParts:
    parts = state[NAME]
    assert isinstance(parts, DeskParts), "the desk context runs on API nodes only"
    return parts
