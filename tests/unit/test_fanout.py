import struct

from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from infra.canvas.deltas import coalesce
from infra.live.fanout import LIVE_FRAMES, Fanout, Listener
from infra.live.socket import binary_frame, text_frame
from projections.canvas.bitmap import RELOAD, decode_delta, encode_delta
from tests.support.fakes import FakeNats


def a_delta(start: int, end: int) -> bytes:
    return encode_delta(start, end, struct.pack(f"<{end - start}I", *range(start + 1, end + 1)))


class FakeSink:
    """A socket: takes frames while it has room."""

    def __init__(self) -> None:
        self.room = True
        self.written: list[bytes] = []

    def frames_ready(self) -> bool:
        return self.room

    def frames_open(self) -> bool:
        return True

    def write_frames(self, frames: bytes) -> None:
        self.written.append(frames)

    async def frames_drained(self) -> None:
        pass


class SlowSink(FakeSink):
    """A socket whose every write takes `seconds` of a fake clock."""

    def __init__(self, now: list[float], seconds: float) -> None:
        super().__init__()
        self.now, self.seconds = now, seconds

    def write_frames(self, frames: bytes) -> None:
        super().write_frames(frames)
        self.now[0] += self.seconds


def deltas_in(listener: Listener) -> list[bytes]:
    return [delta for delta, _ in listener.take()]


def test_a_listener_that_falls_behind_is_dropped_and_gets_nothing_more():
    listener = Listener(capacity=3)
    drops = [listener.offer(d, d) for d in (b"1", b"2", b"3", b"4", b"5")]
    assert drops == [False, False, False, True, False]
    assert listener.dropped and listener.take() == []


def test_a_listener_without_a_socket_queues_every_frame_in_order():
    listener = Listener(capacity=2)
    received = []
    for frame in (b"1", b"2", b"3", b"4"):
        listener.offer(frame, b"wire" + frame)
        received += listener.take()
    assert received == [(b"1", b"wire1"), (b"2", b"wire2"), (b"3", b"wire3"), (b"4", b"wire4")]
    assert not listener.dropped


def test_frames_go_straight_to_a_socket_that_keeps_up():
    listener, sink = Listener(capacity=2), FakeSink()
    listener.attach(sink)
    for frame in (b"1", b"2", b"3"):
        listener.offer(frame, b"wire" + frame)
    assert sink.written == [b"wire1", b"wire2", b"wire3"]
    assert listener.take() == [] and not listener.dropped


def test_frames_queued_while_the_socket_was_full_go_before_later_ones():
    listener, sink = Listener(capacity=4), FakeSink()
    listener.attach(sink)
    sink.room = False
    listener.offer(b"1", b"w1")
    sink.room = True
    listener.offer(b"2", b"w2")  # must not overtake the queued one
    assert sink.written == [] and [w for _, w in listener.take()] == [b"w1", b"w2"]


def test_a_listeners_admit_sends_skips_or_queues_each_frame_by_what_was_said_of_it():
    listener, sink = Listener(capacity=4), FakeSink()
    verdicts = {"mine": False, "theirs": True, "closing": None}
    listener.attach(sink, admit=verdicts.get)
    for about in ("mine", "theirs", "closing", "theirs"):
        listener.offer(about.encode(), b"w-" + about.encode(), about)
    # Skipped, sent, then queued: and what comes after a queued frame queues behind it.
    assert sink.written == [b"w-theirs"]
    assert [m for m, _ in listener.take()] == [b"closing", b"theirs"]


def test_a_socket_that_stays_full_is_dropped():
    listener, sink = Listener(capacity=2), FakeSink()
    listener.attach(sink)
    sink.room = False
    drops = [listener.offer(d, d) for d in (b"1", b"2", b"3")]
    assert drops == [False, False, True] and listener.dropped


def test_consecutive_deltas_merge_into_one_with_their_entries_in_order():
    merged = coalesce([a_delta(4, 6), a_delta(6, 7), a_delta(7, 10)])
    assert len(merged) == 1
    start, end, entries = decode_delta(merged[0])
    assert (start, end, entries.tolist()) == (4, 10, [5, 6, 7, 8, 9, 10])


def test_deltas_that_do_not_follow_on_stay_apart():
    assert coalesce([a_delta(1, 2), a_delta(5, 6)]) == [a_delta(1, 2), a_delta(5, 6)]


def test_a_reload_notice_is_never_merged():
    reload = encode_delta(2, 9, struct.pack("<I", RELOAD))
    deltas = [a_delta(1, 2), reload, a_delta(9, 10)]
    assert coalesce(deltas) == deltas


def test_merging_stops_at_the_size_limit():
    deltas = [a_delta(0, 10), a_delta(10, 20), a_delta(20, 30)]
    merged = coalesce(deltas, limit=100)  # a header and two deltas' entries fit, not three
    assert [decode_delta(d)[:2] for d in merged] == [(0, 20), (20, 30)]


async def test_a_canvas_broadcasts_at_most_once_an_interval_merging_what_waited():
    nats, now = FakeNats(), [100.0]
    fanout = Fanout(
        nats, lambda key: f"delta.{key}", interval_s=0.1, merge=coalesce, clock=lambda: now[0]
    )
    listener = await fanout.listen("c")
    await nats.publish("delta.c", a_delta(1, 2))  # after a quiet spell: at once
    assert deltas_in(listener) == [a_delta(1, 2)]
    now[0] += 0.01
    await nats.publish("delta.c", a_delta(2, 3))
    await nats.publish("delta.c", a_delta(3, 5))
    assert listener.take() == []  # within the interval: they wait
    now[0] += 0.1
    await nats.publish("delta.c", a_delta(5, 6))
    frames = listener.take()
    assert [(d, w) for d, w in frames] == [(a_delta(2, 6), binary_frame(a_delta(2, 6)))]
    await fanout.leave("c", listener)


async def test_a_broadcast_that_took_long_puts_the_next_one_off():
    nats, now = FakeNats(), [100.0]
    fanout = Fanout(
        nats,
        lambda key: f"delta.{key}",
        busy_share=0.25,
        merge=coalesce,
        clock=lambda: now[0],
        cpu_clock=lambda: now[0],
    )
    listener, sink = await fanout.listen("c"), SlowSink(now, seconds=0.05)
    listener.attach(sink)
    await nats.publish("delta.c", a_delta(1, 2))  # took 50 ms: the next one 200 ms after it
    now[0] = 100.15
    await nats.publish("delta.c", a_delta(2, 3))
    assert len(sink.written) == 1
    now[0] = 100.2
    await nats.publish("delta.c", a_delta(3, 4))
    assert sink.written == [binary_frame(a_delta(1, 2)), binary_frame(a_delta(2, 4))]
    await fanout.leave("c", listener)


async def test_the_subscription_ends_with_the_last_listener():
    nats = FakeNats()
    fanout = Fanout(nats, lambda key: f"delta.{key}")
    first, second = await fanout.listen("c"), await fanout.listen("c")
    await fanout.leave("c", first)
    assert "delta.c" in nats.callbacks
    await fanout.leave("c", second)
    assert nats.callbacks == {}


def test_encoded_frames_are_what_a_websocket_client_reads():
    for payload, opcode, encode in (
        (b"x" * 125, Opcode.BINARY, binary_frame),
        (b"y" * 126, Opcode.BINARY, binary_frame),
        (b"z" * 70_000, Opcode.BINARY, binary_frame),
        (b'{"type":"ack"}', Opcode.TEXT, text_frame),
    ):
        reader = StreamReader()
        reader.feed_data(encode(payload))
        reader.feed_eof()
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frame = done.value
        assert (frame.opcode, frame.fin, frame.data) == (opcode, True, payload)


async def test_frames_sent_and_slow_listeners_dropped_are_counted_by_context():
    nats = FakeNats()
    fanout = Fanout(nats, lambda key: f"delta.{key}", context="fanout-test", capacity=1)
    keeping_up, falling_behind = await fanout.listen("c"), await fanout.listen("c")
    keeping_up.attach(FakeSink())
    sent, dropped = LIVE_FRAMES.sent["fanout-test"], LIVE_FRAMES.dropped["fanout-test"]
    for n in range(1, 4):  # the listener without a socket holds one frame, then is dropped
        await nats.publish("delta.c", a_delta(n, n + 1))
    assert falling_behind.dropped
    assert LIVE_FRAMES.dropped["fanout-test"] - dropped == 1
    assert LIVE_FRAMES.sent["fanout-test"] - sent == 3 + 1
