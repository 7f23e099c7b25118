"""infra.spine.pull on a real JetStream consumer: what it takes, in order, and what it waits for
(it reads nats-py's private queue: an upgrade that moves it fails here)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import nats
import nats.js.errors
import pytest
import pytest_asyncio
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from infra.spine import pull
from tests.integration.conftest import NATS_URL


@pytest_asyncio.fixture
async def stream() -> AsyncIterator[tuple[JetStreamContext, str]]:
    name = f"PULL_{uuid.uuid4().hex[:10].upper()}"
    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=name, subjects=[f"{name}.>"]))
    try:
        yield js, name
    finally:
        await js.delete_stream(name)
        await nc.close()


async def consumer(js: JetStreamContext, name: str) -> JetStreamContext.PullSubscription:
    config = ConsumerConfig(
        durable_name="reader", ack_policy=AckPolicy.ALL, deliver_policy=DeliverPolicy.ALL
    )
    return await js.pull_subscribe(f"{name}.>", durable="reader", stream=name, config=config)


async def test_takes_what_the_stream_has_in_order_up_to_the_batch(
    stream: tuple[JetStreamContext, str],
) -> None:
    js, name = stream
    for i in range(50):
        await js.publish(f"{name}.ev", b"%d" % i)
    subscription = await consumer(js, name)

    taken: list[bytes] = []
    while len(taken) < 50:
        messages = await pull.fetch(subscription, 20, timeout=1.0)
        assert messages and len(messages) <= 20
        taken += [m.data for m in messages]
        await messages[-1].ack()
    assert taken == [b"%d" % i for i in range(50)]
    assert subscription.pending_bytes == 0


async def test_waits_for_the_first_message_and_no_longer(
    stream: tuple[JetStreamContext, str],
) -> None:
    js, name = stream
    subscription = await consumer(js, name)
    assert await pull.fetch(subscription, 10, timeout=0.1) == []

    async def later() -> None:
        await asyncio.sleep(0.2)
        await js.publish(f"{name}.ev", b"late")

    publishing = asyncio.create_task(later())
    messages = await pull.fetch(subscription, 10, timeout=5.0)
    await publishing
    assert [m.data for m in messages] == [b"late"]


async def test_what_an_open_request_delivers_later_is_taken_by_the_next_fetch(
    stream: tuple[JetStreamContext, str],
) -> None:
    js, name = stream
    subscription = await consumer(js, name)
    await js.publish(f"{name}.ev", b"first")
    assert [m.data for m in await pull.fetch(subscription, 100, timeout=2.0)] == [b"first"]
    await js.publish(f"{name}.ev", b"second")  # the request is still open: it comes unasked
    await asyncio.sleep(0.2)
    assert [m.data for m in await pull.fetch(subscription, 100, timeout=2.0)] == [b"second"]


async def test_a_deleted_consumer_gives_nothing_and_consumer_info_tells(
    stream: tuple[JetStreamContext, str],
) -> None:
    """What the projection runner relies on: a fetch from a deleted consumer looks like a quiet
    stream, and the runner's periodic `consumer_info()` is what notices."""
    js, name = stream
    subscription = await consumer(js, name)
    await js.delete_consumer(name, "reader")
    await js.publish(f"{name}.ev", b"unseen")
    assert await pull.fetch(subscription, 10, timeout=0.3) == []
    with pytest.raises(nats.js.errors.NotFoundError):
        await subscription.consumer_info()


async def test_a_request_asks_for_no_more_bytes_than_its_bound(
    stream: tuple[JetStreamContext, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A catching-up node's runners share one connection: a request for a whole batch of large
    # pages had the server cut it as a slow consumer. The batch comes in several requests.
    js, name = stream
    page = b"x" * 1000
    for _ in range(30):
        await js.publish(f"{name}.ev", page)
    monkeypatch.setattr(pull, "MAX_FETCH_BYTES", 10 * 1100)
    subscription = await consumer(js, name)
    sizes = []
    while sum(sizes) < 30:
        messages = await pull.fetch(subscription, 500, timeout=1.0)
        assert messages
        sizes.append(len(messages))
        await messages[-1].ack()
    assert max(sizes) <= 11 and len(sizes) >= 3
