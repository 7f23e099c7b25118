import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.embedded import EmbeddedServices, nats_reachable, postgres_reachable, resolve
from infra.settings import Settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def listening_url() -> Iterator[str]:
    """A NATS URL something accepts connections on, which is all `nats_reachable` asks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield f"nats://127.0.0.1:{sock.getsockname()[1]}"


class FakeServices(EmbeddedServices):
    def __init__(self, data_dir: Path) -> None:
        super().__init__(data_dir)
        self.started: list[str] = []

    def start_postgres(self) -> str:
        self.started.append("postgres")
        return "postgresql://postgres@127.0.0.1:1/embedded"

    def start_nats(self) -> str:
        self.started.append("nats")
        return "nats://127.0.0.1:1"


def test_nothing_listens_on_a_closed_port() -> None:
    port = closed_port()
    assert not nats_reachable(f"nats://127.0.0.1:{port}", timeout=0.5)
    assert not postgres_reachable(f"postgresql://postgres@127.0.0.1:{port}/test", timeout=0.5)


def test_nats_reachable_is_a_tcp_connect(listening_url: str) -> None:
    assert nats_reachable(listening_url)
    assert nats_reachable(f"nats://127.0.0.1:{closed_port()},{listening_url}")
    assert nats_reachable(listening_url.removeprefix("nats://"))


def test_resolve_keeps_a_reachable_url_and_starts_what_is_missing(
    tmp_path: Path, listening_url: str
) -> None:
    services = FakeServices(tmp_path)
    settings = Settings(nats_url=listening_url, data_dir=tmp_path)
    resolved = resolve(settings, services)
    assert services.started == ["postgres"]
    assert resolved.nats_url == listening_url
    assert resolved.database_url == "postgresql://postgres@127.0.0.1:1/embedded"
    assert resolved.data_dir == tmp_path


def test_resolve_replaces_unreachable_urls(tmp_path: Path) -> None:
    services = FakeServices(tmp_path)
    port = closed_port()
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{port}/test",
        nats_url=f"nats://127.0.0.1:{port}",
    )
    resolved = resolve(settings, services)
    assert services.started == ["postgres", "nats"]
    assert resolved.database_url == "postgresql://postgres@127.0.0.1:1/embedded"
    assert resolved.nats_url == "nats://127.0.0.1:1"
