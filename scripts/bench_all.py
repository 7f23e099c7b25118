#!/usr/bin/env python3
"""Every benchmark in a quick mode, one JSON line each; with `--against REV`, the same quick runs
of an earlier commit, alternated with this checkout's, and the ratios of their figures.

    scripts/bench_all                          # this checkout, one round
    scripts/bench_all --against 930d1c5        # alternated with that commit, two rounds each
    scripts/bench_all --against 930d1c5 --full # the full canvas benchmark instead, alternated

The earlier commit is checked out into a temporary worktree and run with this checkout's venv
(its own code first on the path), so nothing is installed; the worktree is removed afterwards.
Ratios are after / before on the medians of the rounds. A ratio of one run against another
moves by ±15 % on the 2-core development machine: read a change as real only when it holds
across rounds and well beyond that.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bench:
    name: str
    command: list[str]
    figures: tuple[str, ...]
    """The figures compared (the rest of the JSON line is printed as it is)."""
    full: tuple[str, ...] = ()
    """The command of a full run (`--full`), for a benchmark whose quick run is too small to
    show a figure (the canvas's rebuild of 34,000 events is mostly fixed costs)."""


QUICK = (
    Bench(
        "auth",
        ["scripts/bench_auth.py"],
        ("verify_median_us", "verify_first_sight_median_us", "request_median_us_bearer"),
    ),
    Bench(
        "canvas",
        ["scripts/bench_canvas.py", "--quick"],
        (
            "writer_placements_per_s",
            "copy_rows_per_s",
            "writer_to_copy_ratio",
            "http_placements_per_s",
            "http_to_bare_ratio",
            "http_ack_p99_ms",
            "http_ack_p99_over_bare",
            "delta_p50_ms",
            "delta_p99_ms",
            "rebuild_events_per_s",
        ),
        full=("scripts/bench_canvas.py",),
    ),
    Bench(
        "metrics",
        ["scripts/bench_metrics.py", "--requests", "5000", "--rounds", "3"],
        ("metrics_cost_us", "metrics_cost_share_of_bare_request"),
    ),
    Bench(
        "live_canvas",
        [
            "scripts/load_canvas.py",
            *("--players", "300", "--spectators", "300", "--rate", "600"),
            *("--seconds", "6", "--burst-seconds", "2"),
        ],
        ("delivery_p50_ms", "delivery_p99_ms", "burst_acked_per_s", "baseline_echo_p50_ms"),
    ),
    Bench(
        "desk",
        [
            "scripts/bench_desk.py",
            *("--nodes", "2", "--desks", "300", "--rate", "3000"),
            *("--seconds", "6", "--warmup", "2", "--join-stickers", "300"),
        ],
        (
            "ops_accepted_per_s",
            "op_to_peers_p50_ms",
            "op_to_peers_p99_ms",
            "join_1000_server_ms",
            "desk_load_ms",
            "baseline_nats_msgs_per_s",
        ),
    ),
)


def say(message: str) -> None:
    print(f"[bench_all {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(tree: Path, python: list[str], bench: Bench, env: dict[str, str]) -> dict[str, Any]:
    """One benchmark in `tree`; its JSON line (or what went wrong)."""
    started = time.perf_counter()
    done = subprocess.run(
        [*python, *bench.command],
        check=False,
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = round(time.perf_counter() - started, 1)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout)[-600:]
        return {"error": f"exit {done.returncode}", "detail": tail, "elapsed_s": elapsed}
    result: dict[str, Any] = json.loads(lines[-1])
    result["elapsed_s"] = elapsed
    return result


def commit_of(tree: Path, rev: str = "HEAD") -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=tree, capture_output=True, text=True, check=True
    ).stdout.strip()


class Reference:
    """An earlier commit in a temporary worktree, run with this checkout's interpreter and its
    own code first on the path: `python` runs its scripts, and a `.venv/bin/tessera` there
    (what the benchmarks spawn) starts its own command line."""

    def __init__(self, rev: str) -> None:
        self.rev = rev
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-all-"))
        self.tree = self.tmp / "tree"

    def __enter__(self) -> Self:
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(self.tree), self.rev],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        bin_dir = self.tree / ".venv" / "bin"
        bin_dir.mkdir(parents=True)
        entry = tomllib.loads((self.tree / "pyproject.toml").read_text())["project"]["scripts"]
        module, function = entry["tessera"].split(":")
        launcher = (
            f"import sys; sys.argv[0] = 'tessera'; from {module} import {function}; {function}()"
        )
        self._script(bin_dir / "python", f'exec {shlex.quote(sys.executable)} "$@"')
        self._script(
            bin_dir / "tessera",
            f'exec {shlex.quote(sys.executable)} -c {shlex.quote(launcher)} "$@"',
        )
        return self

    def _script(self, path: Path, command: str) -> None:
        tree = shlex.quote(str(self.tree))
        path_line = f'export PYTHONPATH={tree}"${{PYTHONPATH:+:$PYTHONPATH}}"'
        path.write_text(f"#!/bin/sh\n{path_line}\n{command}\n")
        path.chmod(0o755)

    def __exit__(self, *_: object) -> None:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(self.tree)],
            check=False,
            cwd=ROOT,
            capture_output=True,
        )
        subprocess.run(["rm", "-rf", str(self.tmp)], check=False)

    @property
    def python(self) -> list[str]:
        return [str(self.tree / ".venv" / "bin" / "python")]


def median(results: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in results if isinstance(r.get(key), int | float)]
    return round(statistics.median(values), 3) if values else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", help="an earlier commit to compare with")
    parser.add_argument("--rounds", type=int, help="rounds of each (default 1; 2 with --against)")
    parser.add_argument("--only", action="append", choices=[b.name for b in QUICK])
    parser.add_argument("--full", action="store_true",
                        help="the full runs of the benchmarks that have one (canvas), not quick")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.against else 1)
    benches = [b for b in QUICK if not args.only or b.name in args.only]
    if args.full:
        benches = [replace(b, command=list(b.full)) for b in benches if b.full]
    env = dict(os.environ)
    here = [sys.executable]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    head = commit_of(ROOT)

    def measure(label: str, tree: Path, python: list[str], bench: Bench, round_: int) -> None:
        say(f"{bench.name} on {label}, round {round_}")
        result = run(tree, python, bench, env)
        results.setdefault((bench.name, label), []).append(result)
        print(json.dumps({"bench": bench.name, "commit": label, "round": round_, **result}))

    if args.against is None:
        for round_ in range(1, rounds + 1):
            for bench in benches:
                measure(head, ROOT, here, bench, round_)
        return 0
    with Reference(args.against) as reference:
        before = commit_of(ROOT, args.against)
        for round_ in range(1, rounds + 1):
            for bench in benches:
                # Alternate which goes first: the machine's speed drifts within minutes.
                order = [(before, reference.tree, reference.python), (head, ROOT, here)]
                if round_ % 2 == 0:
                    order.reverse()
                for label, tree, python in order:
                    measure(label, tree, python, bench, round_)
    for bench in benches:
        comparison: dict[str, Any] = {}
        for key in bench.figures:
            old = median(results.get((bench.name, before), []), key)
            new = median(results.get((bench.name, head), []), key)
            ratio = round(new / old, 2) if old and new is not None else None
            comparison[key] = {"before": old, "after": new, "after_over_before": ratio}
        print(
            json.dumps(
                {"bench": bench.name, "compare": f"{head} against {before}", "rounds": rounds}
                | {"figures": comparison}
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
