from uuid import uuid4

import msgspec

from infra.quiz.hub import QuizHub


class Subscription:
    async def unsubscribe(self) -> None:
        pass


class FakeNats:
    """The hub's NATS connection: what it subscribes to and publishes."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    async def subscribe(self, subject, cb):
        return Subscription()

    async def flush(self):
        pass

    async def publish(self, subject, data):
        self.published.append((subject, data))

    async def drain(self):
        pass


def frames_of(seat) -> list[dict]:
    return [msgspec.json.decode(message) for message, _ in seat.listener.take()]


RESULTS = {
    "type": "results", "seq": 9, "index": 0, "reason": "time", "solution": 1,
    "distribution": {"options": [0, 1]}, "answered": 1, "leaderboard": [],
    "players": {"ann": [True, 1.0, 1000, 0, 1000, 1, 1]},
}


async def test_each_player_gets_its_own_result_and_the_host_gets_none():
    hub = QuizHub(FakeNats(), prefix="t", capacity=10)
    session = uuid4()
    ann, bob, host = (await hub.sit(session, "ann"), await hub.sit(session, "bob"),
                      await hub.sit(session, None))
    hub.publish(session, [RESULTS])
    assert frames_of(ann)[0]["you"]["points"] == 1000
    assert frames_of(bob)[0]["you"] == {"answered": False}
    told = frames_of(host)[0]
    assert "you" not in told and "players" not in told
    await hub.stop()


async def test_host_only_frames_skip_players_and_seen_frames_are_not_sent_again():
    hub = QuizHub(FakeNats(), prefix="t", capacity=10)
    session = uuid4()
    ann, host = await hub.sit(session, "ann"), await hub.sit(session, None)
    ann.floor = 5
    hub.publish(session, [{"type": "joined", "seq": 6, "player": {}, "players": 1},
                          {"type": "paused", "seq": 5, "index": 0, "remaining_ms": 1}])
    assert frames_of(ann) == []
    assert [f["type"] for f in frames_of(host)] == ["joined", "paused"]
    await hub.stop()


async def test_a_seat_that_falls_behind_is_dropped_and_the_others_go_on():
    hub = QuizHub(FakeNats(), prefix="t", capacity=3)
    session = uuid4()
    slow, fine = await hub.sit(session, "slow"), await hub.sit(session, "fine")
    for seq in range(1, 6):
        hub.publish(session, [{"type": "paused", "seq": seq, "index": 0, "remaining_ms": 1}])
        frames_of(fine)  # this one keeps reading
    assert slow.listener.dropped and not fine.listener.dropped
    await hub.stop()
