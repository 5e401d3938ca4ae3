"""How a variant's ratio is written: the median of the repetitions, with their range beside
it when `quarry bench all` measured it more than once."""

from __future__ import annotations

from typing import Protocol


class Ratioed(Protocol):
    @property
    def ratio(self) -> float: ...

    @property
    def ratio_min(self) -> float | None: ...

    @property
    def ratio_max(self) -> float | None: ...


def ratio_cell(v: Ratioed, digits: int = 2) -> str:
    """`0.52 (0.48–0.55)` for a ratio over repetitions; `0.52` for one measurement."""
    shown = f"{v.ratio:.{digits}f}"
    if v.ratio_min is None or v.ratio_max is None:
        return shown
    return f"{shown} ({v.ratio_min:.{digits}f}–{v.ratio_max:.{digits}f})"
