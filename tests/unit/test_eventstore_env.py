"""The database URL as the event store's library gets it: its own keys for the parts it knows,
its connection pool's arguments for the rest. Nothing connects: the pool opens on first use."""

from eventsourcing.persistence import InfrastructureFactory

from infra.settings import Settings
from infra.spine.eventstore import application_env


def env_for(url: str) -> dict[str, str]:
    return application_env(Settings(database_url=url))


def pool_arguments(url: str) -> dict[str, object]:
    factory = InfrastructureFactory.construct(env_for(url))
    try:
        kwargs = factory.datastore.pool.kwargs  # type: ignore[attr-defined]
        return {key: value for key, value in kwargs.items() if key != "row_factory"}
    finally:
        factory.close()


def test_host_port_user_password_and_database_reach_the_librarys_keys() -> None:
    env = env_for("postgresql://tess%40ops:p%2Fss%3Aw%25rd@db.example.org:6543/event%20store")
    assert env["POSTGRES_HOST"] == "db.example.org"
    assert env["POSTGRES_PORT"] == "6543"
    assert env["POSTGRES_USER"] == "tess@ops"
    assert env["POSTGRES_PASSWORD"] == "p/ss:w%rd"
    assert env["POSTGRES_DBNAME"] == "event store"


def test_options_the_library_has_no_key_for_reach_its_pool() -> None:
    url = (
        "postgresql://tessera:secret@db.example.org/tessera"
        "?sslmode=verify-full&options=-c%20statement_timeout%3D5s&connect_timeout=7"
    )
    assert pool_arguments(url) == {
        "host": "db.example.org",
        "port": "5432",
        "user": "tessera",
        "password": "secret",
        "dbname": "tessera",
        "sslmode": "verify-full",
        "options": "-c statement_timeout=5s",
        "connect_timeout": "7",
    }


def test_a_unix_socket_directory_is_the_host() -> None:
    escaped = env_for("postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/tessera")
    in_query = env_for("postgresql:///tessera?host=/var/run/postgresql&user=postgres")
    for env in (escaped, in_query):
        assert env["POSTGRES_HOST"] == "/var/run/postgresql"
        assert env["POSTGRES_USER"] == "postgres"
        assert env["POSTGRES_DBNAME"] == "tessera"


def test_parts_the_url_leaves_out_are_left_to_libpqs_defaults() -> None:
    assert pool_arguments("postgresql:///tessera") == {
        "host": "",
        "port": "5432",
        "user": "",
        "password": "",
        "dbname": "tessera",
    }
