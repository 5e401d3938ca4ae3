"""Route selection: exact beats {param} beats {proxy+}, a method beats ANY, $default comes last."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.routing import Match, Router
from emulator.table import Function, Route, load_table

ROOT = Path(__file__).resolve().parents[2]


def fn(name: str, *routes: str) -> Function:
    """A function with httpApi routes written as serverless.yml writes them."""
    parsed = tuple(
        Route("ANY", "$default") if r == "$default" else Route(*r.split(" ", 1)) for r in routes
    )
    return Function(name, f"functions/api/{name}.handler", 10.0, 512, parsed)


# The routes of API Gateway's own "Routing API requests" example, declared most-general first
# so that declaration order cannot be what picks the winner.
DEFAULT = fn("fallback", "$default")
ANY_PROXY = fn("any_proxy", "ANY /{proxy+}")
PETS_PROXY = fn("pets_proxy", "GET /pets/{proxy+}")
DOG_BY_ID = fn("dog_by_id", "GET /pets/dog/{id}")
DOG_ONE = fn("dog_one", "GET /pets/dog/1")
PETS = Router([DEFAULT, ANY_PROXY, PETS_PROXY, DOG_BY_ID, DOG_ONE])


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/pets/dog/1", Match(DOG_ONE, DOG_ONE.routes[0], {})),
        ("GET", "/pets/dog/2", Match(DOG_BY_ID, DOG_BY_ID.routes[0], {"id": "2"})),
        ("GET", "/pets/cat/1", Match(PETS_PROXY, PETS_PROXY.routes[0], {"proxy": "cat/1"})),
        ("POST", "/pets/cat/1", Match(ANY_PROXY, ANY_PROXY.routes[0], {"proxy": "pets/cat/1"})),
        ("POST", "/pets/dog/1", Match(ANY_PROXY, ANY_PROXY.routes[0], {"proxy": "pets/dog/1"})),
        ("GET", "/", Match(DEFAULT, DEFAULT.routes[0], {})),
    ],
)
def test_router_exact_beats_param_beats_greedy(method: str, path: str, expected: Match) -> None:
    assert PETS.match(method, path) == expected


def test_router_method_beats_any_whatever_the_order() -> None:
    any_items = fn("any_items", "ANY /items")
    get_items = fn("get_items", "GET /items")
    for functions in ([any_items, get_items], [get_items, any_items]):
        router = Router(functions)
        assert router.match("GET", "/items") == Match(get_items, get_items.routes[0], {})
        assert router.match("DELETE", "/items") == Match(any_items, any_items.routes[0], {})


def test_router_method_is_case_insensitive() -> None:
    items = fn("items", "GET /items")
    assert Router([items]).match("get", "/items") == Match(items, items.routes[0], {})


def test_router_default_comes_after_every_route() -> None:
    a = fn("a", "GET /a")
    router = Router([DEFAULT, a, ANY_PROXY])
    assert router.match("GET", "/a") == Match(a, a.routes[0], {})
    assert router.match("GET", "/b") == Match(ANY_PROXY, ANY_PROXY.routes[0], {"proxy": "b"})
    assert Router([DEFAULT, a]).match("PUT", "/b/c") == Match(DEFAULT, DEFAULT.routes[0], {})


def test_router_root_is_its_own_route_and_not_greedy() -> None:
    site = fn("site", "GET /", "GET /{proxy+}")
    router = Router([site])
    assert router.match("GET", "/") == Match(site, Route("GET", "/"), {})
    assert router.match("GET", "/about") == Match(
        site, Route("GET", "/{proxy+}"), {"proxy": "about"}
    )
    assert Router([fn("pages", "GET /{proxy+}")]).match("GET", "/") is None


def test_router_param_takes_one_segment_only() -> None:
    item = fn("item", "GET /items/{item_id}")
    router = Router([item])
    assert router.match("GET", "/items/7") == Match(item, item.routes[0], {"item_id": "7"})
    assert router.match("GET", "/items/7/parts") is None
    assert router.match("GET", "/items/") is None


def test_router_allowed_lists_methods_routed_for_a_path() -> None:
    router = Router([fn("items", "GET /items", "POST /items", "DELETE /items/{item_id}")])
    assert router.allowed("/items") == ["GET", "POST"]
    assert router.allowed("/items/3") == ["DELETE"]
    assert router.allowed("/nothing") == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/missing"), ("POST", "/items"), ("GET", "/items/extra"), ("GET", "/")],
)
def test_router_no_match_is_none(method: str, path: str) -> None:
    assert Router([fn("items", "GET /items")]).match(method, path) is None


def test_router_routes_the_real_table() -> None:
    table = load_table(ROOT / "serverless.yml")
    router = Router(table.http())
    picked = {
        (m, p): (match.function.name, match.route.key, match.params)
        for m, p in [
            ("GET", "/api/v1/health"),
            ("GET", "/api/v1/runs/r-1"),
            ("POST", "/api/v1/runs/r-1/cancel"),
            ("DELETE", "/api/v1/sources/s-1"),
            ("GET", "/"),
            ("GET", "/runs/r-1"),
        ]
        if (match := router.match(m, p)) is not None
    }
    assert picked == {
        ("GET", "/api/v1/health"): ("health", "GET /api/v1/health", {}),
        ("GET", "/api/v1/runs/r-1"): ("runs", "GET /api/v1/runs/{run_id}", {"run_id": "r-1"}),
        ("POST", "/api/v1/runs/r-1/cancel"): (
            "runs",
            "POST /api/v1/runs/{run_id}/cancel",
            {"run_id": "r-1"},
        ),
        ("DELETE", "/api/v1/sources/s-1"): (
            "sources",
            "DELETE /api/v1/sources/{source_id}",
            {"source_id": "s-1"},
        ),
        ("GET", "/"): ("dashboard", "GET /", {}),
        ("GET", "/runs/r-1"): ("dashboard", "GET /{proxy+}", {"proxy": "runs/r-1"}),
    }
    assert router.match("PATCH", "/api/v1/runs/r-1") is None
