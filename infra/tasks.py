"""Long-running background tasks that stop when asked, even through libraries that swallow a
cancellation (on Python 3.11, `asyncio.wait_for` can, and nats-py's fetch uses it)."""

from __future__ import annotations

import asyncio
import logging

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
