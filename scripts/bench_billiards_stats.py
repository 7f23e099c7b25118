#!/usr/bin/env python3
"""Billiards stats and ratings benchmark: one JSON line on stdout, progress on stderr.

    .venv/bin/python scripts/bench_billiards_stats.py [--quick] [--players N] [--matches M]

N players (100,000; --quick 2,000) play M finished matches (1,000,000; --quick 20,000), saved
through the billiards event store: Американка and Московская between two players, Колхоз
between three or four, shots drawn at random until the match ends, spread over three months
(so there are seasons). Measured:

1. rebuild: the players read model (stats, head-to-head, histories, ratings, buckets) from
   the event store, in this process: events/s;
2. under `tessera serve` (its own schema and stream prefix, dev auth, rate limits off), once
   its read models have caught up, over keep-alive HTTP, one request at a time: a leaderboard's
   top 100, a random player's rank on a board ("my rank") and a random player's stats page:
   p50/p99; the rank query alone in this process (its SQL: the bucket sum and one bucket);
3. a board of `--board` players (100,000, also with --quick): ratings drawn at random and
   copied into the ratings table as the season 2000-01 (no match of the run is in it), so that
   the top 100 and "my rank" are measured over HTTP on a board of the full size;
4. end to end: matches between loaded players, created, joined and ended over HTTP; from
   sending the finishing shot to its rating change being readable (the stats are written in
   the same transaction): p50/p99;
5. notifications: the outbox's sender on `--notices` notices to as many chats, through a Bot
   API that answers after 100 ms: sent a second (Telegram allows 30).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchkit
from benchkit import Run, percentile_ms, say

GAMES = (("american", 0.45), ("moscow", 0.45), ("kolkhoz", 0.10))
SAVE_MATCHES = 200
"""Matches a `save()` writes at once."""


def a_finished_match(rng: random.Random, players: int, at: datetime) -> Any:
    from domain.billiards.match import BilliardsMatch
    from domain.billiards.play import Shot
    from domain.billiards.rules import BUILT_IN_IDS, built_in

    game = rng.choices([g for g, _ in GAMES], [w for _, w in GAMES])[0]
    seats = rng.randint(3, 4) if game == "kolkhoz" else 2
    chosen = rng.sample(range(players), seats)
    rules = built_in(game)
    match = BilliardsMatch.create(
        match_id=uuid4(), template_id=BUILT_IN_IDS[game], template_version=1,
        template_name=game, rules=rules,
        players=[{"name": f"Player {p}", "account": f"p{p}"} for p in chosen],
        order=list(range(seats)), creator=f"p{chosen[0]}", invite_hash="-", now=at,
    )
    n = 0
    while match.finished is None:  # amateurs: 6 % fouls, 60 % of shots pot nothing
        table = match.table
        if rng.random() < 0.06:
            shot = Shot(shooter=table.shooter, fouls=("miss",))
        else:
            balls = rng.choices((0, 1, 2), (0.6, 0.35, 0.05))[0]
            shot = Shot(shooter=table.shooter, balls=min(table.on_table, balls))
        match.record_shot(by=match.scorekeeper, key=f"k{n}", shot=shot, now=at)
        n += 1
    return match


async def load(run: Run, players: int, matches: int) -> dict[str, Any]:
    from commands.billiards.billiards import Billiards
    from infra.spine.eventstore import application_env

    app = await asyncio.to_thread(Billiards, application_env(run.settings))
    rng = random.Random(7)
    start = datetime.now(UTC) - timedelta(days=90)
    step = timedelta(days=90) / matches
    events = 0
    t0 = time.perf_counter()
    saving: asyncio.Future[Any] | None = None
    """A batch's save, on its thread, while the next batch is played."""
    try:
        done = 0
        while done < matches:
            size = min(SAVE_MATCHES, matches - done)
            batch = [a_finished_match(rng, players, start + step * (done + i)) for i in range(size)]
            events += sum(len(m.pending_events) for m in batch)
            if saving is not None:
                await saving  # the saves stay in order
            saving = asyncio.ensure_future(asyncio.to_thread(app.save, *batch))
            done += size
            if done % (matches // 10 or 1) < SAVE_MATCHES:
                say(f"loaded {done:,} matches, {events:,} events "
                    f"({events / (time.perf_counter() - t0):,.0f} events/s)")
        if saving is not None:
            await saving
    finally:
        if saving is not None and not saving.done():
            await asyncio.wait([saving])
        await asyncio.to_thread(app.close)
    # Autovacuum analyzes a table a bulk load changed, but not at once. Until then the planner
    # takes the log for nearly empty, and reads each page of a rebuild by sorting the whole rest
    # of it: 2 s a 20,000-event page of the --quick log instead of 10 ms.
    await asyncio.to_thread(analyze, run, "billiards_events")
    return {"loaded_events": events, "load_events_per_s": round(events / (time.perf_counter() - t0))}


def analyze(run: Run, table: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(run.settings.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(run.schema),
                                                     sql.Identifier(table)))


async def rebuild(run: Run, pool: Any, nc: Any) -> dict[str, Any]:
    from infra.billiards.players_model import PlayersReadModel
    from infra.spine.eventstore import events_table
    from infra.spine.runner import ProjectionRunner
    from infra.spine.store_reader import StoreReader

    # `tessera project --rebuild` tunes its collector before it rebuilds (`infra.tuning`): so
    # does this process, to measure the rebuild as it runs. Untuned, the collector's passes
    # over the growing books took 40 % of the rebuild's CPU.
    from infra.tuning import tune_process

    tune_process()
    settings = run.settings
    runner = ProjectionRunner(
        PlayersReadModel(pool, settings.schema),  # type: ignore[arg-type]
        pool=pool, js=nc.jetstream(),
        store=StoreReader(pool, settings.schema, events_table("billiards")),
        schema=settings.schema, stream=settings.events_stream,
        subject=f"{settings.stream_prefix}.ev.billiards.>",
        consumer=f"{settings.stream_prefix}_billiards_players",
    )
    load_before = os.getloadavg()[0]
    t0, cpu0 = time.perf_counter(), time.process_time()
    events = await runner.rebuild()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    say(f"rebuild: {events:,} events in {elapsed:.1f} s ({cpu:.1f} s of this process's CPU)")
    return {"rebuild_events": events, "rebuild_events_per_s": round(events / elapsed),
            "rebuild_process_cpu_s": round(cpu, 2),
            "rebuild_loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)]}


async def caught_up(run: Run, pool: Any, timeout: float, *, names: str = "billiards_%") -> float:
    """Until the server's billiards read models (those whose names are LIKE `names`) have read
    the whole store; seconds waited. The reads are measured once all have: one still catching
    up takes the server's loop from the requests."""
    s = f'"{run.schema}"'
    t0 = time.perf_counter()
    while True:
        last = await pool.fetchval(f"SELECT max(notification_id) FROM {s}.billiards_events")
        low = await pool.fetchval(
            f"SELECT min(position) FROM {s}.projection_positions WHERE name LIKE $1", names
        )
        if low is not None and low >= last:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError(f"read models at {low} of {last} after {timeout:.0f} s")
        await asyncio.sleep(0.5)


async def timed(http: Any, urls: list[str]) -> dict[str, Any]:
    times = []
    for url in urls:
        t0 = time.perf_counter()
        answer = await http.get(url)
        times.append(time.perf_counter() - t0)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {url}: {answer.status_code} {answer.text[:300]}")
    return {"p50_ms": percentile_ms(times, 50), "p99_ms": percentile_ms(times, 99),
            "samples": len(times)}


async def reads(http: Any, pool: Any, run: Run, players: int, samples: int) -> dict[str, Any]:
    from infra.billiards.players_reads import PlayersView

    rng = random.Random(11)
    rated = [r[0] for r in await pool.fetch(
        f'SELECT player FROM "{run.schema}".billiards_ratings '
        "WHERE kind = 'american' AND season = 'all'")]
    board_size = len(rated)
    kinds = ("american", "moscow")
    result: dict[str, Any] = {"board_players": board_size}
    for name, urls in (
        ("leaderboard_top100", [f"/api/billiards/leaderboards/{rng.choice(kinds)}?limit=100"
                                for _ in range(samples)]),
        ("my_rank", [f"/api/billiards/leaderboards/american/players/{rng.choice(rated)}"
                     for _ in range(samples)]),
        ("stats_page", [f"/api/billiards/players/{rng.choice(rated)}/stats"
                        for _ in range(samples)]),
    ):
        await timed(http, urls[: samples // 10])  # warm the connection and the caches
        result[name] = await timed(http, urls)
        say(f"{name}: {result[name]}")
    view = PlayersView(pool, run.schema)
    times = []
    for player in rng.choices(rated, k=samples):
        t0 = time.perf_counter()
        await view.get_standing("american", "all", player)
        times.append(time.perf_counter() - t0)
    result["rank_query"] = {"p50_ms": percentile_ms(times, 50), "p99_ms": percentile_ms(times, 99),
                            "samples": samples}
    return result


SYNTHETIC = "2000-01"


async def full_board(http: Any, pool: Any, run: Run, size: int, samples: int) -> dict[str, Any]:
    from projections.billiards.ratings import bucket_of

    rng = random.Random(17)
    rows = []
    for i in range(size):
        mu, sigma = rng.gauss(25, 4), max(0.8, rng.gauss(3, 1))
        rows.append(("american", SYNTHETIC, f"s{i}", f"Synthetic {i}", mu, sigma,
                     mu - 3 * sigma, bucket_of(mu - 3 * sigma), rng.randint(1, 40), None))
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("billiards_ratings", records=rows, schema_name=run.schema)
        await conn.execute(
            f'INSERT INTO "{run.schema}".billiards_rating_buckets SELECT kind, season, bucket, '
            f'count(*) FROM "{run.schema}".billiards_ratings WHERE season = $1 GROUP BY 1, 2, 3',
            SYNTHETIC,
        )
        # A board in use is vacuumed by autovacuum (100,000 rows inserted: at once): its
        # pages are all-visible, and a rank's count in one bucket reads the index alone. Just
        # copied, each of those rows is looked up in the table (2 ms where it takes 0.3).
        await conn.execute(f'VACUUM ANALYZE "{run.schema}".billiards_ratings')
    result: dict[str, Any] = {"players": size}
    for name, urls in (
        ("top100", [f"/api/billiards/leaderboards/american?season={SYNTHETIC}&limit=100"] * samples),
        ("my_rank", [f"/api/billiards/leaderboards/american/players/s{rng.randrange(size)}"
                     f"?season={SYNTHETIC}" for _ in range(samples)]),
    ):
        await timed(http, urls[: samples // 10])
        result[name] = await timed(http, urls)
        say(f"board of {size:,}: {name}: {result[name]}")
    return {"full_board": result}


async def end_to_end(http: Any, players: int, count: int) -> dict[str, Any]:
    from domain.billiards.rules import BUILT_IN_IDS

    rng = random.Random(13)
    delays = []
    for _ in range(count):
        a, b = (f"p{p}" for p in rng.sample(range(players), 2))
        created = await http.post("/api/billiards/matches", headers={"X-Dev-User": a}, json={
            "template_id": str(BUILT_IN_IDS["american"]),
            "players": [{"name": a, "me": True}, {"name": b}]})
        body = created.json()
        match_id = body["id"]
        joined = await http.post(f"/api/billiards/matches/{match_id}/join",
                                 headers={"X-Dev-User": b},
                                 json={"invite": body["invite"], "name": b, "seat": 1})
        if joined.status_code != 200:
            raise RuntimeError(f"join: {joined.status_code} {joined.text[:300]}")
        t0 = time.perf_counter()
        shot = await http.post(f"/api/billiards/matches/{match_id}/shots",
                               headers={"X-Dev-User": a},
                               json={"key": "end", "shooter": 0, "balls": 8})
        if shot.status_code != 200:
            raise RuntimeError(f"shot: {shot.status_code} {shot.text[:300]}")
        while True:
            answer = await http.get(f"/api/billiards/matches/{match_id}/rating-changes/{b}")
            if answer.status_code == 200:
                break
            if time.perf_counter() - t0 > 30:
                raise RuntimeError(f"no rating change 30 s after match {match_id} ended")
            await asyncio.sleep(0.002)
        delays.append(time.perf_counter() - t0)
    say(f"end -> ratings and stats: p99 {percentile_ms(delays, 99)} ms")
    return {"end_to_ratings_p50_ms": percentile_ms(delays, 50),
            "end_to_ratings_p99_ms": percentile_ms(delays, 99), "end_to_ratings_samples": count}


class SlowBot:
    """A Bot API that answers each message after Telegram's round trip, and sends nothing."""

    def __init__(self, round_trip_s: float) -> None:
        self.round_trip_s = round_trip_s

    async def send_message(
        self, chat_id: int, text: str, reply_to_message_id: int | None = None, *,
        web_app: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        await asyncio.sleep(self.round_trip_s)
        return {}


async def notifications(run: Run, pool: Any, count: int, round_trip_s: float) -> dict[str, Any]:
    """The outbox's sender (with the server stopped, so that it is the only one) on `count`
    notices to as many chats, through a Bot API answering after `round_trip_s`: notices sent
    a second, within Telegram's limit of 30."""
    from infra.billiards.notifier import Notifier

    s = f'"{run.schema}"'
    # The loaded matches' results wait for players who have no chat with the bot: the sender
    # would first drop them, one statement each (60,000 matches: minutes), so they go at once.
    await pool.execute(f"UPDATE {s}.billiards_outbox SET state = 'dropped', reason = "
                       "'bench: a loaded player has no chat' WHERE state = 'pending'")
    accounts = [f"notified{i}" for i in range(count)]
    await pool.execute(
        f"INSERT INTO {s}.billiards_outbox_recipients (player_id, account, chat_id) "
        "SELECT gen_random_uuid(), a, 10000000 + n FROM unnest($1::text[]) WITH ORDINALITY "
        "AS x(a, n)", accounts)
    await pool.execute(
        f"INSERT INTO {s}.billiards_outbox (key, account, kind, params) SELECT 'bench/' || a, "
        "a, 'friend_request', '{\"name\": \"Bench\", \"from\": \"bench\"}' "
        "FROM unnest($1::text[]) AS a", accounts)
    notifier = Notifier(pool, run.schema, lambda: SlowBot(round_trip_s), weekly=False)
    t0 = time.perf_counter()
    notifier.start()
    try:
        while notifier.sent < count:
            if time.perf_counter() - t0 > count:  # at 1 a second, it would be done
                raise RuntimeError(f"{notifier.sent} of {count} notices sent after {count} s")
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
    finally:
        await notifier.stop()
    say(f"notifications: {notifier.sent} sent in {elapsed:.1f} s")
    return {"notifications_sent_per_s": round(notifier.sent / elapsed, 1),
            "notifications_sent": notifier.sent, "notify_round_trip_ms": round_trip_s * 1000}


async def run_bench(run: Run, args: argparse.Namespace) -> None:
    import asyncpg
    import httpx
    import nats

    run.settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    run.migrated = True
    run.stream_created = True
    migrated = await asyncio.to_thread(
        subprocess.run, [benchkit.tessera_command(), "migrate"], env=benchkit.tessera_env(run),
        cwd=benchkit.ROOT, capture_output=True, timeout=120,
    )
    if migrated.returncode != 0:
        raise RuntimeError(f"tessera migrate: {migrated.stderr.decode(errors='replace')[-2000:]}")
    run.result.update(await load(run, args.players, args.matches))
    pool = await asyncpg.create_pool(run.settings.database_url, min_size=1, max_size=2)
    nc = await nats.connect(run.settings.nats_url, name="bench-billiards-stats")
    try:
        run.result.update(await rebuild(run, pool, nc))
        port = benchkit.free_port()
        say(f"starting the server on port {port} (schema {run.schema})")
        await benchkit.start_server(run, port, timeout=args.timeout / 2)  # it catches up first
        waited = await caught_up(run, pool, args.timeout / 2)
        say(f"the server's read models caught up in {waited:.1f} s")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            run.result.update(await reads(http, pool, run, args.players, args.samples))
            run.result.update(await full_board(http, pool, run, args.board, args.samples))
            run.result.update(await end_to_end(http, args.players, args.ends))
        run.result["server_stopped_cleanly"] = benchkit.stop_server(run, timeout=15.0)
        run.result["server_log_errors"] = benchkit.server_log_errors(run.server_log)
        run.result.update(await notifications(run, pool, args.notices, round_trip_s=0.1))
    finally:
        await nc.close()
        await pool.close()


def headline(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "rebuild_events_per_s": result.get("rebuild_events_per_s"),
        "leaderboard_top100_p99_ms": result.get("leaderboard_top100", {}).get("p99_ms"),
        "my_rank_p99_ms": result.get("my_rank", {}).get("p99_ms"),
        "board_100k_top100_p99_ms": result.get("full_board", {}).get("top100", {}).get("p99_ms"),
        "board_100k_my_rank_p99_ms": result.get("full_board", {}).get("my_rank", {}).get("p99_ms"),
        "stats_page_p99_ms": result.get("stats_page", {}).get("p99_ms"),
        "end_to_ratings_p99_ms": result.get("end_to_ratings_p99_ms"),
        "notifications_sent_per_s": result.get("notifications_sent_per_s"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1/50 of the players and matches")
    parser.add_argument("--players", type=int)
    parser.add_argument("--matches", type=int)
    parser.add_argument("--samples", type=int, default=1000, help="requests per read measured")
    parser.add_argument("--board", type=int, default=100_000, help="players of the full board")
    parser.add_argument("--ends", type=int, default=100, help="matches ended end to end")
    parser.add_argument("--notices", type=int, default=300, help="notifications sent")
    parser.add_argument("--timeout", type=float, default=3600, help="give up after (s)")
    parser.add_argument("--server-log", type=Path, help="keep a copy of the server's log here")
    args = parser.parse_args()
    scale = 50 if args.quick else 1
    args.players = args.players or 100_000 // scale
    args.matches = args.matches or 1_000_000 // scale
    run = benchkit.new_run("bench_billiards_stats", "bench_bstats")
    started = time.perf_counter()
    machine = benchkit.machine()
    error = benchkit.run_guarded(run, run_bench(run, args), alarm_s=args.timeout + 120,
                                 keep_log=args.server_log)
    result = benchkit.report(headline(run.result), run, error)
    result["machine"] = machine
    result["params"] = {"players": args.players, "matches": args.matches, "quick": args.quick,
                        "samples": args.samples, "ends": args.ends, "board": args.board,
                        "notices": args.notices}
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
