"""What every test run checks of itself: no secret it used reached a log line (issue 22).

Each test's captured log records, stdout and stderr (which also take what the processes it
started wrote to inherited descriptors) are kept in a file for the run; at the end, that file and
every `*.log` file under the run's temporary directory are searched for the secrets the tests
registered (`tests.support.logged_secrets`) and the signing keys their nodes generated.

Under pytest-xdist the check runs once, in the controller: every worker's test reports reach it
with their sections, and each worker hands over, as it finishes, the secrets its tests
registered and its temporary directory (the controller's tests never run in its own process).

The heavy tests (a cluster, killed nodes, live video, the fuzzer) share one xdist group: under
`--dist loadgroup` (`TESSERA_TEST_WORKERS=2 scripts/test`), no two of them run at once."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import logged_secrets

HEAVY = ("cluster", "crash", "stream", "fuzz")
"""Markers of the tests that load the machine, or that need it to keep their timing (a node
killed mid-flight, a cluster under 2,000 commands a second)."""

_basetemp: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        config.pluginmanager.register(_HandOver(), "tessera-secrets-hand-over")
    else:
        config.pluginmanager.register(_LeakCheck(), "tessera-leak-check")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.get_closest_marker(name) for name in HEAVY):
            item.add_marker(pytest.mark.xdist_group("heavy"))


@pytest.fixture(scope="session", autouse=True)
def _run_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> None:
    _basetemp.append(tmp_path_factory.getbasetemp())


class _LeakCheck:
    """The check, in the run's only process, or in the xdist controller."""

    def __init__(self) -> None:
        self._captured = tempfile.NamedTemporaryFile(  # noqa: SIM115 - open for the whole run
            "w+", encoding="utf-8", errors="replace", prefix="tessera-test-output-", suffix=".txt"
        )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for title, text in report.sections:
            self._captured.write(f"\0{report.nodeid} {title}\n{text}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """An xdist worker finished: take over what `_HandOver` sent."""
        output = getattr(node, "workeroutput", {})
        for value in output.get("logged_secrets", ()):
            logged_secrets.secret(value)
        _basetemp.extend(Path(root) for root in output.get("basetemp", ()))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for root in _basetemp:
            logged_secrets.signing_keys_under(root)
        leaks = logged_secrets.leaks(self._everything_logged())
        self._captured.close()
        if leaks:
            print("\nsecrets in the run's logs:\n  " + "\n  ".join(leaks))
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _everything_logged(self) -> Iterator[tuple[str, str]]:
        self._captured.flush()
        self._captured.seek(0)
        for chunk in self._captured.read().split("\0"):
            where, _, text = chunk.partition("\n")
            yield where, text
        for root in _basetemp:
            for path in root.rglob("*.log"):
                yield str(path), path.read_text(errors="replace")


class _HandOver:
    """An xdist worker's part: its test reports go to the controller as they come; as it
    finishes, the secrets its tests registered and its temporary directory go too."""

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for root in _basetemp:
            logged_secrets.signing_keys_under(root)
        output = session.config.workeroutput
        output["logged_secrets"] = logged_secrets.registered()
        output["basetemp"] = [str(root) for root in _basetemp]
