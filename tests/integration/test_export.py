"""Exports read back equal the event store: `tessera export` on the command line (Parquet, CSV,
NDJSON) and the admin's HTTP download, on real PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
import msgspec
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from api.app import build, create_app
from commands.actor import Actor
from commands.canvas.wire import ClearCanvas, CreateCanvas, FillRectangle, PlacePixel
from tests.integration.conftest import stop
from tests.integration.helpers import stored_events
from tests.support.cli import run

PALETTE = ["#ffffff", "#000000", "#ff0000"]
ADMIN = Actor("root", is_admin=True)


@pytest.fixture
async def node(settings):
    running = await build(settings, roles={"api"})
    yield running
    await stop(running)


async def some_history(node, placements: int = 300):
    canvases = node["canvas"].canvases
    canvas = await asyncio.to_thread(
        canvases.create_canvas, CreateCanvas(width=20, height=20, palette=PALETTE, cooldown_ms=0)
    )
    for i in range(placements):
        await canvases.execute(canvas.id, Actor(f"user{i % 7}", is_admin=True),
                               PlacePixel(x=i % 20, y=i // 20 % 20, colour=i % 3))
        if i == 100:
            await canvases.execute(canvas.id, ADMIN, FillRectangle(x=0, y=0, width=3, height=2,
                                                                   colour=1))
        if i == 200:
            await canvases.execute(canvas.id, ADMIN, ClearCanvas())
    return canvas.id


def expected_rows(rows):
    out = []
    for row in rows:
        state = msgspec.msgpack.decode(row["state"], ext_hook=lambda code, data: bytes(data))
        kind = row["topic"].rpartition(":")[2]
        out.append({
            "notification_id": row["notification_id"], "context": "canvas",
            "aggregate": str(row["originator_id"]), "version": row["originator_version"],
            "type": kind,
            "x": state.get("x"), "y": state.get("y"), "colour": state.get("colour"),
            "user": state.get("user"), "width": state.get("width"),
            "height": state.get("height"),
        })
    return out


def comparable(table):
    columns = ["notification_id", "context", "aggregate", "version", "type", "x", "y", "colour",
               "user", "width", "height"]
    return [{k: row[k] for k in columns} for row in table.select(columns).to_pylist()]


@pytest.mark.parametrize("form", ["parquet", "csv"])
async def test_an_export_read_back_equals_the_event_store(node, settings, tmp_path, form):
    await some_history(node)
    rows = await stored_events(settings)
    out = tmp_path / f"canvas.{form}"
    done = await asyncio.to_thread(run, settings, tmp_path, "export", "canvas", "--format", form,
                                   "--out", str(out))
    assert done.returncode == 0, done.stdout
    assert f"exported {len(rows):,} events" in done.stdout
    table = pq.read_table(out) if form == "parquet" else pa_csv.read_csv(
        out, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
    assert comparable(table) == expected_rows(rows)
    if form == "parquet":
        times = table.column("time").to_pylist()
        assert all(t is not None for t in times) and times == sorted(times)


async def test_an_export_from_a_schema_without_a_store_says_so_and_leaves_no_file(
    settings, tmp_path
):
    elsewhere = msgspec.structs.replace(settings, schema=f"{settings.schema}_none")
    out = tmp_path / "canvas.parquet"
    done = await asyncio.to_thread(run, elsewhere, tmp_path, "export", "canvas", "--format",
                                   "parquet", "--out", str(out))
    assert done.returncode == 2, done.stdout
    assert f"the schema '{elsewhere.schema}' of this database has no event store" in done.stdout
    assert "Traceback" not in done.stdout
    assert list(tmp_path.glob("*canvas.parquet*")) == []


async def test_a_range_of_ids_exports_only_those_and_ndjson_has_a_line_each(node, settings,
                                                                            tmp_path):
    await some_history(node, placements=50)
    rows = await stored_events(settings)
    out = tmp_path / "part.ndjson"
    done = await asyncio.to_thread(run, settings, tmp_path, "export", "all", "--from", "10",
                                   "--to", "20", "--format", "ndjson", "--out", str(out))
    assert done.returncode == 0, done.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [line["notification_id"] for line in lines] == list(range(10, 21))
    assert [line["x"] for line in lines] == [msgspec.msgpack.decode(
        r["state"], ext_hook=lambda c, d: None).get("x") for r in rows[9:20]]


async def test_admins_download_an_export_and_others_cannot(node, settings):
    await some_history(node, placements=40)
    rows = await stored_events(settings)
    transport = httpx.ASGITransport(app=create_app(settings, node=node))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        download = await client.get("/api/admin/export", params={"context": "canvas"},
                                    headers={"X-Dev-User": "root", "X-Dev-Roles": "admin"})
        assert download.status_code == 200
        table = pq.read_table(io.BytesIO(download.content))
        assert comparable(table) == expected_rows(rows)
        refused = await client.get("/api/admin/export", headers={"X-Dev-User": "ann"})
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
        for params in ({"format": "xlsx"}, {"context": "nope"}, {"from": "9", "to": "3"},
                       {"from": "soon"}):
            bad = await client.get("/api/admin/export", params=params,
                                   headers={"X-Dev-User": "root", "X-Dev-Roles": "admin"})
            assert (bad.status_code, bad.json()["error"]) == (422, "invalid_export"), params
