"""`tessera` as a deployment runs it: in its own process, configured by the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TESSERA = [sys.executable, "-m", "api.cli"]


def environment(settings: Settings, data_dir: Path, **extra: str) -> dict[str, str]:
    """The variables that point `tessera` at the test's own schema and stream, and `extra`."""
    return dict(os.environ) | {
        "TESSERA_DATABASE_URL": settings.database_url or "",
        "TESSERA_NATS_URL": settings.nats_url or "",
        "TESSERA_SCHEMA": settings.schema,
        "TESSERA_STREAM_PREFIX": settings.stream_prefix,
        "TESSERA_DATA_DIR": str(data_dir),
        **extra,
    }


def run(
    settings: Settings, data_dir: Path, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`tessera <args>` to its end (killed after `timeout`: `subprocess.TimeoutExpired`); its
    output (stdout and stderr together) in `stdout`."""
    return subprocess.run(
        [*TESSERA, *args], cwd=ROOT, env=environment(settings, data_dir), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False,
    )


def start(
    environ: dict[str, str], log_path: Path, *args: str
) -> subprocess.Popen[bytes]:
    """`tessera <args>` in the background, its output in `log_path`."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [*TESSERA, *args], cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT
        )
