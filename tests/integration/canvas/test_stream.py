"""The live stream renderer against a real RTMP ingest on loopback (FFmpeg's RTMP server, in
listen mode, through PyAV), on real PostgreSQL and NATS: what arrives is decoded, and its last
frame shows the served board pixel for pixel after scaling."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid

import av
import httpx
import msgspec
import numpy as np
import pytest

from api.app import build, create_app
from commands.actor import Actor
from commands.canvas.wire import CreateCanvas, FillRectangle, PlacePixel
from infra.canvas.board_follower import CanvasMissing
from infra.canvas.stream_frames import FrameRenderer
from infra.canvas.stream_role import stream_canvas
from infra.settings import HistorySettings
from tests.integration.conftest import stop, until
from tests.support.logged_secrets import secret
from tests.support.ports import free_port

PALETTE = ["#ffffff", "#000000", "#e50000", "#02be01", "#0000ea", "#ffd635"]
W, H = 64, 36
ADMIN = Actor("root", is_admin=True)
KEY = secret("live-key-do-not-log-7f3a")


class Ingest:
    """An RTMP server for one connection: decodes every video frame, keeps the last."""

    def __init__(self, port: int, *, keep: int | None = None) -> None:
        self.url = f"rtmp://127.0.0.1:{port}/live/{KEY}"
        self.keep = keep
        self.frames = 0
        self.last: np.ndarray | None = None
        self.codecs: tuple[str, ...] = ()
        self.size = (0, 0)
        self.listening = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.listening.set()
        container = av.open(self.url, mode="r", format="flv",
                            options={"listen": "1", "timeout": "60"})
        try:
            self.codecs = tuple(s.codec_context.name for s in container.streams)
            for frame in container.decode(video=0):
                self.last = frame.to_ndarray(format="rgb24")
                self.size = (frame.width, frame.height)
                self.frames += 1
                if self.keep is not None and self.frames >= self.keep:
                    return  # hang up: the renderer must reconnect
        except av.FFmpegError:
            pass  # the sender went away
        finally:
            container.close()


@pytest.fixture
async def node(make_settings):
    settings = await make_settings(history={"stream_key": KEY})
    running = await build(settings)
    yield running
    await stop(running)


async def a_canvas(node):
    canvases = node["canvas"].canvases
    canvas = await asyncio.to_thread(
        canvases.create_canvas, CreateCanvas(width=W, height=H, palette=PALETTE, cooldown_ms=0))
    return canvas.id


async def paint(node, canvas_id, count: int, seed: int) -> int:
    rng = np.random.default_rng(seed)
    version = 0
    for _ in range(count):
        placed = await node["canvas"].canvases.execute(canvas_id, ADMIN, PlacePixel(
            x=int(rng.integers(W)), y=int(rng.integers(H)), colour=int(rng.integers(6))))
        version = placed.version
    return version


async def served_board(node, canvas_id, version: int) -> np.ndarray:
    async def projected() -> bool:
        meta = await node["canvas"].reads.view.find_canvas(canvas_id)
        return meta is not None and meta.version >= version
    await until(projected)
    transport = httpx.ASGITransport(app=create_app(node.settings, node=node))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        latest = await client.get(f"/api/canvas/{canvas_id}/snapshot/latest",
                                  headers={"Accept-Encoding": "identity"}, follow_redirects=True)
    assert latest.headers["X-Canvas-Version"] == str(version)
    return np.frombuffer(latest.content, dtype=np.uint8)


async def frames_after(ingest: Ingest, more: int) -> None:
    target = ingest.frames + more

    async def arrived() -> bool:
        return ingest.frames >= target
    await until(arrived, timeout=60)


@pytest.mark.stream
async def test_the_stream_shows_the_served_board_after_live_deltas(node, caplog):
    caplog.set_level(logging.DEBUG)
    canvas_id = await a_canvas(node)
    await paint(node, canvas_id, 50, seed=1)
    port = free_port()
    ingest = Ingest(port)
    ingest.listening.wait()
    halt = asyncio.Event()
    streaming = asyncio.create_task(stream_canvas(
        node.settings, canvas_id, f"rtmp://127.0.0.1:{port}/live/", halt))
    try:
        await frames_after(ingest, 10)
        await node["canvas"].canvases.execute(canvas_id, ADMIN, FillRectangle(
            x=10, y=5, width=20, height=10, colour=4))
        version = await paint(node, canvas_id, 150, seed=2)  # live, while frames go out
        board = await served_board(node, canvas_id, version)
        await frames_after(ingest, 45)  # the deltas have reached the renderer by then
    finally:
        halt.set()
        stats = await streaming
    await asyncio.to_thread(ingest.thread.join, 30)
    assert ingest.codecs == ("h264", "aac")
    assert ingest.size == (1280, 720)
    renderer = FrameRenderer(W, H, PALETTE)
    assert ingest.last is not None
    shown = renderer.expected_board(ingest.last)
    assert np.array_equal(shown, board), f"{(shown != board).sum()} pixels differ"
    assert stats.frames >= ingest.frames
    assert all(KEY not in record.getMessage() for record in caplog.records)
    assert any("rtmp://127.0.0.1" in record.getMessage() and "***" in record.getMessage()
               for record in caplog.records)


@pytest.mark.stream
async def test_a_lost_ingest_is_reconnected_and_the_stream_goes_on(node, caplog):
    caplog.set_level(logging.DEBUG)
    canvas_id = await a_canvas(node)
    version = await paint(node, canvas_id, 20, seed=3)
    port = free_port()
    first = Ingest(port, keep=15)
    first.listening.wait()
    halt = asyncio.Event()
    streaming = asyncio.create_task(stream_canvas(
        node.settings, canvas_id, f"rtmp://127.0.0.1:{port}/live/", halt, width=640,
        height=360))
    try:
        await asyncio.to_thread(first.thread.join, 60)
        assert first.frames == 15
        second = Ingest(port)
        second.listening.wait()
        version = await paint(node, canvas_id, 30, seed=4)
        board = await served_board(node, canvas_id, version)
        await frames_after(second, 45)
    finally:
        halt.set()
        stats = await streaming
    await asyncio.to_thread(second.thread.join, 30)
    assert stats.failures >= 1 and stats.connections >= 2
    assert second.last is not None
    shown = FrameRenderer(W, H, PALETTE, width=640, height=360).expected_board(second.last)
    assert np.array_equal(shown, board), f"{(shown != board).sum()} pixels differ"
    assert all(KEY not in record.getMessage() for record in caplog.records)


async def test_a_file_output_holds_h264_and_silent_aac_at_the_asked_size_and_rate(node, tmp_path):
    canvas_id = await a_canvas(node)
    version = await paint(node, canvas_id, 10, seed=5)
    board = await served_board(node, canvas_id, version)
    out = tmp_path / "canvas.flv"
    stats = await stream_canvas(node.settings, canvas_id, str(out), asyncio.Event(), width=320,
                                height=180, fps=10, seconds=2.0)
    with av.open(str(out)) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, audio.codec_context.name) == ("h264", "aac")
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == stats.frames and 10 <= len(frames) <= 21
    assert frames[-1].shape == (180, 320, 3)
    shown = FrameRenderer(W, H, PALETTE, width=320, height=180).expected_board(frames[-1])
    # 320×180 gives each board pixel about 4.6 pixels: H.264 may blur a few small ones
    assert (shown != board).mean() < 0.02


@pytest.mark.stream
async def test_two_renderers_at_once_each_show_their_own_canvas(node, tmp_path):
    """Renderers share nothing: two canvases streamed at once by one process, each output
    shows its own board."""
    canvases = [await a_canvas(node), await a_canvas(node)]
    boards = []
    for seed, canvas_id in enumerate(canvases):
        boards.append(await served_board(node, canvas_id,
                                         await paint(node, canvas_id, 40, seed=seed + 11)))
    outs = [tmp_path / f"canvas{i}.flv" for i in range(2)]
    await asyncio.gather(*(
        stream_canvas(node.settings, canvas_id, str(out), asyncio.Event(), width=320,
                      height=180, fps=10, seconds=2.0)
        for canvas_id, out in zip(canvases, outs, strict=True)))
    renderer = FrameRenderer(W, H, PALETTE, width=320, height=180)
    for out, board, other in zip(outs, boards, reversed(boards), strict=True):
        with av.open(str(out)) as container:
            *_, last = container.decode(video=0)
        shown = renderer.expected_board(last.to_ndarray(format="rgb24"))
        assert (shown != board).mean() < 0.02
        differ = board != other  # where the canvases differ, this output shows its own
        assert differ.sum() > 40 and (shown[differ] == board[differ]).mean() > 0.9


async def test_an_rtmp_output_without_a_key_or_an_unknown_canvas_is_refused(node, tmp_path):
    keyless = msgspec.structs.replace(node.settings, history=HistorySettings())
    with pytest.raises(ValueError, match="stream key"):
        await stream_canvas(keyless, await a_canvas(node), "rtmp://127.0.0.1:1/live/",
                            asyncio.Event())
    with pytest.raises(CanvasMissing):
        await stream_canvas(node.settings, uuid.uuid4(), str(tmp_path / "x.flv"),
                            asyncio.Event())
