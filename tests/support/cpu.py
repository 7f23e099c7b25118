"""Where the CPU went during a load: processes sampled by role every half second (a role's
processes may change meanwhile, as an API node restarts), and the machine as a whole."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable

HZ = os.sysconf("SC_CLK_TCK")


def process_ticks(pid: int) -> float | None:
    """CPU seconds (user + system) of a live process; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            after_name = f.read().rpartition(")")[2].split()  # from field 3 (state) on
        return (int(after_name[11]) + int(after_name[12])) / HZ
    except (OSError, ValueError, IndexError):
        return None


def machine_busy() -> float:
    """CPU seconds the whole machine was busy (all but idle and iowait), every core."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / HZ


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as f:
                    ppid = int(f.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == parent:
                found.append(int(entry.name))
    return found


class CpuByRole:
    """`roles()` names the processes of each role now (pid lists); `watch` samples them until
    stopped. A process first seen after the start counts all its CPU time; one that exits
    counts up to its last sample."""

    def __init__(self, roles: Callable[[], dict[str, list[int]]]) -> None:
        self.roles = roles
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.role_of: dict[int, str] = {}
        self.started = self.stopped = 0.0
        self.busy_first = self.busy_last = 0.0

    def sample(self, first: bool = False) -> None:
        for role, pids in self.roles().items():
            for pid in pids:
                ticks = process_ticks(pid)
                if ticks is None:
                    continue
                self.role_of[pid] = role
                self.first.setdefault(pid, ticks if first else 0.0)
                self.last[pid] = ticks
        self.busy_last = machine_busy()

    async def watch(self, stop: asyncio.Event, every_s: float = 0.5) -> None:
        self.sample(first=True)
        self.started, self.busy_first = time.monotonic(), self.busy_last
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)
            self.sample()
        self.stopped = time.monotonic()

    def cores(self) -> dict[str, float]:
        """Cores used on average by each role, the machine (`machine`) and what else ran on it
        meanwhile (`other`: other processes, other users)."""
        seconds = max(self.stopped - self.started, 1e-9)
        used: dict[str, float] = {}
        for pid, role in self.role_of.items():
            used[role] = used.get(role, 0.0) + (self.last[pid] - self.first[pid]) / seconds
        machine = (self.busy_last - self.busy_first) / seconds
        rounded = {role: round(value, 2) for role, value in sorted(used.items())}
        return rounded | {"machine": round(machine, 2),
                          "other": round(machine - sum(used.values()), 2)}
