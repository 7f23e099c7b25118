import asyncio

import msgspec
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from infra.live.fanout import Listener
from infra.live.sender import Sender


class FakeSocket:
    """The socket's ASGI side: remembers what was sent and how it was closed."""

    def __init__(self) -> None:
        self.sent: list[tuple[str | bytes, str]] = []
        self.closed: tuple[int, str | None] | None = None

    async def send_data(self, data: str | bytes, mode: str = "text") -> None:
        self.sent.append((data, mode))

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)


class FakeSink:
    """A socket's transport: takes frames while its buffer has room, drains when told to."""

    def __init__(self) -> None:
        self.open = True
        self.written: list[bytes] = []
        self._room = asyncio.Event()
        self._room.set()

    def fill(self) -> None:
        self._room.clear()

    def drain(self) -> None:
        self._room.set()

    def frames_ready(self) -> bool:
        return self.open and self._room.is_set()

    def frames_open(self) -> bool:
        return self.open

    def write_frames(self, frames: bytes) -> None:
        self.written.append(frames)

    async def frames_drained(self) -> None:
        await self._room.wait()


def texts_in(written: bytes) -> list[bytes]:
    """The payloads of the text frames in one write, as a client reads them."""
    reader = StreamReader()
    reader.feed_data(written)
    reader.feed_eof()
    texts = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=False)
        try:
            next(parser)
        except StopIteration as done:
            frame = done.value
        assert frame.opcode is Opcode.TEXT
        texts.append(frame.data)
    return texts


async def settle() -> None:
    """Lets every task that can run take its turn."""
    for _ in range(5):
        await asyncio.sleep(0)


def a_queue(sink: FakeSink | None, *messages: bytes, capacity: int = 8) -> Listener:
    """A listener with `messages` queued for its connection's own task."""
    listener = Listener(capacity)
    listener.attach(sink)
    if sink is not None:
        sink.fill()
    for message in messages:
        listener.offer(message, b"wire-" + message)
    return listener


async def test_a_message_goes_straight_to_a_sink_with_room_as_a_text_frame():
    sink = FakeSink()
    await Sender(FakeSocket(), sink, "text").send(b'{"type":"pong"}')
    assert [texts_in(write) for write in sink.written] == [[b'{"type":"pong"}']]


async def test_messages_sent_while_the_sink_is_full_go_out_in_order_once_it_drains():
    sink = FakeSink()
    sender = Sender(FakeSocket(), sink, "text")
    sink.fill()
    first = asyncio.create_task(sender.send(b"1"))
    await settle()
    sink.drain()  # room again, and the first message's task has yet to hear of it
    await sender.send(b"2")
    await first
    assert [text for write in sink.written for text in texts_in(write)] == [b"1", b"2"]


async def test_many_messages_go_to_the_sink_in_one_write():
    sink = FakeSink()
    await Sender(FakeSocket(), sink, "text").send_many([b"1", b"2", b"3"])
    assert [texts_in(write) for write in sink.written] == [[b"1", b"2", b"3"]]


async def test_without_a_sink_messages_go_through_the_socket_as_text_in_order():
    socket = FakeSocket()
    sender = Sender(socket, None, "binary")
    await sender.send(b"1")
    await sender.send_many([b"2", b"3"])
    assert socket.sent == [(b"1", "text"), (b"2", "text"), (b"3", "text")]


def test_answers_sent_now_do_not_wait_for_a_full_sink():
    sink = FakeSink()
    sink.fill()
    Sender(FakeSocket(), sink, "text").send_now([b"ack", b"collision"])
    assert [texts_in(write) for write in sink.written] == [[b"ack", b"collision"]]


async def test_answers_sent_now_without_a_sink_go_through_the_socket_soon_after():
    socket = FakeSocket()
    Sender(socket, None, "text").send_now([b"ack", b"collision"])
    assert socket.sent == []
    await settle()
    assert socket.sent == [(b"ack", "text"), (b"collision", "text")]


def test_nothing_is_written_to_a_socket_that_is_closing():
    sink = FakeSink()
    sink.open = False
    Sender(FakeSocket(), sink, "text").send_now([b"ack"])
    assert sink.written == []


async def test_queued_frames_come_out_oldest_first_once_the_sink_drained():
    sink = FakeSink()
    sender = Sender(FakeSocket(), sink, "binary")
    listener = a_queue(sink, b"1", b"2")
    waiting = asyncio.create_task(sender.next_frames(listener))
    await settle()
    assert not waiting.done()
    sink.drain()
    frames = await waiting
    assert frames == [(b"1", b"wire-1"), (b"2", b"wire-2")]
    assert await sender.send_frames(frames)
    assert sink.written == [b"wire-1wire-2"]


async def test_queued_frames_wait_while_not_ready_and_again_if_it_is_held_during_the_drain():
    sink = FakeSink()
    sender = Sender(FakeSocket(), sink, "text")
    ready = asyncio.Event()
    listener = a_queue(sink, b"1")
    waiting = asyncio.create_task(sender.next_frames(listener, ready))
    ready.set()
    await settle()  # now waiting for the sink to drain
    ready.clear()  # held again meanwhile (a desk client's new hello)
    sink.drain()
    await settle()
    assert not waiting.done()
    ready.set()
    assert await waiting == [(b"1", b"wire-1")]


async def test_a_client_that_fell_behind_is_told_to_resync_and_closed_with_4408():
    socket, sink = FakeSocket(), FakeSink()
    sender = Sender(socket, sink, "binary")
    listener = a_queue(sink, b"1", b"2", b"3", capacity=2)
    sink.drain()  # room for the goodbye
    assert await sender.next_frames(listener) is None
    [[resync]] = [texts_in(write) for write in sink.written]
    assert msgspec.json.decode(resync) == {"type": "resync"}
    assert socket.closed == (4408, "too_slow")


async def test_fanned_out_frames_are_not_written_to_a_socket_that_is_closing():
    sink = FakeSink()
    sink.open = False
    assert not await Sender(FakeSocket(), sink, "binary").send_frames([(b"1", b"wire-1")])
    assert sink.written == []


async def test_without_a_sink_fanned_out_messages_go_through_the_socket_in_the_senders_mode():
    socket = FakeSocket()
    sent = await Sender(socket, None, "binary").send_frames([(b"1", b"wire-1"), (b"2", b"wire-2")])
    assert sent and socket.sent == [(b"1", "binary"), (b"2", "binary")]
