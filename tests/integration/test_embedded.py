import stat
from pathlib import Path

import asyncpg
import nats
import psycopg
import pytest

from infra.embedded import EmbeddedServices, nats_reachable, postgres_reachable, resolve
from infra.settings import Settings
from infra.spine.eventstore import application_env
from tests.integration.conftest import DATABASE_URL, NATS_URL

pytestmark = pytest.mark.integration


def test_resolve_keeps_the_reachable_servers(tmp_path: Path) -> None:
    settings = Settings(database_url=DATABASE_URL, nats_url=NATS_URL)
    with EmbeddedServices(tmp_path) as services:
        assert resolve(settings, services) == settings
        assert not services.running


async def test_embedded_nats_server_has_jetstream(tmp_path: Path) -> None:
    with EmbeddedServices(tmp_path) as services:
        url = services.start_nats()
        assert services.start_nats() == url
        nc = await nats.connect(url)
        try:
            info = await nc.jetstream().account_info()
            assert info.streams == 0
        finally:
            await nc.close()
    assert not nats_reachable(url, timeout=0.5)


async def test_embedded_postgres_serves_psycopg_asyncpg_and_the_event_store(
    tmp_path: Path,
) -> None:
    with EmbeddedServices(tmp_path) as services:
        url = services.start_postgres()
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        aconn = await asyncpg.connect(url)
        try:
            assert await aconn.fetchval("select 1") == 1
        finally:
            await aconn.close()
        # The event store's library reaches PostgreSQL through its own keys, not through the URL.
        env = application_env(Settings(database_url=url))
        with psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            dbname=env["POSTGRES_DBNAME"],
        ) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    assert not postgres_reachable(url, timeout=0.5)


async def test_the_data_folders_embedded_nats_makes_are_the_owners_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with EmbeddedServices(data / "services") as services:
        services.start_nats()
    folders = (data, data / "services", data / "services" / "nats")
    assert [oct(stat.S_IMODE(folder.stat().st_mode)) for folder in folders] == ["0o700"] * 3
