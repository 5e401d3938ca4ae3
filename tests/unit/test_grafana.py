"""Grafana dashboards: they parse, use only the provisioned datasource, and query only
metrics that Quarry's code exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.observability.catalog import exported_names

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "infra" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
BUILTIN = {"up"}  # series Prometheus itself writes for every target
METRIC = re.compile(r"\b(quarry_[a-z0-9_]+|up)\b(?!\s*\()")


def _datasources() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in (GRAFANA / "provisioning" / "datasources").glob("*.yml"):
        found += yaml.safe_load(path.read_text(encoding="utf-8"))["datasources"]
    return found


def _walk(node: Any) -> list[Any]:
    """Every dict and list nested in a dashboard, the dashboard included."""
    out = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        out += _walk(child)
    return out


def _expressions(dashboard: dict[str, Any]) -> list[str]:
    exprs = [n["expr"] for n in _walk(dashboard) if isinstance(n, dict) and "expr" in n]
    for var in dashboard.get("templating", {}).get("list", []):
        query = var.get("query")
        exprs.append(query["query"] if isinstance(query, dict) else str(query or ""))
    return exprs


def test_grafana_has_the_four_dashboards_with_distinct_uids() -> None:
    loaded = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in DASHBOARDS}
    assert set(loaded) == {"platform-overview", "per-function", "pipeline", "llm-usage"}
    uids = [d["uid"] for d in loaded.values()]
    assert len(set(uids)) == len(uids)
    for name, dashboard in loaded.items():
        assert dashboard["title"].startswith("Quarry: "), name
        assert dashboard["panels"], name
        ids = [p["id"] for p in dashboard["panels"]]
        assert len(set(ids)) == len(ids), f"{name}: panel ids repeat"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_grafana_datasource_references_resolve(path: Path) -> None:
    provisioned = _datasources()
    uids = {d["uid"] for d in provisioned}
    names = {d["name"] for d in provisioned}
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    refs = [n["datasource"] for n in _walk(dashboard) if isinstance(n, dict) and "datasource" in n]
    assert refs
    for ref in refs:
        if isinstance(ref, dict):
            assert ref["type"] == "prometheus", ref
            assert ref["uid"] in uids, ref
        else:
            assert ref in names, ref


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_grafana_queries_only_exported_metrics(path: Path) -> None:
    exported = exported_names() | BUILTIN
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    used = {m for expr in _expressions(dashboard) for m in METRIC.findall(expr)}
    assert used, f"{path.name} queries no Quarry metric"
    assert used <= exported, f"{path.name} queries unknown metrics {sorted(used - exported)}"


def test_grafana_unknown_metric_is_caught() -> None:
    exported = exported_names()
    used = set(METRIC.findall('sum(rate(quarry_function_invocation_total{outcome="error"}[5m]))'))
    assert used == {"quarry_function_invocation_total"}
    assert not used <= exported  # a typo in a dashboard would fail the test above


def test_grafana_provisioning_loads_the_mounted_dashboards() -> None:
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/quarry.yml").read_text())
    paths = [p["options"]["path"] for p in providers["providers"]]
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    volumes = compose["services"]["grafana"]["volumes"]
    assert f"./infra/grafana/dashboards:{paths[0]}:ro" in volumes
    assert "./infra/grafana/provisioning:/etc/grafana/provisioning:ro" in volumes
    assert [d["url"] for d in _datasources()] == ["http://prometheus:9090"]
