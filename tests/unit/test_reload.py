"""Hot reload: a changed file reaches only the processes whose import closure holds it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from emulator.reload import Graph, imports_of, plan, roots_of, scan
from emulator.stack.supervisor import interleave, pool_of
from emulator.table import Table, load_table
from emulator.watch import changed
from shared.flow import FLOW

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "serverless.yml"
STAGES = FLOW.names
WORKERS = [f"worker-{s}" for s in STAGES]
APIS = ["api-1", "api-2", "api-3"]
WEBS = ["web-1", "web-2"]


@pytest.fixture(scope="module")
def graph() -> Graph:
    return scan(ROOT)


@pytest.fixture(scope="module")
def table() -> Table:
    return load_table(TABLE)


def stack_processes(table: Table) -> dict[str, frozenset[str]]:
    """The app processes of `quarry up` (3 API, 2 web), from the command lines it runs."""
    argv: dict[str, list[str]] = {
        "redis-queue": ["/usr/bin/redis-server", "--port", "7000"],
        "nginx": ["/usr/sbin/nginx", "-p", "/tmp/x/"],
    }
    for role, names in (("api", APIS), ("web", WEBS)):
        for i, name in enumerate(names):
            argv[name] = [
                "python",
                "-m",
                "emulator.stack.instance",
                role,
                str(9000 + i),
                str(TABLE),
            ]
    for stage in STAGES:
        argv[f"worker-{stage}"] = [
            "python",
            "-m",
            "emulator.stack.worker",
            stage,
            "9100",
            str(TABLE),
        ]
    argv["scheduler"] = ["python", "-m", "emulator.stack.schedulerd", "9200", str(TABLE)]
    out = {}
    for name, args in argv.items():
        roots = roots_of(args, table)
        if roots is not None:
            out[name] = roots
    return out


def services_for(path: str, graph: Graph, table: Table) -> tuple[str, ...]:
    return plan([ROOT / path], graph, stack_processes(table), table, [TABLE]).services


def test_reload_worker_closure_holds_its_pipeline_core_and_not_the_api(graph: Graph) -> None:
    worker = graph.closure(["emulator.stack.worker", "functions.stages.extraction"])
    assert "shared.pipeline.extract" in worker
    assert "functions.api.sources" not in worker
    assert "shared.pipeline.extract" not in graph.closure(["functions.api.sources"])
    assert {"shared", "shared.pipeline"} <= worker  # parent packages run their __init__


def test_reload_roots_follow_the_table(table: Table) -> None:
    processes = stack_processes(table)
    assert "nginx" not in processes
    assert "redis-queue" not in processes
    assert processes["api-2"] == {
        "emulator.stack.instance",
        "functions.api.health",
        "functions.api.docs",
        "functions.api.sources",
        "functions.api.runs",
        "functions.api.documents",
        "functions.api.analytics",
        "functions.api.deadletters",
        "functions.api.alerts",
        "functions.api.webhooks",
        "functions.api.keys",
    }
    assert processes["web-1"] == {"emulator.stack.instance", "dashboard.app"}
    assert processes["worker-extraction"] == {
        "emulator.stack.worker",
        "functions.stages.extraction",
    }
    scheduled = {fn.module for fn in table.functions.values() if fn.schedules}
    assert processes["scheduler"] == {"emulator.stack.schedulerd", *scheduled}


def test_reload_api_source_restarts_api_instances_only(graph: Graph, table: Table) -> None:
    assert services_for("functions/api/sources.py", graph, table) == tuple(APIS)


def test_reload_pipeline_core_restarts_its_worker_only(graph: Graph, table: Table) -> None:
    assert services_for("shared/pipeline/extract.py", graph, table) == ("worker-extraction",)


def test_reload_template_restarts_dashboard_instances_only(graph: Graph, table: Table) -> None:
    assert services_for("dashboard/templates/overview.html", graph, table) == tuple(WEBS)


def test_reload_database_engine_restarts_every_app_process(graph: Graph, table: Table) -> None:
    expected = (*APIS, *WEBS, *WORKERS, "scheduler")
    assert services_for("shared/db/engine.py", graph, table) == expected
    assert services_for("serverless.yml", graph, table) == expected


def test_reload_message_names_files_services_and_functions(graph: Graph, table: Table) -> None:
    changes = [ROOT / "functions/api/sources.py"]
    message = plan(changes, graph, stack_processes(table), table).message
    assert message == (
        "reload: functions/api/sources.py changed → restarting api-1, api-2, api-3 "
        "(functions: sources)"
    )
    cli = plan([ROOT / "cli/main.py"], graph, stack_processes(table), table)
    assert cli.services == ()
    assert cli.message == "reload: cli/main.py changed; no running process imports it"


def test_reload_broken_source_restarts_nothing(table: Table) -> None:
    path = ROOT / "functions/api/health.py"
    graph = Graph(
        ROOT,
        {"functions.api.health": path},
        {"functions.api.health": frozenset()},
        {"functions.api.health": "functions/api/health.py: invalid syntax (line 3)"},
        {},
    )
    todo = plan([path], graph, {"api-1": frozenset({"functions.api.health"})}, table)
    assert todo.services == ("api-1",)
    assert todo.broken == ("functions/api/health.py: invalid syntax (line 3)",)
    assert todo.message.endswith("invalid syntax (line 3); not restarting")


def test_reload_imports_resolve_from_relative_and_submodules() -> None:
    known = {"pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c", "other"}
    source = "from . import a\nfrom .sub import c\nimport other\nimport os\n"
    source += "def f():\n    from pkg import b\n"
    assert imports_of("pkg.mod", source, False, known) == {
        "pkg",
        "pkg.a",
        "pkg.b",
        "pkg.sub",
        "pkg.sub.c",
        "other",
    }
    assert imports_of("pkg.sub", "from .. import a\n", True, known) == {"pkg", "pkg.a"}


def test_reload_snapshots_compare_added_removed_and_modified() -> None:
    a, b, c = Path("a.py"), Path("b.py"), Path("c.py")
    before = {a: (1, 10), b: (1, 10)}
    after = {a: (2, 10), c: (1, 1)}
    assert changed(before, after) == {a, b, c}
    assert changed(before, dict(before)) == set()


def test_reload_pools_interleave_so_cooldowns_overlap() -> None:
    assert [pool_of(n) for n in ("api-12", "worker-extraction", "scheduler")] == [
        "api",
        "worker-extraction",
        "scheduler",
    ]
    assert interleave([*APIS, *WEBS, "worker-discovery"]) == [
        "api-1",
        "web-1",
        "worker-discovery",
        "api-2",
        "web-2",
        "api-3",
    ]


def test_reload_argv_of_non_project_python_is_not_reloaded(table: Table) -> None:
    assert roots_of([sys.executable, "-m", "http.server"], table) is None
