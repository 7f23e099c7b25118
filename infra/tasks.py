"""Long-running background tasks that stop when asked, even through libraries that swallow a
cancellation (on Python 3.11, `asyncio.wait_for` can, and nats-py's fetch uses it)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


def stop_requested() -> bool:
    """True once the running task has been asked to stop: loops check it at every turn."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop(task: asyncio.Task[None] | None, *, timeout: float = 10.0) -> None:
    if task is None or task.done():
        return
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        log.error("task %s did not stop within %s s", task.get_name(), timeout)


async def until_first_ends(*parts: Coroutine[Any, Any, None]) -> None:
    """Run the parts of one connection together; whichever ends first (a drop, a disconnect)
    ends them all, and their failures end with them."""
    tasks = [asyncio.create_task(part) for part in parts]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
