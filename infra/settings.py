"""Settings, read from environment variables once, by the composition root (never at import).

Each context's settings are a group (`settings.canvas.snapshot_every`); a group's variables are
named `TESSERA_<env_prefix><FIELD>` (`TESSERA_SNAPSHOT_EVERY`, `TESSERA_DESK_TTL_S`), the spine's
own `TESSERA_<FIELD>`. msgspec turns the strings into the fields' types."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import msgspec


class CanvasSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Pixel wars: the canvas, its snapshots and deltas, its players and spectators."""

    env_prefix: ClassVar[str] = ""

    snapshot_every: int = 10_000
    """Bitmap snapshot every N canvas versions ..."""
    snapshot_seconds: float = 30.0
    """... and at least this often while the canvas changes."""
    delta_ring: int = 200_000
    """How many recent versions the delta ring keeps for catch-up."""
    delta_interval_ms: int = 20
    """Longest wait before a batch of deltas is published."""
    writer_linger_ms: float = 2.0
    """How long a canvas writer waits to gather more commands into one save."""
    aggregate_snapshot_every: int = 10_000
    latest_cache_seconds: float = 1.0
    player_cap: int = 5000
    """Players placing at once on one canvas; beyond it they wait in a FIFO queue."""
    afk_after_s: float = 120.0
    """A player with no game action for this long is AFK (and a returning one keeps playing)."""
    spectator_poll_s: float = 5.0
    """How often the web client's spectators poll the latest snapshot."""


class DeskSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Desks: their lifetime, their sessions, their shared writer and their view."""

    env_prefix: ClassVar[str] = "DESK_"

    ttl_s: int = 7 * 24 * 3600
    """A desk expires this long after its last edit."""
    idle_session_s: int = 600
    """A desk's collaboration session ends after this long without sockets."""
    writer_idle_s: int = 60
    """A desk no op touched for this long is evicted from the writer's memory."""
    writer_linger_ms: float = 12.0
    """How long the desks' shared writer waits to gather more ops into one save. A batch's save
    costs about as much interpreter time as its ops (the writer thread wakes, takes the GIL from
    the sockets, waits on the database and hands the answers back), so desks gather longer than
    a canvas writer: 12 ms instead of 2 took one node from ~4,000 to ~7,000 ops/s at
    p99 ≤ 150 ms, for ~10 ms more to an ack."""
    view_linger_ms: int = 1000
    """Longest wait of the desk view to gather events into one transaction (the other read models
    take `projection_linger_ms`). Joins take it only as a starting point (the ops it has not
    folded yet come from the event store), so it may lag. At 10,000 ops/s, 1 s instead of 200 ms
    upserts each busy sticker once for about three edits: PostgreSQL went from 0.28 to 0.18
    cores and the projector from 0.17 to 0.12."""


class IdentitySettings(msgspec.Struct, frozen=True, kw_only=True):
    """Identity: signing keys, token lifetimes, admins, the per-account rate limit."""

    env_prefix: ClassVar[str] = ""

    jwt_keys: str | None = None
    """`kid:base64url-secret[,kid:secret…]`, the first signs; unset: generated into data_dir."""
    access_ttl_s: int = 900
    refresh_ttl_s: int = 7 * 24 * 3600
    refresh_grace_s: float = 5.0
    """A used refresh token still works this long (parallel tabs), then reuse revokes."""
    admin_identities: str = ""
    """Comma-separated `google:<sub>` / `telegram:<id>` that get the admin role on sign-in."""
    rate_account_per_s: float = 5.0
    rate_account_burst: int = 20
    """Token bucket per account on command endpoints; a rate of 0 turns that limit off."""


class GoogleSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Sign-in with Google."""

    env_prefix: ClassVar[str] = "GOOGLE_"

    client_ids: str = ""
    """Comma-separated OAuth client ids accepted as the `aud` of Google ID tokens."""
    jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"


class TelegramSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The Telegram bot: sign-in through its Login Widget, and its webhook."""

    env_prefix: ClassVar[str] = "TELEGRAM_"

    bot_token: str = ""
    auth_max_age_s: int = 86_400
    bot_username: str = ""
    """The bot the Login Widget names (without @); empty hides the Telegram button."""
    api_url: str = "https://api.telegram.org"
    """Base URL of the Bot API (replies are POSTed to `<url>/bot<token>/sendMessage`)."""
    webhook_secret: str = ""
    """Expected `X-Telegram-Bot-Api-Secret-Token`; empty turns the webhook off (404)."""
    admin_chats: str = ""
    """Comma-separated chat ids allowed to run `/clear` and `/newgame`."""


class HistorySettings(msgspec.Struct, frozen=True, kw_only=True):
    """The canvas's history: keyframes, exports and the live video stream."""

    env_prefix: ClassVar[str] = "HISTORY_"

    keyframe_every: int = 10_000
    """A durable keyframe of each board every N versions: any past board costs one keyframe
    and at most N - 1 events read from the event store."""
    stream_key: str = ""
    """The RTMP stream key `tessera stream` appends to an output URL ending in `/`. A secret:
    never logged."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    env_prefix: ClassVar[str] = ""

    database_url: str | None = None
    """`TESSERA_DATABASE_URL` or `DATABASE_URL`; unset: an embedded PostgreSQL is started."""
    nats_url: str | None = None
    """`TESSERA_NATS_URL` or `NATS_URL`; unset: an embedded nats-server is started."""
    data_dir: Path = Path(".tessera")
    schema: str = "tessera"
    """PostgreSQL schema holding the event store and the read models."""
    stream_prefix: str = "tessera"
    """Prefix of JetStream stream names, consumer names and subjects."""
    host: str = "127.0.0.1"
    port: int = 8000
    projection_linger_ms: int = 200
    """Longest wait of the other read models (no live audience) to gather events into one
    transaction: bigger batches, and far fewer idle pull requests."""
    projection_max_tries: int = 3
    """Failures in a row of one batch before a projection looks for the event it cannot apply
    and sets it aside as a dead letter (`tessera dead-letters`)."""
    health_stalled_s: float = 60.0
    """`/health` calls a projection stalled when it is behind and its position has not moved
    for this long."""
    health_behind_events: int = 10_000
    """`/health` calls a projection far behind from this many events not applied yet."""
    live_queue_frames: int = 256
    """Frames a live socket may fall behind by before it is told to resync and dropped."""
    writer_max_batch: int = 2000
    max_body_bytes: int = 64 * 1024
    dev_auth: bool = False
    """`TESSERA_DEV_AUTH=1`: trust the `X-Dev-User` / `X-Dev-Roles` headers. Never in production."""
    allowed_origins: str = ""
    """Comma-separated origins allowed to open WebSockets (empty: same host only)."""
    rate_ip_per_s: float = 20.0
    rate_ip_burst: int = 60
    """Token bucket per client IP on command endpoints; a rate of 0 turns that limit off."""
    rate_read_ip_per_s: float = 50.0
    rate_read_ip_burst: int = 200
    """Token bucket per client IP on reads under /api/ (GET, HEAD, OPTIONS), apart from the
    commands'; a rate of 0 turns it off. An open page asks about once a second (the current game
    and the latest snapshot every `spectator_poll_s`, the board when it changed, the inspector),
    and a page load a dozen times: the bucket leaves room for many tabs behind one address."""
    trusted_proxies: str = ""
    """Comma-separated addresses or networks (`10.0.0.0/8`) of the reverse proxies whose
    `X-Forwarded-For` / `X-Forwarded-Proto` name the client; empty: no forwarded header is
    believed, the client is whoever connected (the per-IP rate limits key on it)."""

    canvas: CanvasSettings = msgspec.field(default_factory=CanvasSettings)
    desk: DeskSettings = msgspec.field(default_factory=DeskSettings)
    identity: IdentitySettings = msgspec.field(default_factory=IdentitySettings)
    google: GoogleSettings = msgspec.field(default_factory=GoogleSettings)
    telegram: TelegramSettings = msgspec.field(default_factory=TelegramSettings)
    history: HistorySettings = msgspec.field(default_factory=HistorySettings)

    @property
    def events_stream(self) -> str:
        return f"{self.stream_prefix.upper()}_EVENTS"

    @property
    def presence_bucket(self) -> str:
        return f"{self.stream_prefix.upper()}_PRESENCE"

    @property
    def tickets_bucket(self) -> str:
        """The WebSocket tickets that have opened a connection (`infra.identity.tickets`)."""
        return f"{self.stream_prefix.upper()}_TICKETS"

    @staticmethod
    def split(value: str) -> list[str]:
        return [part.strip() for part in value.split(",") if part.strip()]

    def delta_subject(self, canvas_id: str) -> str:
        return f"{self.stream_prefix}.delta.canvas.{canvas_id}"


class SettingsError(ValueError):
    """An environment variable's value does not fit its setting."""


def environment_variables() -> dict[str, str]:
    """Each setting's path (`canvas.snapshot_every`) and the variable that sets it."""
    return {".".join(path): name for path, name, _ in _variables(Settings, "TESSERA_", ())}


def load(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    tree: dict[str, Any] = {}
    names: dict[str, str] = {}
    for path, name, kind in _variables(Settings, "TESSERA_", ()):
        raw = env.get(name)
        if not raw:
            continue
        if kind is bool:
            # msgspec takes true/false/1/0 (any case); the older spellings are kept.
            raw = _BOOL_WORDS.get(raw.strip().lower(), raw)
        *groups, field = path
        node = tree
        for group in groups:
            node = node.setdefault(group, {})
        node[field] = raw
        names[".".join(path)] = name
    tree.setdefault("database_url", env.get("DATABASE_URL") or None)
    tree.setdefault("nats_url", env.get("NATS_URL") or None)
    try:
        return msgspec.convert(tree, Settings, strict=False, dec_hook=_decode)
    except msgspec.ValidationError as error:
        raise _naming_the_variable(error, names, env) from None


_BOOL_WORDS = {"yes": "true", "on": "true", "no": "false", "off": "false"}


def _variables(
    struct: type[msgspec.Struct], prefix: str, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    for field in msgspec.structs.fields(struct):
        if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
            group: Any = field.type
            yield from _variables(group, prefix + group.env_prefix, (*path, field.name))
        else:
            yield (*path, field.name), prefix + field.name.upper(), field.type


def _decode(kind: type, value: Any) -> Any:
    if kind is Path:
        return Path(value)
    raise NotImplementedError(kind)


_AT = re.compile(r" - at `\$\.(?P<path>[\w.]+)`$")


def _naming_the_variable(
    error: msgspec.ValidationError, names: Mapping[str, str], env: Mapping[str, str]
) -> SettingsError:
    message = str(error)
    found = _AT.search(message)
    if found is None or found["path"] not in names:
        return SettingsError(message)
    name = names[found["path"]]
    return SettingsError(f"{name}={env[name]!r}: {message[: found.start()]}")
