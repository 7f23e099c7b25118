"""The run's own check for secrets in its logs (tests/conftest.py) finds them, and names them
only by their first characters."""

from pathlib import Path

from tests.support import logged_secrets
from tests.support.logged_secrets import secret


def test_a_registered_secret_is_found_where_it_was_logged_and_never_repeated_whole():
    token = secret("unit-test-secret-9d2e41")
    found = logged_secrets.leaks([("a test's log", f"sent with {token}"), ("another", "clean")])
    assert found == ["a test's log: unit…"]
    assert token not in "".join(found)


def test_generated_signing_keys_count_as_secrets(tmp_path: Path):
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "jwt-keys.json").write_text('{"keys": "dev-1:c2lnbmluZy1rZXktZm9yLXRlc3Q"}')
    logged_secrets.signing_keys_under(tmp_path)
    assert logged_secrets.leaks([("server.log", "key c2lnbmluZy1rZXktZm9yLXRlc3Q")]) != []
