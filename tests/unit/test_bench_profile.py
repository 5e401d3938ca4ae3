"""`quarry bench profile`'s summary: who owns the code a cost is in, and what a driver sent."""

from __future__ import annotations

import cProfile
from pathlib import Path

from tools.bench.profile import ROOT, owner_of, statements_of, summarise


def test_owner_of_tells_ours_from_a_library_the_stdlib_and_c() -> None:
    assert owner_of(str(ROOT / "shared/pipeline/summary.py")) == "ours"
    assert owner_of("/x/.venv/lib/python3.11/site-packages/sqlalchemy/orm/session.py") == (
        "sqlalchemy"
    )
    assert owner_of(cProfile.__file__) == "stdlib"
    assert owner_of("~") == "C"


def test_statements_count_each_drivers_round_trips() -> None:
    site = "/v/lib/python3.11/site-packages"
    assert statements_of((f"{site}/psycopg/_cursor_base.py", 416, "_execute_send"), 7) == 7
    assert statements_of((f"{site}/asyncpg/transaction.py", 47, "__init__"), 3) == 6
    assert statements_of((f"{site}/asyncpg/connection.py", 320, "execute"), 9) == 0


def test_summarise_reads_a_profile_and_ranks_own_time(tmp_path: Path) -> None:
    profile = cProfile.Profile()
    profile.enable()
    sorted(str(i) for i in range(20_000))
    profile.disable()
    profile.dump_stats(tmp_path / "extraction-1.prof")
    found = summarise("extraction", [tmp_path / "extraction-1.prof"])
    assert found.stage == "extraction"
    assert found.busy_s > 0
    assert found.statements == 0
    assert len(found.top) <= 5
    assert [c.seconds for c in found.top] == sorted((c.seconds for c in found.top), reverse=True)
