"""Each protocol's rules, as policy hooks over a room's state (no sockets)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from domain.relay.errors import BadRelayRequest, InvalidRoom, NotAllowed
from domain.relay.protocols import EVERYONE_ELSE, RelayType, protocol_named
from domain.relay.protocols.mesh import Mesh
from domain.relay.protocols.standard import Standard


@dataclass
class Room:
    members: Sequence[int] = field(default_factory=lambda: [0, 1, 2])
    host: int | None = 0


standard = Standard()
mesh = Mesh()


def test_a_room_without_a_protocol_is_standard_and_an_unknown_one_is_refused():
    assert protocol_named(None).name == "standard"
    assert protocol_named("mesh").name == "mesh"
    with pytest.raises(InvalidRoom):
        protocol_named("ring")


# -- standard ------------------------------------------------------------------------------------


def test_standard_host_broadcasts_to_everyone_else():
    assert standard.route(Room(), 0, RelayType.BROADCAST, None) is EVERYONE_ELSE


def test_standard_non_host_may_not_broadcast():
    with pytest.raises(NotAllowed):
        standard.route(Room(), 1, RelayType.BROADCAST, None)


def test_standard_host_targets_one_connected_client():
    assert standard.route(Room(), 0, RelayType.TARGET, 2) == 2


def test_standard_non_host_may_not_target():
    with pytest.raises(NotAllowed):
        standard.route(Room(), 1, RelayType.TARGET, 2)


@pytest.mark.parametrize("target", [None, 0, 9])
def test_standard_target_must_be_another_connected_client(target: int | None):
    with pytest.raises(BadRelayRequest):
        standard.route(Room(), 0, RelayType.TARGET, target)


def test_standard_client_sends_to_the_host():
    assert standard.route(Room(), 2, RelayType.HOST, None) == 0


def test_standard_host_cannot_send_to_itself():
    with pytest.raises(BadRelayRequest):
        standard.route(Room(), 0, RelayType.HOST, None)


def test_standard_message_to_a_room_without_host_is_refused():
    with pytest.raises(BadRelayRequest):
        standard.route(Room(host=None), 1, RelayType.HOST, None)


def test_standard_unknown_relay_type_is_refused():
    with pytest.raises(BadRelayRequest):
        standard.route(Room(), 0, 7, None)


def test_standard_first_client_becomes_host_and_later_ones_do_not():
    assert standard.becomes_host(Room(members=[0], host=None), 0)
    assert not standard.becomes_host(Room(), 2)


def test_standard_host_may_kick_and_grant_host_to_a_connected_client():
    standard.check_kick(Room(), 0, 1)
    standard.check_grant_host(Room(), 0, 2)


@pytest.mark.parametrize("check", [standard.check_kick, standard.check_grant_host])
def test_standard_non_host_may_not_kick_or_grant(check):
    with pytest.raises(NotAllowed):
        check(Room(), 1, 2)


@pytest.mark.parametrize("check", [standard.check_kick, standard.check_grant_host])
@pytest.mark.parametrize("client", [0, 9])
def test_standard_host_may_not_kick_or_grant_itself_or_a_stranger(check, client: int):
    with pytest.raises(BadRelayRequest):
        check(Room(), 0, client)


def test_standard_host_migrates_to_the_longest_connected_client():
    assert standard.host_after_leave(Room(members=[2, 1], host=None), 0) == 2


def test_standard_host_leaving_an_empty_room_leaves_no_host():
    assert standard.host_after_leave(Room(members=[], host=None), 0) is None


def test_standard_only_the_host_hears_of_connects_and_disconnects():
    assert standard.told_of_membership(Room(), 2) == (0,)
    assert standard.told_of_membership(Room(host=None), 2) == ()


# -- mesh ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("sender", [0, 1, 2])
def test_mesh_anyone_broadcasts(sender: int):
    assert mesh.route(Room(host=None), sender, RelayType.BROADCAST, None) is EVERYONE_ELSE


def test_mesh_anyone_targets_anyone_else():
    assert mesh.route(Room(host=None), 2, RelayType.TARGET, 1) == 1


@pytest.mark.parametrize("target", [None, 2, 9])
def test_mesh_target_must_be_another_connected_client(target: int | None):
    with pytest.raises(BadRelayRequest):
        mesh.route(Room(host=None), 2, RelayType.TARGET, target)


def test_mesh_has_no_host_to_send_to():
    with pytest.raises(BadRelayRequest):
        mesh.route(Room(host=None), 1, RelayType.HOST, None)


def test_mesh_nobody_becomes_host():
    assert not mesh.becomes_host(Room(members=[0], host=None), 0)
    assert mesh.host_after_leave(Room(members=[1], host=None), 0) is None


@pytest.mark.parametrize("check", [mesh.check_kick, mesh.check_grant_host])
def test_mesh_nobody_kicks_or_grants(check):
    with pytest.raises(NotAllowed):
        check(Room(host=None), 0, 1)


def test_mesh_everyone_else_hears_of_connects():
    assert mesh.told_of_membership(Room(host=None), 1) == (0, 2)
