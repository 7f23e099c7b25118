#!/usr/bin/env python3
"""Token verification on the request path, beside a no-auth baseline of the same endpoint.

Prints one JSON line:
- `verify_first_sight_median_us`: `TokenIssuer.verify` of a token never seen (HS256, kid lookup);
- `verify_median_us`: the same for a token seen before (remembered until it expires);
- `guard_median_us`: the whole guard (`Authorization` parsing, verification, revocation check);
- `request_median_us_*`: GET /api/auth/whoami through the real Litestar app (in process, ASGI,
  no network), anonymous (the baseline) and with a bearer token; `auth_overhead_us` = the
  difference of the medians.

Needs PostgreSQL and NATS (DATABASE_URL / NATS_URL, else the local defaults, else embedded ones)
because the app is the real one. Whatever the run made is removed at the end, even on failure
(`benchkit.run_guarded`): its schema, every stream and KV bucket under its prefix (events,
presence, used tickets) and its temporary folder with the development signing keys.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid

import benchkit  # scripts/ is on sys.path when this file runs; it puts the project there too
import msgspec

from api.app import build, create_app, migrate, shutdown

ROUNDS = 20_000


def median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 2)


async def request(app: object, headers: list[tuple[bytes, bytes]]) -> float:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/auth/whoami", "raw_path": b"/api/auth/whoami",
        "query_string": b"", "root_path": "", "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
    }
    status: list[int] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))  # type: ignore[call-overload]

    started = time.perf_counter()
    await app(scope, receive, send)  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    assert status == [200], status
    return elapsed


async def bench(run: benchkit.Run) -> None:
    """Fills `run.result`; `benchkit.run_guarded` undoes what the run made."""
    settings = await asyncio.to_thread(benchkit.resolve_settings, run)
    # Development identities off, as in production: the anonymous baseline is a spectator.
    settings = run.settings = msgspec.structs.replace(
        settings,
        dev_auth=False,
        rate_read_ip_per_s=0,  # every request comes from one address: measure, do not refuse
    )
    run.migrated = True  # from here on, the schema and the stream may exist
    await migrate(settings)
    parts = await build(settings, roles={"api"})
    try:
        app = create_app(settings, node=parts)
        gate = parts["identity"].gate
        token = gate.issuer.issue(account_id=uuid.uuid4(), roles=["admin"],
                                  session_id=uuid.uuid4(), now=int(time.time()))
        headers = {"authorization": f"Bearer {token}"}

        tokens = [
            gate.issuer.issue(account_id=uuid.uuid4(), roles=[], session_id=uuid.uuid4(),
                              now=int(time.time()))
            for _ in range(ROUNDS // 4)
        ]
        first_sight, verify, guard = [], [], []
        for fresh in tokens:  # a token never seen: the HMAC and the decoding
            started = time.perf_counter()
            gate.issuer.verify(fresh)
            first_sight.append(time.perf_counter() - started)
        for _ in range(ROUNDS):  # the same token again, as a client sends it for 15 minutes
            started = time.perf_counter()
            gate.issuer.verify(token)
            verify.append(time.perf_counter() - started)
            started = time.perf_counter()
            gate.identify(headers)
            guard.append(time.perf_counter() - started)

        bearer = [(b"authorization", f"Bearer {token}".encode())]
        anonymous: list[float] = []
        signed_in: list[float] = []
        for _ in range(ROUNDS // 4):  # interleaved, so drift hits both alike
            anonymous.append(await request(app, []))
            signed_in.append(await request(app, bearer))
        run.result.update(
            {
                "verify_first_sight_median_us": median_us(first_sight),
                "verify_median_us": median_us(verify),
                "guard_median_us": median_us(guard),
                "request_median_us_anonymous": median_us(anonymous),
                "request_median_us_bearer": median_us(signed_in),
                "auth_overhead_us": round(median_us(signed_in) - median_us(anonymous), 2),
                "rounds": ROUNDS,
                "machine": {"cores": os.cpu_count()},
            }
        )
    finally:
        await shutdown(parts)


def main() -> int:
    run = benchkit.new_run("bench_auth", "benchauth")
    error = benchkit.run_guarded(run, bench(run), alarm_s=600)
    print(json.dumps(benchkit.report({}, run, error)), flush=True)
    return 0 if error is None else 1


if __name__ == "__main__":
    sys.exit(main())
