"""The pipeline's flow, declared once: its stages in order, what each takes and sends on, and
the stage that runs once when a run becomes final. Everything else reads it.

A run enters at the first stage, which works per run and hands each of the run's documents
to the next stage; every later stage of the chain works per document and hands it on to the
one after. A document is final in a run where its path ends: a stage failed or skipped it,
or it succeeded in a stage that sends nothing on. When every document the run covers is
final, the run is (exactly once), and the `on_final` stage gets one message for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from shared.messages import AnalyseDocument, DiscoverSource, ExtractDocument, Message, RollupSource

Per = Literal["run", "document"]


@dataclass(frozen=True)
class Stage:
    """One stage: its name (its function's and queue's in serverless.yml), the message it
    takes, and whether a message is about a whole run or one document of it."""

    name: str
    message: type[Message]
    per: Per = "document"


@dataclass(frozen=True)
class Flow:
    """The chain of stages a run's documents go through, and the stage run once at the end."""

    chain: tuple[Stage, ...]
    on_final: Stage | None = None
    _by_name: Mapping[str, Stage] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        stages = (*self.chain, *([self.on_final] if self.on_final else []))
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"a stage appears twice in the flow: {names}")
        if not self.chain or self.chain[0].per != "run":
            raise ValueError("the flow's first stage works per run: it takes the run's source")
        for stage in self.chain[1:]:
            if stage.per != "document" or "document_id" not in stage.message.model_fields:
                raise ValueError(
                    f"stage {stage.name!r} follows the first stage, so it works per document "
                    f"and its message ({stage.message.__name__}) carries a document_id"
                )
        if self.on_final is not None and self.on_final.per != "run":
            raise ValueError(f"the on_final stage {self.on_final.name!r} works per run")
        object.__setattr__(self, "_by_name", {s.name: s for s in stages})

    @property
    def stages(self) -> tuple[Stage, ...]:
        """Every stage, in order: the chain, then the on_final stage."""
        return tuple(self._by_name.values())

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    @property
    def first(self) -> Stage:
        """Where every run enters."""
        return self.chain[0]

    @property
    def document_stages(self) -> tuple[Stage, ...]:
        return self.chain[1:]

    def find(self, name: str) -> Stage | None:
        return self._by_name.get(name)

    def stage(self, name: str) -> Stage:
        found = self._by_name.get(name)
        if found is None:
            raise KeyError(f"{name!r} is not a stage of the flow ({', '.join(self.names)})")
        return found

    def next(self, name: str) -> Stage | None:
        """The stage `name` hands its documents on to (None at the chain's end)."""
        names = [s.name for s in self.chain]
        if name not in names:
            return None
        at = names.index(name) + 1
        return self.chain[at] if at < len(self.chain) else None

    def previous(self, name: str) -> Stage | None:
        names = [s.name for s in self.chain]
        at = names.index(name) if name in names else 0
        return self.chain[at - 1] if at > 0 else None

    def finishes_runs(self, name: str) -> bool:
        """Whether a message of this stage can be the one that makes a run final: the first
        stage (a run with no documents, or none left) and every document stage can."""
        return any(s.name == name for s in self.chain)

    def sends(self, name: str) -> frozenset[str]:
        """The stages a function of stage `name` sends messages to: the next stage, and the
        on_final stage when it can finish a run (its message is written with the run's final
        state, in the same transaction)."""
        out = {n.name for n in [self.next(name)] if n is not None}
        if self.on_final is not None and self.finishes_runs(name):
            out.add(self.on_final.name)
        return frozenset(out)

    def expected(
        self, discovered: int | None, counts: Mapping[str, Mapping[str, int]]
    ) -> dict[str, int]:
        """Documents each stage of the chain will have handled when the run ends, as far as
        is known now: all of them in the first two stages; in later ones those the stage
        before has not failed or skipped (yet). `counts` is results per stage and status."""
        if discovered is None:
            return {}
        out: dict[str, int] = {}
        reaching = discovered
        for stage in self.chain:
            out[stage.name] = reaching
            if stage.per == "document":
                done = counts.get(stage.name, {})
                reaching -= int(done.get("failed", 0)) + int(done.get("skipped", 0))
        return out

    def waiting(
        self, discovered: int | None, counts: Mapping[str, Mapping[str, int]]
    ) -> dict[str, int]:
        """Documents already handed to each document stage and not yet handled there."""
        if discovered is None:
            return {}
        out: dict[str, int] = {}
        for stage in self.document_stages:
            before = self.previous(stage.name)
            assert before is not None
            done = counts.get(stage.name, {})
            sent = (
                discovered
                if before.per == "run"
                else int(counts.get(before.name, {}).get("succeeded", 0))
            )
            out[stage.name] = max(sent - sum(int(n) for n in done.values()), 0)
        return out


FLOW = Flow(
    chain=(
        Stage("discovery", DiscoverSource, per="run"),
        Stage("extraction", ExtractDocument),
        Stage("intelligence", AnalyseDocument),
    ),
    on_final=Stage("analytics", RollupSource, per="run"),
)
