"""Exports of the quiz, relay rooms and billiards (and `all`, every context) read back equal
their event stores: `tessera export` (Parquet and CSV) and the admin's HTTP download."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from datetime import UTC
from typing import Any

import asyncpg
import httpx
import msgspec
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
import pytest_asyncio

from api.app import Node, build
from api.contexts import all_contexts
from commands.canvas.wire import CreateCanvas
from commands.codec import MsgspecTranscoder
from commands.quiz.wire import HostAction, SubmitAnswer
from infra.spine.eventstore import events_table
from tests.integration.billiards.helpers import a_match, shoot
from tests.integration.conftest import serving, stop
from tests.integration.quiz.quiz_helpers import a_game, a_session, join
from tests.integration.relay.client import create_room, joined
from tests.support.cli import run

TABLES = {context.name: events_table(context.application.name) for context in all_contexts()}
SHARED = ("x", "y", "colour", "user", "width", "height")
ADMIN = {"X-Dev-User": "root", "X-Dev-Roles": "admin"}


@pytest_asyncio.fixture
async def settings(make_settings, tmp_path):
    return await make_settings(
        quiz={"blob_dir": str(tmp_path / "images"), "gc_interval_s": 0}, rate_ip_per_s=0,
        rate_read_ip_per_s=0, identity={"rate_account_per_s": 0},
    )


@pytest_asyncio.fixture
async def node(settings):
    running = await build(settings)
    yield running
    await stop(running)


async def some_of_each(node: Node) -> None:
    """A quiz session played a little, a recording relay room with messages, a billiards match
    with shots."""
    async with serving(node) as port, httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}") as http:
        game = await a_game(http)
        session = await a_session(http, game["id"])
        ann = await join(http, session["code"], "Ann")
        runtime = node["quiz"].runtime
        await runtime.run(session["session_id"], HostAction("owner", "next", 0))
        await runtime.run(session["session_id"], SubmitAnswer(ann["player_id"], 0, 1, None))
        await runtime.run(session["session_id"], HostAction("owner", "end"))
        room = await create_room(http, record=True)
        host = await joined(port, room)
        guest = await joined(port, room)
        for n in range(3):
            await host.broadcast(bytes([n, 255]))
        for _ in range(3):
            await guest.relayed()
        await guest.close()
        await host.close()
        await http.delete(f"/v1/api/rooms/{room['id']}")
        match = await a_match(http)
        for balls in (1, 2, 1):
            assert (await shoot(http, match["id"], shooter=0, balls=balls)).status_code < 300
    await until_stored(node, ("quiz", "relay", "billiards"))


async def until_stored(node: Node, contexts: tuple[str, ...]) -> None:
    for _ in range(100):  # the relay's writer batches its room events
        counts = [len(await stored(node, c)) for c in contexts]
        if all(counts):
            await asyncio.sleep(0.5)
            if [len(await stored(node, c)) for c in contexts] == counts:
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no events stored in one of {contexts}")


async def stored(node: Node, context: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(node.settings.database_url)
    try:
        return await conn.fetch(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            f'FROM "{node.settings.schema}".{TABLES[context]} ORDER BY notification_id')
    finally:
        await conn.close()


def expected(context: str, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """The rows of the export, computed from the store independently of it."""
    out = []
    decode = MsgspecTranscoder().decode
    for row in rows:
        state = decode(row["state"])
        moment = state.pop("timestamp")
        state.pop("originator_topic", None)
        shared = {}
        for name in SHARED:
            value = state.get(name)
            fits = isinstance(value, str) if name == "user" else (
                type(value) is int and -2**31 <= value < 2**31)
            shared[name] = state.pop(name) if fits else None
        out.append({
            "notification_id": row["notification_id"], "context": context,
            "aggregate": str(row["originator_id"]), "version": row["originator_version"],
            "type": row["topic"].rpartition(":")[2],
            "time": moment.astimezone(UTC).isoformat(timespec="microseconds"),
            **shared,
            "data": msgspec.json.decode(msgspec.json.encode(state)) if state else None,
        })
    return out


def read_back(table) -> list[dict[str, Any]]:
    rows = table.to_pylist()
    for row in rows:
        row["time"] = row["time"].astimezone(UTC).isoformat(timespec="microseconds")
        row["data"] = json.loads(row["data"]) if row["data"] else None
    return rows


def table_of(path_or_bytes: Any, form: str):
    if form == "parquet":
        return pq.read_table(path_or_bytes)
    return pa_csv.read_csv(path_or_bytes, convert_options=pa_csv.ConvertOptions(
        strings_can_be_null=True, column_types={"user": "string", "data": "string"}))


@pytest.mark.parametrize("form", ["parquet", "csv"])
@pytest.mark.parametrize("context", ["quiz", "relay", "billiards"])
async def test_a_context_exported_reads_back_equal_to_its_event_store(node, tmp_path, form,
                                                                      context):
    await some_of_each(node)
    rows = await stored(node, context)
    out = tmp_path / f"{context}.{form}"
    done = await asyncio.to_thread(run, node.settings, tmp_path, "export", context, "--format",
                                   form, "--out", str(out))
    assert done.returncode == 0, done.stdout
    assert f"exported {len(rows):,} events" in done.stdout
    exported = read_back(table_of(out, form))
    assert exported == expected(context, rows)
    if context == "relay":  # the recorded messages, their bytes in base64
        relayed = [row["data"] for row in exported if row["type"] == "RelayRoom.MessagesRelayed"]
        payloads = [base64.b64decode(m[-1]) for data in relayed for m in data["messages"]]
        assert len(payloads) == 3 and all(p.endswith(bytes([n, 255])) for n, p in
                                            enumerate(payloads))


async def test_all_exports_every_context(node, tmp_path):
    await some_of_each(node)
    await asyncio.to_thread(node["canvas"].canvases.create_canvas, CreateCanvas(
        width=4, height=4, palette=["#ffffff", "#000000"], cooldown_ms=0))
    transport = httpx.ASGITransport(app=_app(node))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        made = await client.post("/api/desk/init", json={"name": "retro", "create_new": True})
        assert made.status_code == 200
    out = tmp_path / "all.parquet"
    done = await asyncio.to_thread(run, node.settings, tmp_path, "export", "all", "--out",
                                   str(out))
    assert done.returncode == 0, done.stdout
    exported = read_back(pq.read_table(out))
    everything = []
    for context in TABLES:  # context after context, in the order of `api.contexts`
        everything += expected(context, await stored(node, context))
    assert exported == everything
    assert {"canvas", "desk", "quiz", "relay", "billiards"} <= {row["context"] for row in exported}


@pytest.mark.parametrize("context", ["quiz", "relay", "billiards"])
async def test_admins_download_a_context_as_csv_and_parquet(node, context):
    await some_of_each(node)
    rows = await stored(node, context)
    transport = httpx.ASGITransport(app=_app(node))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for form in ("parquet", "csv"):
            download = await client.get("/api/admin/export", headers=ADMIN,
                                        params={"context": context, "format": form})
            assert download.status_code == 200
            table = table_of(io.BytesIO(download.content), form)
            assert read_back(table) == expected(context, rows)


def _app(node: Node):
    from api.app import create_app

    return create_app(node.settings, node=node)
