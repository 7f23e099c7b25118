"""A pull consumer's messages in a turn or two of the event loop, however many there are.

nats-py's `PullSubscription.fetch` awaits each message of a batch on its own (a task and a timer
per message). On a node whose loop is busy serving requests every such await waits a full turn
of the loop, and a turn then takes 10-20 ms: a batch of 20 messages took 60-70 ms to fetch, the
canvas's live deltas fell hundreds of ms behind the placements, and the slower the projection
went the more messages each batch held. Here a pull request stays open for the fetch's timeout,
the first message is awaited, and whatever has arrived meanwhile is taken from the
subscription's queue at once; what the request delivers after that waits in the queue for the
next fetch, which takes it without asking the server again.

This reads three attributes nats-py keeps private (the subscription's queue and its byte count,
the consumer's next-message subject); `tests/integration/spine/test_pull.py` holds them to it.
"""

from __future__ import annotations

import asyncio
import time

import nats.js.errors
from msgspec import json
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import Header, StatusCode

MAX_FETCH_BYTES = 4 * 1024 * 1024
"""The most one pull request asks the server to send. Without a bound a catching-up runner asked
for its whole batch of up to 500 pages of up to 256 kB (`publisher.MAX_MESSAGE_BYTES`), a node's
runners share one connection, and the server cut it as a slow consumer once 64 MB were waiting
for a loop busy applying them (a billiards node catching up 567k events: `UnexpectedEOF`, the
projections' requests timing out). A page is far smaller than this, so a request always takes
one (the server answers 409 to a request that could not take its first message)."""

SKIPPED = frozenset(
    {
        StatusCode.NO_MESSAGES,  # a request that found nothing
        StatusCode.REQUEST_TIMEOUT,  # a request that expired
        StatusCode.CONFLICT,  # the server ended a request (leadership moved, too many waiting)
        StatusCode.CONTROL_MESSAGE,  # a heartbeat
    }
)
"""Statuses that end a pull request without a fault; any other is raised as `APIError`."""


async def fetch(
    subscription: JetStreamContext.PullSubscription, batch: int, timeout: float
) -> list[Msg]:
    """Up to `batch` messages: those already here, else what the stream has now, waiting up to
    `timeout` for the first (none: an empty list)."""
    messages = _take(subscription, batch)
    if messages:
        return messages
    request = {
        "batch": batch,
        "max_bytes": MAX_FETCH_BYTES,
        "expires": max(int(timeout * 1e9), 1_000_000),
    }
    await subscription._nc.publish(
        subscription._nms, json.encode(request), reply=subscription._deliver
    )
    queue: asyncio.Queue[Msg] = subscription._sub._pending_queue
    deadline = time.monotonic() + timeout
    while not messages:
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                first = await queue.get()
        except TimeoutError:
            return []
        if _kept(subscription, first):
            messages.append(first)
        messages += _take(subscription, batch - len(messages))
    return messages


def _take(subscription: JetStreamContext.PullSubscription, batch: int) -> list[Msg]:
    """The messages in the subscription's queue, up to `batch`, without waiting."""
    queue: asyncio.Queue[Msg] = subscription._sub._pending_queue
    messages: list[Msg] = []
    while len(messages) < batch and not queue.empty():
        msg = queue.get_nowait()
        if _kept(subscription, msg):
            messages.append(msg)
    return messages


def _kept(subscription: JetStreamContext.PullSubscription, msg: Msg) -> bool:
    """Whether `msg`, just taken from the queue, is a message (not a request's status)."""
    subscription._sub._pending_size -= len(msg.data)
    status = msg.headers.get(Header.STATUS) if msg.headers else None
    if status is None:
        return True
    if status in SKIPPED:
        return False
    raise nats.js.errors.APIError.from_msg(msg)
