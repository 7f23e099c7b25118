"""deploy/ stays consistent: HAProxy accepts its configuration, Prometheus scrapes every role of
the compose file, and the alerts and the dashboard name only metrics the service exports (README's
table)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.cluster import HAPROXY_CFG, ROOT, haproxy_binary

pytestmark = pytest.mark.cluster
DEPLOY = ROOT / "deploy"


def exported_metrics() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| `tessera_")]
    return {name for row in rows for name in re.findall(r"`(tessera_[a-z_]+)`", row.split("|")[1])}


def metrics_named(text: str) -> set[str]:
    names = set(re.findall(r"\b(tessera_[a-z_]+)", text))
    return {re.sub(r"_(bucket|count|sum)$", "", name) for name in names}


def test_haproxy_accepts_the_configuration():
    try:
        binary = haproxy_binary()
    except RuntimeError as missing:
        pytest.fail(f"{missing} (scripts/test installs it)")
    checked = subprocess.run(
        [binary, "-c", "-f", str(HAPROXY_CFG)], capture_output=True, text=True, check=False,
        env=dict(os.environ) | {"HAPROXY_BIND": "127.0.0.1:1", "HAPROXY_STATS": "127.0.0.1:2",
                                "API1": "127.0.0.1:3", "API2": "127.0.0.1:4"},
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_prometheus_scrapes_every_role_of_the_compose_file():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    for role in ("api", "publish", "project"):
        assert any(s.get("command", [None])[:1] == [role] for s in services.values()), role
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]}
    assert targets == {"api1:8000", "api2:8000", "publish:9100", "project:9100", "haproxy:8404"}
    for target in targets:
        assert target.split(":")[0] in services
    assert services["publish"]["environment"]["TESSERA_METRICS_PORT"] == "9100"
    assert services["project"]["environment"]["TESSERA_METRICS_PORT"] == "9100"


def test_alerts_and_dashboard_name_only_exported_metrics():
    exported = exported_metrics()
    assert "tessera_projection_lag_events" in exported
    alerts = (DEPLOY / "alerts.yml").read_text()
    dashboard = json.loads((DEPLOY / "grafana" / "tessera.json").read_text())
    queries = " ".join(t["expr"] for panel in dashboard["panels"] for t in panel["targets"])
    assert metrics_named(alerts) <= exported, metrics_named(alerts) - exported
    assert metrics_named(queries) <= exported, metrics_named(queries) - exported
    assert exported <= metrics_named(queries), exported - metrics_named(queries)  # all shown
    rules = {r["alert"] for g in yaml.safe_load(alerts)["groups"] for r in g["rules"]}
    assert {"TesseraReadModelLag", "TesseraPublisherLag", "TesseraHttp5xxRate",
            "TesseraNodeNotReady"} <= rules


def test_the_cluster_script_uses_the_same_haproxy_configuration():
    assert HAPROXY_CFG == DEPLOY / "haproxy.cfg"
    compose = (DEPLOY / "compose.yaml").read_text()
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg" in compose
    assert Path(ROOT / "scripts" / "cluster").read_text().count("tests.support.cluster") == 1
