"""The task runner on the offline provider: validation outcomes without any network."""

from __future__ import annotations

from shared.cache import MemoryCache
from shared.llm.budget import Budget
from shared.llm.calls import Caller
from shared.llm.chain import Chain
from shared.llm.local import LocalProvider
from shared.llm.tasks import InsightResult, Options, analyse
from tests.conftest import MAIN_LOOP

PAGE = "The new library is a wonderful success. Ada Lovelace opened it in Edinburgh."


def offline(options: Options, text: str = PAGE) -> InsightResult:
    caller = Caller(Chain([LocalProvider()]), MemoryCache(), None, "run", None, Budget())
    return MAIN_LOOP.run_until_complete(analyse(text, options, caller))


def test_llm_tasks_offline_answers_are_valid_and_unaccounted() -> None:
    result = offline(Options(labels={"culture": "libraries, museums and the arts"}))
    assert (result.status, result.detail, result.provider, result.model) == (
        "ok",
        None,
        "local",
        "quarry-offline-1",
    )
    assert result.sentiment_label == "positive"
    assert set(result.label_scores) == {"culture"}
    assert (result.tokens, result.cost_usd) == (0, 0.0)


def test_llm_tasks_broken_stored_schema_is_invalid_output_keeping_the_insight() -> None:
    result = offline(Options(schema={"type": "object", "properties": {"a": {"type": "nope"}}}))
    assert result.status == "invalid_output"
    assert result.detail is not None
    assert result.detail.startswith("the source's JSON Schema is invalid: 'nope' is not valid")
    assert result.structured is None
    assert result.summary == PAGE


def test_llm_tasks_required_field_not_found_is_invalid_output_not_a_guess() -> None:
    schema = {
        "type": "object",
        "required": ["isbn"],
        "properties": {"isbn": {"type": "string", "pattern": "^97[89][0-9]{10}$"}},
    }
    result = offline(Options(schema=schema))
    assert (result.status, result.structured) == ("invalid_output", None)
    assert result.detail == (
        "extract: the answer was still invalid after 2 repairs: "
        "at (root): 'isbn' is a required property"
    )


def test_llm_tasks_empty_and_hostile_text_still_answers() -> None:
    assert offline(Options(), "").status == "ok"
    huge = offline(Options(), "no punctuation " * 5000)
    assert huge.status == "ok"
    assert len(huge.summary) <= 4000
