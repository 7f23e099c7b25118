from pathlib import Path

import pytest

from infra.settings import SettingsError, environment_variables, load

VARIABLES = {
    "TESSERA_DATABASE_URL", "TESSERA_NATS_URL", "TESSERA_DATA_DIR", "TESSERA_SCHEMA",
    "TESSERA_STREAM_PREFIX", "TESSERA_STREAM_REPLICAS", "TESSERA_HOST", "TESSERA_PORT", "TESSERA_SNAPSHOT_EVERY",
    "TESSERA_SNAPSHOT_SECONDS", "TESSERA_DELTA_RING", "TESSERA_DELTA_INTERVAL_MS",
    "TESSERA_PROJECTION_LINGER_MS", "TESSERA_DESK_VIEW_LINGER_MS", "TESSERA_LIVE_QUEUE_FRAMES",
    "TESSERA_WRITER_LINGER_MS", "TESSERA_DESK_WRITER_LINGER_MS", "TESSERA_WRITER_MAX_BATCH",
    "TESSERA_AGGREGATE_SNAPSHOT_EVERY", "TESSERA_MAX_BODY_BYTES", "TESSERA_LATEST_CACHE_SECONDS",
    "TESSERA_DEV_AUTH", "TESSERA_JWT_KEYS", "TESSERA_ACCESS_TTL_S", "TESSERA_REFRESH_TTL_S",
    "TESSERA_REFRESH_GRACE_S", "TESSERA_GOOGLE_CLIENT_IDS", "TESSERA_GOOGLE_JWKS_URL",
    "TESSERA_TELEGRAM_BOT_TOKEN", "TESSERA_TELEGRAM_AUTH_MAX_AGE_S", "TESSERA_ADMIN_IDENTITIES",
    "TESSERA_ALLOWED_ORIGINS", "TESSERA_RATE_IP_PER_S", "TESSERA_RATE_IP_BURST",
    "TESSERA_RATE_ACCOUNT_PER_S", "TESSERA_RATE_ACCOUNT_BURST", "TESSERA_PLAYER_CAP",
    "TESSERA_AFK_AFTER_S", "TESSERA_SPECTATOR_POLL_S", "TESSERA_TELEGRAM_BOT_USERNAME",
    "TESSERA_TELEGRAM_API_URL", "TESSERA_TELEGRAM_WEBHOOK_SECRET", "TESSERA_TELEGRAM_ADMIN_CHATS",
    "TESSERA_DESK_TTL_S", "TESSERA_DESK_IDLE_SESSION_S", "TESSERA_DESK_WRITER_IDLE_S",
    "TESSERA_TRUSTED_PROXIES", "TESSERA_RATE_READ_IP_PER_S", "TESSERA_RATE_READ_IP_BURST",
    "TESSERA_PROJECTION_MAX_TRIES", "TESSERA_HEALTH_STALLED_S", "TESSERA_HEALTH_BEHIND_EVENTS",
    "TESSERA_METRICS_PORT", "TESSERA_LOG_FORMAT", "TESSERA_ACCESS_LOG",
    "TESSERA_SHUTDOWN_TIMEOUT_S",
    "TESSERA_STORE_TIMEOUT_MS",
    "TESSERA_GUEST_SIGN_IN", "TESSERA_GUEST_ACCOUNTS_PER_IP_HOUR", "TESSERA_HOME",
    "TESSERA_LIVE_SPECTATORS",
    "TESSERA_RELAY_API_KEY",
    "TESSERA_RELAY_CORS_ORIGINS",
    "TESSERA_RELAY_MAX_CLIENTS",
    "TESSERA_RELAY_MAX_ROOM_CLIENTS",
    "TESSERA_RELAY_COMMITTED_ROUND_TO",
    "TESSERA_RELAY_MAX_FRAME_BYTES",
    "TESSERA_RELAY_SEND_QUEUE_BYTES",
    "TESSERA_RELAY_IDLE_ROOM_S",
    "TESSERA_RELAY_ATTEMPT_WINDOW_S",
    "TESSERA_RELAY_ATTEMPTS_PER_IP",
    "TESSERA_RELAY_ATTEMPTS_PER_ROOM",
    "TESSERA_RELAY_LOCKOUT_AFTER",
    "TESSERA_RELAY_LOCKOUT_S",
    "TESSERA_RELAY_WRITER_LINGER_MS",
    "TESSERA_RELAY_RECORD_LINGER_MS",
    "TESSERA_RELAY_NODE_TTL_S",
    "TESSERA_BILLIARDS_WRITER_LINGER_MS", "TESSERA_BILLIARDS_CONFIRM_S",
    "TESSERA_BILLIARDS_MATCH_MINUTES", "TESSERA_BILLIARDS_SEASON_MONTHS",
    "TESSERA_BILLIARDS_WEB_APP_URL", "TESSERA_BILLIARDS_NOTIFY",
    "TESSERA_BILLIARDS_NOTIFY_RATE_PER_S", "TESSERA_BILLIARDS_NOTIFY_CHAT_INTERVAL_S",
    "TESSERA_QUIZ_WRITER_LINGER_MS", "TESSERA_QUIZ_VIEW_LINGER_MS", "TESSERA_QUIZ_IMAGE_MAX_BYTES",
    "TESSERA_QUIZ_IMAGE_MAX_SIDE", "TESSERA_QUIZ_IMAGE_GRACE_S", "TESSERA_QUIZ_GC_INTERVAL_S",
    "TESSERA_QUIZ_BLOB_DIR",
    "TESSERA_HISTORY_KEYFRAME_EVERY", "TESSERA_HISTORY_MAPS_EVERY", "TESSERA_HISTORY_STREAM_KEY",
}  # fmt: skip
"""The names deployments use (README's Configuration table): grouping must not change them."""


def test_every_setting_keeps_its_environment_variable_name() -> None:
    names = list(environment_variables().values())
    assert len(names) == len(set(names))
    assert set(names) == VARIABLES


def test_variables_set_the_grouped_settings_in_their_types() -> None:
    settings = load({
        "TESSERA_SNAPSHOT_EVERY": "500",
        "TESSERA_WRITER_LINGER_MS": "1.5",
        "TESSERA_DESK_WRITER_LINGER_MS": "20",
        "TESSERA_DESK_TTL_S": "3600",
        "TESSERA_JWT_KEYS": "k1:c2VjcmV0",
        "TESSERA_GOOGLE_CLIENT_IDS": "a,b",
        "TESSERA_TELEGRAM_BOT_TOKEN": "123:abc",
        "TESSERA_DATA_DIR": "/var/lib/tessera",
        "TESSERA_PORT": "9000",
    })  # fmt: skip
    assert settings.canvas.snapshot_every == 500
    assert settings.canvas.writer_linger_ms == 1.5
    assert settings.desk.writer_linger_ms == 20.0
    assert settings.desk.ttl_s == 3600
    assert settings.identity.jwt_keys == "k1:c2VjcmV0"
    assert settings.google.client_ids == "a,b"
    assert settings.telegram.bot_token == "123:abc"
    assert settings.data_dir == Path("/var/lib/tessera")
    assert settings.port == 9000


def test_unset_and_empty_variables_leave_the_defaults() -> None:
    settings = load({"TESSERA_SNAPSHOT_EVERY": "", "TESSERA_TELEGRAM_API_URL": ""})
    assert settings == load({})
    assert settings.canvas.snapshot_every == 10_000
    assert settings.telegram.api_url == "https://api.telegram.org"
    assert settings.database_url is None


def test_the_service_urls_fall_back_to_the_common_names() -> None:
    common = {"DATABASE_URL": "postgresql://db/common", "NATS_URL": "nats://common:4222"}
    assert load(common).database_url == "postgresql://db/common"
    assert load(common).nats_url == "nats://common:4222"
    own = common | {"TESSERA_DATABASE_URL": "postgresql://db/own"}
    assert load(own).database_url == "postgresql://db/own"


@pytest.mark.parametrize("value", ["1", "true", "True", "yes", "YES", "on", " on "])
def test_dev_auth_is_turned_on_by_the_usual_words(value: str) -> None:
    assert load({"TESSERA_DEV_AUTH": value}).dev_auth is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "Off"])
def test_dev_auth_is_turned_off_by_the_usual_words(value: str) -> None:
    assert load({"TESSERA_DEV_AUTH": value}).dev_auth is False


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TESSERA_DESK_TTL_S", "a week"),
        ("TESSERA_SNAPSHOT_SECONDS", "soon"),
        ("TESSERA_PORT", "http"),
        ("TESSERA_DEV_AUTH", "maybe"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name}='{value}': Expected"):
        load({name: value})
