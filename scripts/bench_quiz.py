#!/usr/bin/env python3
"""Benchmark of live quiz sessions on loopback: one session with many players, many sessions of
a few players at once, and an access-checked image GET beside a static file of the same size,
all against one `tessera serve` started for the run (its own schema and streams, dropped after).

Each player answers every task within `--window` seconds of its start; one silent player per
session keeps every task open until its deadline, which the server's timer closes. Measured:
- `task_start_p99_ms`: the task's start (server time, `started_ms`) to each player receiving it;
- `answer_ack_p99_ms`: an answer sent to its acknowledgement; `answers_per_s` accepted;
- `results_p99_ms` / `results_max_ms`: the deadline to each player having their result;
- `image_rps`, `image_p99_ms` against `static_rps`, `static_p99_ms` (same bytes, same clients).

Bounded: every phase has a timeout, and the whole run an alarm. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import benchkit

ROOT = benchkit.ROOT
OWNER = {"X-Dev-User": "bench-owner"}


def now_ms() -> float:
    return time.time() * 1000


async def post(http: Any, url: str, **options: Any) -> Any:
    """A POST, sent again after a broken keep-alive connection (the server under load closes
    idle ones); a join sent again may find its nickname taken (409), which the caller skips."""
    import httpx

    for attempt in range(3):
        try:
            return await http.post(url, **options)
        except httpx.TransportError:
            if attempt == 2:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


def tasks(count: int, limit_s: int) -> list[dict[str, Any]]:
    return [
        {"kind": "single", "text": f"Task {n}", "time_limit_s": limit_s,
         "options": [{"text": str(i), "correct": i == n % 4} for i in range(4)]}
        for n in range(count)
    ]


KEPT = frozenset({"task", "ack", "error", "results"})


class Player:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task_lag: list[float] = []
        self.acks: list[float] = []
        self.result_lag: list[float] = []
        self.reader: asyncio.Task[None] | None = None
        self.kept: list[dict[str, Any]] = []

    async def read(self) -> None:
        import msgspec

        async for raw in self.socket:
            at = now_ms()
            frame = msgspec.json.decode(raw)
            frame["_at"] = at
            await self.frames.put(frame)

    async def next(self, *types: str, timeout: float = 60) -> dict[str, Any]:
        """The next frame of one of `types`. Frames of the types a caller waits for later are
        kept (a task's results can come before the error of an answer sent after its
        deadline); the others (lobby, answered counts) are dropped."""
        for n, kept in enumerate(self.kept):
            if kept["type"] in types:
                return self.kept.pop(n)
        while True:
            frame = await asyncio.wait_for(self.frames.get(), timeout)
            if frame["type"] in types:
                return frame
            if frame["type"] in KEPT:
                self.kept.append(frame)


async def connect(port: int, session_id: str, hello: dict[str, Any], headers=None) -> Player:
    import websockets

    url = f"ws://127.0.0.1:{port}/api/quiz/sessions/{session_id}/live"
    socket = await websockets.connect(url, additional_headers=headers, max_queue=None,
                                      open_timeout=60, ping_interval=None)
    player = Player(socket)
    player.reader = asyncio.create_task(player.read())
    await socket.send(json.dumps(hello))
    await player.next("state")
    return player


async def a_session(http: Any, players: int, task_count: int, limit_s: int, image: str | None = None
                    ) -> tuple[str, str, list[dict[str, Any]]]:
    body = {"title": "Bench", "tasks": tasks(task_count, limit_s)}
    if image:
        body["tasks"][0]["image"] = image
    game = await http.post("/api/quiz/games", json=body, headers=OWNER)
    game.raise_for_status()
    started = await http.post("/api/quiz/sessions", json={"game_id": game.json()["id"]},
                              headers=OWNER)
    started.raise_for_status()
    sid, code = started.json()["session_id"], started.json()["code"]
    async def join(n: int) -> dict[str, Any] | None:
        answer = await post(http, "/api/quiz/join", json={"code": code, "nickname": f"p{n}"})
        if answer.status_code == 409:
            return None  # a join sent again after a broken connection: the first one counts
        answer.raise_for_status()
        joined: dict[str, Any] = answer.json()
        return joined

    joined: list[dict[str, Any]] = []
    for start in range(0, players + 1, 50):  # the last one stays silent
        batch = await asyncio.gather(*(join(n) for n in range(start, min(players + 1,
                                                                          start + 50))))
        joined += [one for one in batch if one is not None]
    return sid, code, joined


STEP: dict[str, Any] = {}
"""Where `play` is, for the report of a run that failed."""


async def play(port: int, http: Any, sessions: int, players: int, task_count: int, limit_s: int,
               window_s: float) -> dict[str, Any]:
    """`sessions` sessions of `players` answering players (and one silent one) each, at once."""
    STEP.update(step="joining", tasks={})
    made = await asyncio.gather(*(a_session(http, players, task_count, limit_s)
                                  for _ in range(sessions)))
    everyone: list[list[Player]] = []
    STEP["step"] = "connecting"
    for sid, _, joined in made:
        sockets = []
        for start in range(0, len(joined), 200):
            sockets += await asyncio.gather(*(
                connect(port, sid, {"type": "hello", "role": "player",
                                    "player_id": p["player_id"], "token": p["token"]})
                for p in joined[start:start + 200]))
        everyone.append(sockets)
        STEP["connected"] = sum(len(ps) for ps in everyone)
    answered = 0
    answering_s = 0.0
    """Each task's first answer sent to its last acknowledged, summed: the rate's window."""
    for index in range(task_count):
        STEP["step"] = f"task {index}"
        progress = STEP["tasks"].setdefault(index, {"task": 0, "ack": 0, "error": 0, "results": 0})
        first_send = last_ack = 0.0
        started = await asyncio.gather(*(post(http, f"/api/quiz/sessions/{sid}/next",
                                              params={"index": index}, headers=OWNER)
                                         for sid, _, _ in made))
        for response in started:
            if not response.is_success:
                refused = progress.setdefault("next_refused", {})
                refused[response.text[:120]] = refused.get(response.text[:120], 0) + 1

        async def one(
            player: Player, silent: bool, index: int = index, progress: dict = progress
        ) -> None:
            nonlocal answered, first_send, last_ack
            task = await player.next("task")
            progress["task"] += 1
            player.task_lag.append(task["_at"] - task["started_ms"])
            if not silent:
                await asyncio.sleep(random.uniform(0, window_s))
                sent = now_ms()
                first_send = sent if not first_send else min(first_send, sent)
                await player.socket.send(json.dumps(
                    {"type": "answer", "index": index, "answer": random.randrange(4)}))
                ack = await player.next("ack", "error")
                progress[ack["type"]] += 1
                if ack["type"] == "error":  # what went wrong, by code, for the report
                    codes = progress.setdefault("errors", {})
                    codes[ack.get("error")] = codes.get(ack.get("error"), 0) + 1
                if ack["type"] == "ack":
                    answered += 1
                    player.acks.append(ack["_at"] - sent)
                    last_ack = max(last_ack, ack["_at"])
            results = await player.next("results", timeout=limit_s + 60)
            progress["results"] += 1
            player.result_lag.append(results["_at"] - task["deadline_ms"])

        await asyncio.gather(*(one(p, n == len(ps) - 1) for ps in everyone
                               for n, p in enumerate(ps)))
        answering_s += max(0.001, (last_ack - first_send) / 1000)
    players_all = [p for ps in everyone for p in ps]
    for player in players_all:
        await player.socket.close()
    task_lag = [x / 1000 for p in players_all for x in p.task_lag]
    acks = [x / 1000 for p in players_all for x in p.acks]
    results = [x / 1000 for p in players_all for x in p.result_lag]
    return {
        "sessions": sessions, "players_per_session": players, "tasks": task_count,
        "answers": answered,
        "answers_per_s": round(answered / max(0.001, answering_s), 1),
        "task_start_p50_ms": benchkit.percentile_ms(task_lag, 50),
        "task_start_p99_ms": benchkit.percentile_ms(task_lag, 99),
        "answer_ack_p50_ms": benchkit.percentile_ms(acks, 50),
        "answer_ack_p99_ms": benchkit.percentile_ms(acks, 99),
        "results_p50_ms": benchkit.percentile_ms(results, 50),
        "results_p99_ms": benchkit.percentile_ms(results, 99),
        "results_max_ms": round(max(results) * 1000, 3) if results else None,
    }


async def hammer(port: int, path: str, headers: dict[str, str], seconds: float,
                 connections: int) -> dict[str, Any]:
    """GETs on keep-alive connections for `seconds`: requests/s and latencies (a minimal
    HTTP/1.1 client: the load generator must cost less than what it measures)."""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    took = time.perf_counter() - started
    return {"rps": round(len(latencies) / took, 1), "p50_ms": benchkit.percentile_ms(latencies, 50),
            "p99_ms": benchkit.percentile_ms(latencies, 99), "statuses": statuses}


def an_image(side: int) -> bytes:
    from PIL import Image

    noise = Image.effect_noise((side, side), 80).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "PNG")
    return out.getvalue()


async def images(port: int, http: Any, run: benchkit.Run, seconds: float, connections: int,
                 side: int) -> dict[str, Any]:
    uploaded = await http.put("/api/quiz/images", content=an_image(side),
                              headers={**OWNER, "Content-Type": "image/png"})
    uploaded.raise_for_status()
    sha = uploaded.json()["id"]
    _, _, joined = await a_session(http, 1, 1, 60, image=sha)
    token = joined[0]["token"]
    path = f"/api/quiz/images/{sha}"
    for _ in range(200):  # until the read models know the player
        if (await http.get(path, headers={"X-Quiz-Player": token})).status_code == 200:
            break
        await asyncio.sleep(0.05)
    body = (await http.get(path, headers={"X-Quiz-Player": token})).content
    static = ROOT / "api" / "static" / "quiz" / f".bench-{run.prefix}.png"
    static.write_bytes(body)
    try:
        checked = await hammer(port, path, {"X-Quiz-Player": token}, seconds, connections)
        plain = await hammer(port, f"/static/quiz/{static.name}", {}, seconds, connections)
    finally:
        static.unlink(missing_ok=True)
    return {
        "image_bytes": len(body),
        "image_rps": checked["rps"], "image_p50_ms": checked["p50_ms"],
        "image_p99_ms": checked["p99_ms"], "image_statuses": checked["statuses"],
        "static_rps": plain["rps"], "static_p50_ms": plain["p50_ms"],
        "static_p99_ms": plain["p99_ms"], "static_statuses": plain["statuses"],
        "image_share_of_static": round(checked["rps"] / plain["rps"], 3) if plain["rps"] else None,
    }


async def run_bench(run: benchkit.Run, args: argparse.Namespace) -> None:
    import httpx

    run.settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    run.migrated = True
    port = benchkit.free_port()
    await benchkit.start_server(run, port)
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60,
                                 limits=limits) as http:
        if args.players:
            benchkit.say(f"one session of {args.players} players")
            run.result["phase"] = "one_session"
            run.result["one_session"] = await asyncio.wait_for(
                play(port, http, 1, args.players, args.tasks, args.limit, args.window), 600)
        if args.sessions:
            benchkit.say(f"{args.sessions} sessions of {args.session_players} players")
            run.result["phase"] = "many_sessions"
            run.result["many_sessions"] = await asyncio.wait_for(
                play(port, http, args.sessions, args.session_players, args.tasks, args.limit,
                     args.window), 900)
        run.result["phase"] = "images"
        benchkit.say("image GET against a static file")
        run.result["images"] = await asyncio.wait_for(
            images(port, http, run, args.http_seconds, args.connections, args.image_side), 300)
        del run.result["phase"]
    run.result["server_errors"] = benchkit.server_log_errors(run.server_log)


async def run_reporting(run: benchkit.Run, args: argparse.Namespace) -> None:
    try:
        await run_bench(run, args)
    finally:
        if "phase" in run.result:
            run.result["where"] = STEP


def headline(result: dict[str, Any]) -> dict[str, Any]:
    one = result.get("one_session", {})
    many = result.get("many_sessions", {})
    pictures = result.get("images", {})
    return {
        "one_task_start_p99_ms": one.get("task_start_p99_ms"),
        "one_answer_ack_p99_ms": one.get("answer_ack_p99_ms"),
        "one_results_p99_ms": one.get("results_p99_ms"),
        "one_answers_per_s": one.get("answers_per_s"),
        "many_task_start_p99_ms": many.get("task_start_p99_ms"),
        "many_answer_ack_p99_ms": many.get("answer_ack_p99_ms"),
        "many_results_p99_ms": many.get("results_p99_ms"),
        "image_rps": pictures.get("image_rps"),
        "static_rps": pictures.get("static_rps"),
        "image_share_of_static": pictures.get("image_share_of_static"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=2000, help="players of the one session")
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--session-players", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--limit", type=int, default=5, help="each task's time limit (s)")
    parser.add_argument("--window", type=float, default=2.0, help="answers within (s)")
    parser.add_argument("--http-seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--image-side", type=int, default=128, help="a noise PNG of side²")
    parser.add_argument("--timeout", type=float, default=1500, help="give up after (s)")
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    run = benchkit.new_run("bench_quiz", "bench_quiz")
    started = time.perf_counter()
    machine = benchkit.machine()
    error = benchkit.run_guarded(run, run_reporting(run, args), alarm_s=args.timeout)
    result = benchkit.report(headline(run.result), run, error)
    result["machine"] = machine
    result["params"] = {k: v for k, v in vars(args).items()}
    result["elapsed_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.exit(main())
