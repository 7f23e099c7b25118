"""A private nats-server with JetStream for outage tests: started and stopped by the test, never
the shared one."""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra.embedded import nats_server_binary


def start_nats(port: int, store: Path) -> subprocess.Popen[bytes]:
    """A nats-server on `port` (loopback), its JetStream data in `store`: start it again on the
    same port and store to bring the same server back."""
    return subprocess.Popen(
        [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_nats(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)
