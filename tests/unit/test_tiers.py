"""The tier runner's decisions: which tiers fail the run, and what the closing summary names."""

from __future__ import annotations

from tests.tiers import HARD_FACTOR, TIERS, TierResult, failures_in, summarise

BUDGETS = {"unit": 60, "integration": 180, "stack": 360, "e2e": 120}

PYTEST_TAIL = """\
..F.E
ERROR    quarry.worker:worker.py:12 a test's captured log, not a failing test
FAILED to connect (a test's own output)
=========================== short test summary info ============================
SKIPPED [1] tests/stack/test_up.py:12: needs nginx
FAILED tests/integration/test_politeness.py::test_parallel - AssertionError: serialised
ERROR tests/stack/test_up.py::test_restart - TimeoutError
ERROR tests/unit/test_broken.py - ImportError: no module
1 failed, 3 passed, 2 errors in 4.20s
"""


def test_budgets_are_the_agreed_ones() -> None:
    assert TIERS == BUDGETS
    assert HARD_FACTOR == 1.5


def test_failures_are_the_short_summary_lines_with_node_ids() -> None:
    assert failures_in(PYTEST_TAIL) == (
        "FAILED tests/integration/test_politeness.py::test_parallel - AssertionError: serialised",
        "ERROR tests/stack/test_up.py::test_restart - TimeoutError",
        "ERROR tests/unit/test_broken.py - ImportError: no module",
    )


def test_failures_name_node_ids_without_the_xdist_group_pytest_can_run_again() -> None:
    tail = (
        "=========================== short test summary info ============================\n"
        "FAILED tests/stack/test_up.py::test_restart@shared-stack - AssertionError: a@b\n"
        "ERROR tests/stack/test_bench.py::test_quick@tests.stack.test_bench\n"
        "FAILED tests/stack/test_x.py::test_p[user@host]@tests.stack.test_x - boom\n"
        "FAILED tests/stack/test_x.py::test_p[user@host] - boom\n"
    )
    assert failures_in(tail) == (
        "FAILED tests/stack/test_up.py::test_restart - AssertionError: a@b",
        "ERROR tests/stack/test_bench.py::test_quick",
        "FAILED tests/stack/test_x.py::test_p[user@host] - boom",
        "FAILED tests/stack/test_x.py::test_p[user@host] - boom",
    )


def test_all_green_within_budget_passes() -> None:
    lines, code = summarise(
        [TierResult("unit", 0, 30.0, ()), TierResult("integration", 0, 179.0, ())], BUDGETS
    )
    assert code == 0
    assert not any("problem" in line for line in lines)
    assert any(line.startswith("unit ") and "ok" in line and "60s" in line for line in lines)


def test_a_failing_tier_does_not_hide_the_others_and_every_failure_is_listed() -> None:
    failing = TierResult("integration", 1, 100.0, ("FAILED tests/a.py::t1 - x", "ERROR b.py"))
    results = [TierResult("unit", 0, 10.0, ()), failing, TierResult("stack", 0, 200.0, ())]
    lines, code = summarise(results, BUDGETS)
    assert code == 1
    text = "\n".join(lines)
    assert "stack " in text  # the tier after the failing one is reported
    assert "integration: FAILED tests/a.py::t1 - x" in text
    assert "integration: ERROR b.py" in text
    assert "2 problem(s)" in text


def test_over_budget_but_within_one_and_a_half_times_only_warns() -> None:
    lines, code = summarise([TierResult("integration", 0, 180 * 1.5, ())], BUDGETS)
    assert code == 0
    assert "over budget (within 1.5x)" in "\n".join(lines)


def test_past_one_and_a_half_times_the_budget_fails_naming_it() -> None:
    lines, code = summarise([TierResult("stack", 0, 541.0, ())], BUDGETS)
    assert code == 1
    assert "stack: took 541.0 s, over 1.5x its 360 s budget (540 s)" in "\n".join(lines)


def test_a_nonzero_exit_without_named_tests_still_fails_and_says_so() -> None:
    lines, code = summarise([TierResult("e2e", 5, 1.0, ())], BUDGETS)
    assert code == 1
    assert "e2e: pytest exited 5 without naming a test" in "\n".join(lines)


def test_no_tier_run_fails() -> None:
    lines, code = summarise([], BUDGETS)
    assert code == 1
    assert "no tier ran" in "\n".join(lines)
