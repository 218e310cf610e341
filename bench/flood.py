"""The flood the streaming benches send through the engine: one step printing ``seq 1 N``.

Its runbook has a secret, so redaction is part of what is measured; :func:`through_engine`
times the plan as the console runs it (redaction, journal, output file) with a subscriber
counting every line a screen or the headless printer would get.
"""

from __future__ import annotations

import time
from pathlib import Path

TOKEN_ENV = "BENCH_TOKEN"
TOKEN = "s3cr3t-token"


def flood_runbook(lines: int, where: str = 'kind = "local"', head: str = "") -> str:
    """Plan A, one step ``flood`` printing ``seq 1 LINES``; ``where`` is its kind (and host),
    ``head`` the tables it needs before the plan (ssh settings, hosts)."""
    return f"""schema = 1
id = "bench-stream"
title = "bench stream"
service = "bench"
{head}
[secrets.token]
env = "{TOKEN_ENV}"

[plans.A]
title = "flood"
[[plans.A.steps]]
id = "flood"
title = "seq 1 {lines}"
{where}
run = "seq 1 {lines}"
timeout = "10m"
"""


async def through_engine(path: Path) -> tuple[float, int]:
    """Seconds the plan of the runbook at ``path`` took in a session, and the output lines its subscriber got."""
    from tui.engine import events
    from tui.engine.session import Session, StartOptions
    from tui.runbook.loader import load_or_raise

    counted = 0

    def count(event: events.Event) -> None:
        nonlocal counted
        if event.type == events.OUTPUT:
            counted += event.data["text"].count("\n")

    options = StartOptions(operator="bench", reason="bench", yes=True, plan="A")
    session = Session.start(load_or_raise(path), str(path), options)
    session.subscribe(count)
    await session.choose_plan("A")
    start = time.perf_counter()
    passed = await session.run_plan()
    elapsed = time.perf_counter() - start
    await session.end()
    await session.close()
    assert passed, "the flood plan did not pass"
    return elapsed, counted
