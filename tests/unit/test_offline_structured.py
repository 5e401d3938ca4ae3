"""Structured extraction against a user's JSON Schema, and the typed-value finders under it."""

from datetime import date
from typing import Any

from shared.pipeline.entities import find_entities
from shared.pipeline.patterns import find_dates, find_prices, to_number
from shared.pipeline.structured import extract_structured

EVENT = """Spring concert at the Town Hall
By Maria Lopez
Tickets cost 25 euros. Write to tickets@town.example or see https://town.example/concert.
The concert takes place on 14 March 2025 in London, organised by Riverside Music Society.
Status: confirmed
Capacity: 1,200
Sold out: no
"""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "author": {"type": "string"},
        "email": {"type": "string", "format": "email"},
        "website": {"type": "string"},
        "date": {"type": "string", "format": "date"},
        "price": {"type": "number"},
        "city": {"type": "string"},
        "organiser": {"type": "string", "title": "Organisation"},
        "status": {"enum": ["cancelled", "confirmed"]},
        "capacity": {"type": "integer"},
        "soldOut": {"type": "boolean"},
        "isbn": {"type": "string"},
        "speakers": {"type": "array", "items": {"type": "string", "title": "person"}},
        "contact": {"type": "object", "properties": {"phone": {"type": "string"}}},
    },
}


def test_structured_fills_what_the_text_shows_and_reports_the_rest() -> None:
    found = extract_structured(EVENT, SCHEMA, entities=find_entities(EVENT, "en"), language="en")
    assert found.values == {
        "title": "Spring concert at the Town Hall",
        "author": "Maria Lopez",
        "email": "tickets@town.example",
        "website": "https://town.example/concert",
        "date": "2025-03-14",
        "price": 25.0,
        "city": "London",
        "organiser": "Riverside Music Society",
        "status": "confirmed",
        "capacity": 1200,
        "soldOut": False,
        "speakers": ["Maria Lopez"],
    }
    assert found.missing == ("isbn", "contact.phone")


def test_structured_number_needs_its_name_nearby_not_any_number() -> None:
    schema = {"properties": {"rating": {"type": "number"}, "pages": {"type": "integer"}}}
    found = extract_structured("Published in 2021. Our rating: about 4.5 of 5.", schema)
    assert found.values == {"rating": 4.5}
    assert found.missing == ("pages",)


def test_structured_hostile_schemas_are_missing_fields_not_errors() -> None:
    assert extract_structured("text", {"properties": "nope"}).values == {}
    found = extract_structured("a: b", {"properties": {"x": 5, "y": {"type": ["null", "integer"]}}})
    assert (found.values, found.missing) == ({}, ("x", "y"))
    deep: dict[str, Any] = {"type": "object", "properties": {}}
    node = deep
    for _ in range(50):
        child: dict[str, Any] = {"type": "object", "properties": {}}
        node["properties"]["n"] = child
        node = child
    assert extract_structured("n: 1", deep).values == {}


def test_dates_in_four_languages_become_iso_and_impossible_ones_are_dropped() -> None:
    text = (
        "2024-03-12; 12.03.2024; 12 December 2024; December 12, 2024; 14. März 2025; "
        "8 octobre 2024; 20 de noviembre de 2024; 31 February 2024; 3 June"
    )
    assert [d for _, d in find_dates(text)] == [
        date(2024, 3, 12),
        date(2024, 3, 12),
        date(2024, 12, 12),
        date(2024, 12, 12),
        date(2025, 3, 14),
        date(2024, 10, 8),
        date(2024, 11, 20),
    ]


def test_numbers_and_prices_in_each_convention() -> None:
    raw = ["1,234.56", "1.234,56", "1,200", "1.200", "12.5", "3,75", "0.125", "1 240", "-3", "x"]
    assert [to_number(r) for r in raw] == [
        1234.56, 1234.56, 1200.0, 1200.0, 12.5, 3.75, 0.125, 1240.0, -3.0, None,
    ]  # fmt: skip
    prices = find_prices("€12.50 or 1,199 dollars, ermäßigt 14 Euro, $5, 16 euros")
    assert [v for _, v in prices] == [12.5, 1199.0, 14.0, 5.0, 16.0]


def test_structured_huge_enums_are_searched_only_in_part() -> None:
    enum = [f"option{i}" for i in range(10_000)] + ["blue"]
    schema = {"properties": {"colour": {"enum": enum}}}
    assert extract_structured("Colour: Blue", schema).values == {"colour": "blue"}
    found = extract_structured("The colour is blue.", schema)
    assert found.missing == ("colour",)  # in free text only the first 200 options are sought
    found = extract_structured("It is option7.", {"properties": {"pick": {"enum": enum}}})
    assert found.values == {"pick": "option7"}
