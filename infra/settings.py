"""Settings, read from environment variables once, by the composition root (never at import).

Each context's settings are a group (`settings.canvas.snapshot_every`); a group's variables are
named `TESSERA_<env_prefix><FIELD>` (`TESSERA_SNAPSHOT_EVERY`, `TESSERA_DESK_TTL_S`), the spine's
own `TESSERA_<FIELD>`. msgspec turns the strings into the fields' types."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

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
    writer_linger_ms: float = 1.0
    """How long a canvas writer waits to gather more commands into one save."""
    aggregate_snapshot_every: int = 10_000
    latest_cache_seconds: float = 1.0
    player_cap: int = 5000
    """Players placing at once on one canvas; beyond it they wait in a FIFO queue."""
    afk_after_s: float = 120.0
    """A player with no game action for this long is AFK (and a returning one keeps playing)."""
    spectator_poll_s: float = 5.0
    """How often the web client's spectators poll the latest snapshot."""
    live_spectators: int = 1000
    """Signed-out viewers one node serves live deltas over a socket; beyond that (and with 0)
    they poll the latest snapshot every `spectator_poll_s`."""


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


class RelaySettings(msgspec.Struct, frozen=True, kw_only=True):
    """Relay rooms (`/v1/api/rooms`, `/v1/websocket`): caps, limits, the optional API key."""

    env_prefix: ClassVar[str] = "RELAY_"

    api_key: str = ""
    """`TESSERA_RELAY_API_KEY`: when set, creating, listing and deleting rooms needs it (header
    `Authorization: Bearer <key>` or `X-Api-Key`); empty: open, as the original server."""
    cors_origins: str = "*"
    """Comma-separated origins allowed to call `/v1/api` and open `/v1/websocket`; `*`: any."""
    max_clients: int = 20_000
    """Clients the whole relay commits to: rooms are refused beyond it (`committed_clients`)."""
    max_room_clients: int = 1024
    """The largest `max_clients` one room may ask for."""
    committed_round_to: int = 1
    """Each room commits its `max_clients` rounded up to a multiple of this."""
    max_frame_bytes: int = 64 * 1024
    """A bigger frame is refused (`RESPONSE_ERROR` 413) and the socket closed (1009)."""
    send_queue_bytes: int = 256 * 1024
    """What a connection may have waiting beyond its socket's buffer; a client that falls
    further behind is disconnected with an error, and the room goes on without it."""
    idle_room_s: float = 300.0
    """A room nobody is connected to is closed after this long."""
    attempt_window_s: float = 60.0
    attempts_per_ip: int = 30
    """Failed connects and reconnects an address may make per window before it must wait."""
    attempts_per_room: int = 120
    """Failed connects and reconnects to one room per window, from everyone, before the room
    refuses any more until the window ends."""
    lockout_after: int = 5
    """Wrong secrets for one room from one address before that address is locked out of it."""
    lockout_s: float = 900.0
    writer_linger_ms: float = 20.0
    """How long the rooms' writer gathers events into one save."""
    record_linger_ms: float = 50.0
    """How long a recording room gathers relayed messages into one event."""
    node_ttl_s: float = 6.0
    """Multi-node: a room's directory entry lives this long unless its owner renews it; an
    owner gone this long loses its rooms to the next node that is asked for them."""


class BilliardsSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Artel Billiards: its matches' shared writer and the club queues."""

    env_prefix: ClassVar[str] = "BILLIARDS_"

    writer_linger_ms: float = 2.0
    """How long the matches' shared writer waits to gather more commands into one save."""
    confirm_s: float = 60.0
    """How long players called to a free table have to confirm before they lose their turn."""
    match_minutes: float = 20.0
    """A match's usual length, for the queue's waiting estimates."""
    season_months: int = 1
    """How many calendar months a leaderboard season lasts (seasons start in January)."""
    web_app_url: str = ""
    """The Mini App's address (e.g. `https://host/billiards`): notifications' buttons open
    pages under it; empty: notifications go without a button."""
    notify: bool = True
    """Send the outbox's notifications (with the Telegram bot token set) where its projection
    runs."""
    notify_rate_per_s: float = 30.0
    """Messages a second to all chats at most (Telegram's limit for a bot)."""
    notify_chat_interval_s: float = 1.0
    """Seconds between two messages to one chat at least."""


class QuizSettings(msgspec.Struct, frozen=True, kw_only=True):
    """Live quiz sessions: the session writer, the read models, images and their collector."""

    env_prefix: ClassVar[str] = "QUIZ_"

    writer_linger_ms: float = 5.0
    """How long the sessions' shared writer waits to gather more commands into one save."""
    view_linger_ms: int = 20
    """Longest wait of the quiz read models to gather events (who takes part in a session is
    read by every image request of its players)."""
    image_max_bytes: int = 5 * 1024 * 1024
    image_max_side: int = 4096
    image_grace_s: int = 24 * 3600
    """An image nothing references is collected this long after its last upload or reference;
    a session's references count this long after it ended."""
    gc_interval_s: int = 3600
    """How often a node runs the image collector (0: never; `POST /api/quiz/images/gc`)."""
    blob_dir: str = ""
    """Where images are stored (empty: `<data_dir>/quiz-images`)."""


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
    guest_sign_in: Literal["auto", "on", "off"] = "auto"
    """Guest sign-in (a nickname, no outside account): `auto` turns it on only when neither
    Google nor Telegram sign-in is configured, so a fresh server can be played at once."""
    guest_accounts_per_ip_hour: int = 10
    """Guest accounts one client address may create an hour (as many at once, then evenly
    spread); 0 turns the limit off."""


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
    maps_every: int = 10
    """Every Mth keyframe also keeps the analysts' maps (paintings a pixel, last touch): eight
    bytes a pixel where the board has one, so any past map costs at most M·N - 1 events."""
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
    stream_replicas: int = 1
    """Replicas of the events stream (JetStream clustering: 3 on a three-node NATS cluster, as
    `deploy/compose.yaml` and `scripts/cluster` run it)."""
    host: str = "127.0.0.1"
    port: int = 8000
    metrics_port: int = 0
    """`tessera publish` / `tessera project` serve `/metrics`, `/healthz` and `/readyz` on this
    port (0: not at all); the web roles serve them on `port`."""
    shutdown_timeout_s: float = 10.0
    """On SIGTERM a web node stops accepting, tells its live sockets to reconnect elsewhere
    (close 1012), and gives the requests in flight this long to finish before it stops."""
    log_format: Literal["plain", "json"] = "plain"
    """`json`: one JSON object a line (time, level, logger, message, request id, context,
    route), for a log collector; `plain` for people."""
    access_log: bool = False
    """`TESSERA_ACCESS_LOG=1`: one line per answered request (method, route, status, time)."""
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
    store_timeout_ms: int = 2000
    """The longest a command waits for an event store it cannot reach before it is answered
    `503 try_again`; the store is then tried again in the background, at most half as long
    apart (`infra.spine.eventstore.UrlPostgresFactory`)."""
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
    home: Literal["landing", "canvas"] = "landing"
    """What `/` shows: the landing page (what is here, a click from each product) or the
    Pixel Wars canvas itself."""
    trusted_proxies: str = ""
    """Comma-separated addresses or networks (`10.0.0.0/8`) of the reverse proxies whose
    `X-Forwarded-For` / `X-Forwarded-Proto` name the client; empty: no forwarded header is
    believed, the client is whoever connected (the per-IP rate limits key on it)."""

    canvas: CanvasSettings = msgspec.field(default_factory=CanvasSettings)
    desk: DeskSettings = msgspec.field(default_factory=DeskSettings)
    billiards: BilliardsSettings = msgspec.field(default_factory=BilliardsSettings)
    quiz: QuizSettings = msgspec.field(default_factory=QuizSettings)
    identity: IdentitySettings = msgspec.field(default_factory=IdentitySettings)
    google: GoogleSettings = msgspec.field(default_factory=GoogleSettings)
    telegram: TelegramSettings = msgspec.field(default_factory=TelegramSettings)
    relay: RelaySettings = msgspec.field(default_factory=RelaySettings)
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
