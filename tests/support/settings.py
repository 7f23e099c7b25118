"""Settings for tests: a group's fields are overridden by name, the rest of the group kept."""

from __future__ import annotations

from typing import Any

import msgspec
import nats

from infra.settings import Settings


def overridden(settings: Settings, **overrides: Any) -> Settings:
    """`overridden(s, rate_ip_per_s=0, desk={"ttl_s": 5})`: top-level fields as they are, a
    group given as a dict changes only the fields it names."""
    changes = {
        name: msgspec.structs.replace(getattr(settings, name), **value)
        if isinstance(value, dict)
        else value
        for name, value in overrides.items()
    }
    return msgspec.structs.replace(settings, **changes)


def merged(defaults: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Overrides on top of defaults, as `overridden` takes them: groups merge field by field."""
    result = dict(defaults)
    for name, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(name), dict):
            result[name] = result[name] | value
        else:
            result[name] = value
    return result


async def drop_streams(nats_url: str, prefix: str) -> list[str]:
    """Every stream a run's settings made under their prefix (a test's, a benchmark's): the
    events stream and every KV bucket (presence, used tickets, the relay's rooms and nodes,
    whatever a context adds next), with their consumers; their names. Naming the buckets one by
    one let the relay's leak, two a test."""
    nc = await nats.connect(nats_url, max_reconnect_attempts=2)
    dropped: list[str] = []
    try:
        js = nc.jetstream()
        under = (f"{prefix.upper()}_", f"KV_{prefix.upper()}_")
        for info in await js.streams_info():
            name = info.config.name or ""
            if name.startswith(under):
                await js.delete_stream(name)
                dropped.append(name)
    finally:
        await nc.close()
    return dropped
