"""Schemathesis over the whole OpenAPI schema of a real `tessera serve` (real PostgreSQL and NATS),
as anonymous, a signed-in player and an admin: every check schemathesis has, a few examples an
operation. No server error, no answer the schema does not describe, and no refused request
appends an event.

Bounded: `FUZZ_EXAMPLES` examples per operation and per identity (schemathesis's coverage phase
adds its boundary cases). Skip it with `-m "not fuzz"`.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from api.contexts import all_contexts
from api.node import Node
from infra.settings import Settings
from tests.integration.conftest import DATABASE_URL, NATS_URL
from tests.support import cli
from tests.support.crash import environment_of
from tests.support.ports import free_port
from tests.support.settings import drop_streams, overridden
from tests.support.signing import BOT_TOKEN, telegram_init_data

pytestmark = [pytest.mark.integration, pytest.mark.fuzz]

FUZZ_EXAMPLES = int(os.environ.get("TESSERA_FUZZ_EXAMPLES", "3"))
FUZZ_RANDOM = os.environ.get("TESSERA_FUZZ_RANDOM") == "1"
"""Off in CI: the same cases every run. On, for a longer hunt: new cases each run."""
ADMIN_TELEGRAM_ID, PLAYER_TELEGRAM_ID = 1, 2
CONFIG: dict[str, Any] = {
    "generation": {
        "max-examples": FUZZ_EXAMPLES, "deterministic": not FUZZ_RANDOM, "database": "none"
    },
    "checks": {
        # A valid request may still be refused for what it names or when: nothing by that id
        # (404), a conflict with the state (409), gone (410), a value the domain refuses (422).
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "410", "422", "429"],
        },
    },
}


class EventStore:
    """The newest event of every events table of the schema: a refused request changes none."""

    def __init__(self, database_url: str, schema: str) -> None:
        self.conn = psycopg.connect(database_url, autocommit=True)
        self.schema = schema
        self.tables = [
            row[0]
            for row in self.conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = %s AND table_name LIKE '%%\\_events' ORDER BY table_name",
                (schema,),
            )
        ]
        assert self.tables, f"no events tables in {schema}"
        self.seen = self.first = self.newest()
        self.requests = 0
        self.statuses: dict[int, int] = {}

    def newest(self) -> tuple[int, ...]:
        selects = " UNION ALL ".join(
            f'SELECT {n} AS n, max(notification_id) AS id FROM "{self.schema}"."{table}"'
            for n, table in enumerate(self.tables)
        )
        rows = self.conn.execute(f"SELECT id FROM ({selects}) AS t ORDER BY n").fetchall()
        return tuple(row[0] or 0 for row in rows)

    def answered(self, status: int) -> tuple[int, ...] | None:
        """After each answer (they come one at a time): what was appended, if it was refused."""
        now, before = self.newest(), self.seen
        self.seen = now
        self.requests += 1
        self.statuses[status] = self.statuses.get(status, 0) + 1
        return now if status >= 400 and now != before else None


STORE: dict[str, EventStore] = {}


@schemathesis.check
def refusals_append_nothing(ctx: Any, response: Any, case: Any) -> bool | None:
    """A refused request (4xx, 5xx) appends no event to any context's store."""
    appended = STORE["store"].answered(response.status_code)
    if appended is not None:
        raise AssertionError(
            f"{case.method} {case.formatted_path} was refused ({response.status_code}) "
            f"but events were appended: {appended}"
        )
    return None


def fuzz_settings() -> Settings:
    run = uuid.uuid4().hex[:10]
    settings = Settings(
        database_url=DATABASE_URL,
        nats_url=NATS_URL,
        schema=f"test_{run}",
        stream_prefix=f"test{run}",
        dev_auth=False,  # as deployed: bearer tokens only
    )
    return overridden(
        settings,
        rate_ip_per_s=0,  # the limits are tested on their own; here they would answer everything
        rate_read_ip_per_s=0,
        telegram={"bot_token": BOT_TOKEN},
        identity={"admin_identities": f"telegram:{ADMIN_TELEGRAM_ID}", "rate_account_per_s": 0},
    )


def wait_for_health(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"tessera serve exited:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"no /health after 60 s:\n{log.read_text()[-4000:]}")


def signed_in(url: str, telegram_id: int) -> dict[str, str]:
    response = httpx.post(
        f"{url}/api/auth/telegram", json={"init_data": telegram_init_data(telegram_id)}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def known_ids(url: str, admin: dict[str, str], player: dict[str, str]) -> dict[str, str]:
    """A canvas, a desk, the player's account and a feedback item, to name in paths."""
    canvas = httpx.post(f"{url}/api/canvas", headers=admin,
                        json={"width": 8, "height": 8, "palette": ["#ffffff", "#000000"]})
    desk = httpx.post(f"{url}/api/desk/init", json={"name": "fuzzed", "create_new": True})
    feedback = httpx.post(f"{url}/api/feedback", json={"message": "fuzz me"})
    me = httpx.get(f"{url}/api/auth/whoami", headers=player)
    for response in (canvas, desk, feedback, me):
        assert response.status_code in (200, 201), response.text
    return {
        "canvas_id": canvas.json()["id"],
        "version": "1",
        "desk_id": desk.json()["desk_id"],
        "feedback_id": feedback.json()["id"],
        "account_id": me.json()["account_id"],
    }


def clean_up(settings: Settings) -> None:
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{settings.schema}" CASCADE')

    import asyncio

    asyncio.run(drop_streams(NATS_URL, settings.stream_prefix))


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[dict[str, Any]]:
    """`tessera serve` on a loopback port, with an admin and a player signed in, a canvas and a
    desk to find."""
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    settings = fuzz_settings()
    data_dir = tmp_path_factory.mktemp("fuzz")
    log = data_dir / "server.log"
    url = f"http://127.0.0.1:{free_port()}"
    environ = dict(os.environ) | environment_of(settings) | {
        "TESSERA_DATA_DIR": str(data_dir),
        "PYTHONPATH": str(cli.ROOT),
    }
    server = cli.start(environ, log, "serve", "--host", "127.0.0.1", "--port", url.rsplit(":")[-1])
    try:
        wait_for_health(url, server, log)
        admin, player = signed_in(url, ADMIN_TELEGRAM_ID), signed_in(url, PLAYER_TELEGRAM_ID)
        KNOWN.update(known_ids(url, admin, player))
        STORE["store"] = EventStore(DATABASE_URL, settings.schema)
        started = time.monotonic()
        yield {"url": url, "admin": admin, "player": player, "log": log}
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        store = STORE.pop("store", None)
        if store is not None:
            store.conn.close()
            figures = {
                "requests": store.requests,
                "events_appended": sum(store.seen) - sum(store.first),
                "seconds": round(time.monotonic() - started, 1),
                "statuses": dict(sorted(store.statuses.items())),
            }
            with capture.global_and_fixture_disabled():  # shown even when every test passes
                print(f"\nfuzz: {json.dumps(figures)}")
        clean_up(settings)


@functools.cache
def composed_schema() -> dict[str, Any]:
    """The schema `tessera serve` answers on `/schema/openapi.json`: the app of every context."""
    app = create_app(Settings(), node=Node(None, all_contexts(), parts={}))
    return app.openapi_schema.to_schema()


def schema_for(**phases: Any) -> Any:
    config = SchemathesisConfig.from_dict(CONFIG | {"phases": phases})
    fuzzed = schemathesis.openapi.from_dict(copy.deepcopy(composed_schema()), config=config)
    # The relay's v1 API keeps the JamJar server's answers, which its clients rely on (400 for a
    # room id that is no int32 or a missing body, where the schema can only say "a string"); its
    # wire is checked by tests/integration/relay instead.
    fuzzed = fuzzed.exclude(path_regex=r"^/v1/")
    fuzzed.hook("map_case")(with_known_ids)
    return fuzzed


KNOWN: dict[str, str] = {}
"""Path parameters that name something that exists (filled in by `served`)."""
_TURN = itertools.count()


def with_known_ids(ctx: Any, case: Any) -> Any:
    """Every other valid case names things that exist, so that commands reach the writers (and
    what they refuse there is checked too); an invalid case is left as it was generated."""
    meta = case.meta
    valid = meta is not None and meta.generation.mode.is_positive
    if case.path_parameters and valid and next(_TURN) % 2 == 0:
        for name in case.path_parameters:
            case.path_parameters[name] = KNOWN.get(name, case.path_parameters[name])
    return case


# Anonymous: every phase, the boundary cases of every parameter and body and three undocumented
# methods (each answers 405 with `Allow` the same way); a player and an admin: generated cases
# only, to keep it bounded (bodies are decoded before who is asking is known, so their boundary
# cases would meet the same decoding).
ANONYMOUS = schema_for(coverage={"unexpected-methods": ["DELETE", "PATCH", "PUT"]})
PLAYER = schema_for(coverage={"enabled": False})
ADMIN = schema_for(coverage={"enabled": False})


@ANONYMOUS.parametrize()
def test_anonymous(case: Any, served: dict[str, Any]) -> None:
    case.call_and_validate(base_url=served["url"], additional_checks=[refusals_append_nothing])


@PLAYER.parametrize()
def test_player(case: Any, served: dict[str, Any]) -> None:
    case.call_and_validate(base_url=served["url"], headers=served["player"], additional_checks=[refusals_append_nothing])


@ADMIN.parametrize()
def test_admin(case: Any, served: dict[str, Any]) -> None:
    case.call_and_validate(base_url=served["url"], headers=served["admin"], additional_checks=[refusals_append_nothing])
