"""What every test run checks of itself: no secret it used reached a log line (issue 22).

Each test's captured log records, stdout and stderr (which also take what the processes it
started wrote to inherited descriptors) are kept in a file for the run; at the end, that file and
every `*.log` file under the run's temporary directory are searched for the secrets the tests
registered (`tests.support.logged_secrets`) and the signing keys their nodes generated."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import logged_secrets

_captured = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the whole run
    "w+", encoding="utf-8", errors="replace", prefix="tessera-test-output-", suffix=".txt"
)
_basetemp: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def _run_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    _basetemp.append(tmp_path_factory.getbasetemp())


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for title, text in report.sections:
        _captured.write(f"\0{report.nodeid} {title}\n{text}")


def _everything_logged() -> Iterator[tuple[str, str]]:
    _captured.flush()
    _captured.seek(0)
    for chunk in _captured.read().split("\0"):
        where, _, text = chunk.partition("\n")
        yield where, text
    for root in _basetemp:
        for path in root.rglob("*.log"):
            yield str(path), path.read_text(errors="replace")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for root in _basetemp:
        logged_secrets.signing_keys_under(root)
    leaks = logged_secrets.leaks(_everything_logged())
    _captured.close()
    if leaks:
        print("\nsecrets in the run's logs:\n  " + "\n  ".join(leaks))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
