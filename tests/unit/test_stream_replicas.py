"""`TESSERA_STREAM_REPLICAS`: the events stream is created, or updated, with that many replicas."""

from typing import Any

import nats.js.errors

from infra.settings import load
from infra.spine.publisher import ensure_stream


class RecordingJetStream:
    def __init__(self, *, exists: bool = False) -> None:
        self.exists = exists
        self.calls: list[tuple[str, Any]] = []

    async def add_stream(self, config: Any) -> None:
        self.calls.append(("add", config))
        if self.exists:
            raise nats.js.errors.BadRequestError()

    async def update_stream(self, config: Any) -> None:
        self.calls.append(("update", config))


def test_the_setting_defaults_to_one_and_reads_the_environment():
    assert load({}).stream_replicas == 1
    assert load({"TESSERA_STREAM_REPLICAS": "3"}).stream_replicas == 3


async def test_a_new_stream_gets_the_replicas():
    js = RecordingJetStream()
    await ensure_stream(js, "S", ["s.ev.>"], replicas=3)  # type: ignore[arg-type]
    assert [(kind, config.num_replicas) for kind, config in js.calls] == [("add", 3)]


async def test_an_existing_stream_is_updated_to_the_replicas():
    js = RecordingJetStream(exists=True)
    await ensure_stream(js, "S", ["s.ev.>"], replicas=3)  # type: ignore[arg-type]
    assert [(kind, config.num_replicas) for kind, config in js.calls] == [("add", 3), ("update", 3)]


async def test_by_default_one_replica():
    js = RecordingJetStream()
    await ensure_stream(js, "S", ["s.ev.>"])  # type: ignore[arg-type]
    assert js.calls[0][1].num_replicas == 1


def test_a_nats_url_may_list_the_servers_of_a_cluster():
    from infra.retry import servers_of

    assert servers_of("nats://a:1") == ["nats://a:1"]
    assert servers_of("nats://a:1, nats://b:2,nats://c:3") == [
        "nats://a:1", "nats://b:2", "nats://c:3"
    ]
