"""The in-process broker's turns: at most n at once, freed turns to the stage furthest down
the flow first, then in arrival order; a waiter cancelled as it is served passes its turn on."""

from __future__ import annotations

import asyncio

from shared.dispatch.turns import Turns


async def test_turns_go_to_the_highest_rank_first_then_in_order() -> None:
    turns = Turns(1)
    served: list[str] = []

    async def task(name: str, rank: int, hold: asyncio.Event | None = None) -> None:
        async with turns.turn(rank):
            served.append(name)
            if hold is not None:
                await hold.wait()

    first = asyncio.Event()
    holder = asyncio.create_task(task("holder", 0, first))
    await asyncio.sleep(0)
    waiters = [
        asyncio.create_task(task(name, rank))
        for name, rank in [("a", 0), ("b", 2), ("c", 1), ("d", 2)]
    ]
    await asyncio.sleep(0)
    assert served == ["holder"]  # the others wait: one turn
    first.set()
    await asyncio.gather(holder, *waiters)
    assert served == ["holder", "b", "d", "c", "a"]
    assert turns.free == 1


async def test_turns_a_waiter_cancelled_as_it_is_served_passes_its_turn_on() -> None:
    turns = Turns(1)
    served: list[str] = []

    async def waiter(name: str) -> None:
        async with turns.turn(0):
            served.append(name)

    held = turns.turn(0)
    await held.__aenter__()
    doomed = asyncio.create_task(waiter("doomed"))
    after = asyncio.create_task(waiter("after"))
    await asyncio.sleep(0)  # both wait for the one turn
    await held.__aexit__(None, None, None)  # the turn goes to `doomed`...
    doomed.cancel()  # ...which is cancelled before it runs
    await asyncio.gather(doomed, after, return_exceptions=True)
    assert served == ["after"]
    assert turns.free == 1
