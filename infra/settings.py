"""Settings, read from environment variables once, by the composition root (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


class Settings(msgspec.Struct, frozen=True, kw_only=True):
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
    snapshot_every: int = 10_000
    """Bitmap snapshot every N canvas versions ..."""
    snapshot_seconds: float = 30.0
    """... and at least this often while the canvas changes."""
    delta_ring: int = 200_000
    """How many recent versions the delta ring keeps for catch-up."""
    delta_interval_ms: int = 20
    """Longest wait before a batch of deltas is published."""
    projection_linger_ms: int = 200
    """Longest wait of the other read models (no live audience) to gather events into one
    transaction: bigger batches, and far fewer idle pull requests."""
    desk_view_linger_ms: int = 1000
    """The same for the desk view. Joins take it only as a starting point (the ops it has not
    folded yet come from the event store), so it may lag. At 10,000 ops/s, 1 s instead of 200 ms
    upserts each busy sticker once for about three edits: PostgreSQL went from 0.28 to 0.18
    cores and the projector from 0.17 to 0.12."""
    live_queue_frames: int = 256
    """Frames a live socket may fall behind by before it is told to resync and dropped."""
    writer_linger_ms: float = 2.0
    """How long a canvas writer waits to gather more commands into one save."""
    desk_writer_linger_ms: float = 12.0
    """The same for the desks' shared writer. A batch's save costs about as much interpreter
    time as its ops (the writer thread wakes, takes the GIL from the sockets, waits on the
    database and hands the answers back), so desks gather longer: 12 ms instead of 2 took one
    node from ~4,000 to ~7,000 ops/s at p99 ≤ 150 ms, for ~10 ms more to an ack."""
    writer_max_batch: int = 2000
    aggregate_snapshot_every: int = 10_000
    max_body_bytes: int = 64 * 1024
    latest_cache_seconds: float = 1.0
    dev_auth: bool = False
    """`TESSERA_DEV_AUTH=1`: trust the `X-Dev-User` / `X-Dev-Roles` headers. Never in production."""

    # -- identity ---------------------------------------------------------------------------
    jwt_keys: str | None = None
    """`kid:base64url-secret[,kid:secret…]`, the first signs; unset: generated into data_dir."""
    access_ttl_s: int = 900
    refresh_ttl_s: int = 7 * 24 * 3600
    refresh_grace_s: float = 5.0
    """A used refresh token still works this long (parallel tabs), then reuse revokes."""
    google_client_ids: str = ""
    """Comma-separated OAuth client ids accepted as the `aud` of Google ID tokens."""
    google_jwks_url: str = "https://www.googleapis.com/oauth2/v3/certs"
    telegram_bot_token: str = ""
    telegram_auth_max_age_s: int = 86_400
    admin_identities: str = ""
    """Comma-separated `google:<sub>` / `telegram:<id>` that get the admin role on sign-in."""
    allowed_origins: str = ""
    """Comma-separated origins allowed to open WebSockets (empty: same host only)."""
    rate_ip_per_s: float = 20.0
    rate_ip_burst: int = 60
    rate_account_per_s: float = 5.0
    rate_account_burst: int = 20
    """Token buckets on command endpoints; a rate of 0 turns that limit off."""

    # -- pixel wars: players, spectators, the bot ---------------------------------------------
    player_cap: int = 5000
    """Players placing at once on one canvas; beyond it they wait in a FIFO queue."""
    afk_after_s: float = 120.0
    """A player with no game action for this long is AFK (and a returning one keeps playing)."""
    spectator_poll_s: float = 5.0
    """How often the web client's spectators poll the latest snapshot."""
    telegram_bot_username: str = ""
    """The bot the Login Widget names (without @); empty hides the Telegram button."""
    telegram_api_url: str = "https://api.telegram.org"
    """Base URL of the Bot API (replies are POSTed to `<url>/bot<token>/sendMessage`)."""
    telegram_webhook_secret: str = ""
    """Expected `X-Telegram-Bot-Api-Secret-Token`; empty turns the webhook off (404)."""
    telegram_admin_chats: str = ""
    """Comma-separated chat ids allowed to run `/clear` and `/newgame`."""

    # -- desks --
    desk_ttl_s: int = 7 * 24 * 3600
    """A desk expires this long after its last edit."""
    desk_idle_session_s: int = 600
    """A desk's collaboration session ends after this long without sockets."""
    desk_writer_idle_s: int = 60
    """A desk no op touched for this long is evicted from the writer's memory."""

    @property
    def events_stream(self) -> str:
        return f"{self.stream_prefix.upper()}_EVENTS"

    @property
    def presence_bucket(self) -> str:
        return f"{self.stream_prefix.upper()}_PRESENCE"

    @staticmethod
    def split(value: str) -> list[str]:
        return [part.strip() for part in value.split(",") if part.strip()]

    def delta_subject(self, canvas_id: str) -> str:
        return f"{self.stream_prefix}.delta.canvas.{canvas_id}"


_BOOL_TRUE = {"1", "true", "yes", "on"}


def load(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(f"TESSERA_{name}")
        return value if value not in (None, "") else None

    fields: dict[str, object] = {}
    for field in msgspec.structs.fields(Settings):
        raw = get(field.name.upper())
        if raw is None:
            continue
        if field.type is bool:
            fields[field.name] = raw.strip().lower() in _BOOL_TRUE
        elif field.type is int:
            fields[field.name] = int(raw)
        elif field.type is float:
            fields[field.name] = float(raw)
        elif field.type is Path:
            fields[field.name] = Path(raw)
        else:
            fields[field.name] = raw
    fields.setdefault("database_url", env.get("DATABASE_URL") or None)
    fields.setdefault("nats_url", env.get("NATS_URL") or None)
    return msgspec.convert(fields, Settings, strict=False)

