"""The dispatch port: send a stage's messages to the next stage's queue."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Dispatcher(Protocol):
    """Delivers message bodies to a stage; Taskiq locally, SQS in the cloud."""

    async def send(self, stage: str, bodies: Sequence[dict[str, Any]]) -> None: ...
