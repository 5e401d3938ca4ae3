"""The price table (prices.toml, USD per 1M tokens) and the cost of one call."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("prices.toml")
PER = 1_000_000


@dataclass(frozen=True)
class Price:
    """USD per 1M input and output tokens; `known` is False for a model not in the table."""

    input: float
    output: float
    known: bool = True

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / PER


UNKNOWN = Price(0.0, 0.0, known=False)


def parse(table: Mapping[str, object]) -> dict[tuple[str, str], Price]:
    """`{provider: {model: {input, output}}}` as prices keyed by (provider, model)."""
    out: dict[tuple[str, str], Price] = {}
    for provider, models in table.items():
        if not isinstance(models, Mapping):
            raise ValueError(f"prices: `{provider}` must be a table of models")
        for model, row in models.items():
            if not isinstance(row, Mapping):
                raise ValueError(f"prices: `{provider}.{model}` must have input and output")
            out[(provider, str(model))] = Price(float(row["input"]), float(row["output"]))
    return out


@cache
def _table() -> dict[tuple[str, str], Price]:
    return parse(tomllib.loads(TABLE.read_text()))


def price(provider: str, model: str) -> Price:
    """The price of `model` at `provider`; UNKNOWN (costs 0, says so) when not in the table."""
    table = _table()
    exact = table.get((provider, model))
    if exact is not None:
        return exact
    # A dated snapshot ("gpt-4o-mini-2024-07-18") costs what its model does.
    stems = [m for p, m in table if p == provider and model.startswith(m + "-")]
    if stems:
        return table[(provider, max(stems, key=len))]
    return table.get((provider, "*")) or UNKNOWN
