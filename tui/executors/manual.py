"""``manual``: an instruction the operator carries out and confirms (a step, a pre-check or a
verification alike).

The engine asks the operator (or takes ``--yes``) before this runs; running it only puts the
instruction into the step's output and says who confirmed it, so the record shows what was asked
of whom and who answered. Nobody confirmed it: it did not pass.
"""

from __future__ import annotations

from tui.executors.base import ExecContext, Executor, HostOutcome, Outcome, OutputSink
from tui.runbook.model import ManualAction, Step
from tui.runbook.placeholders import RenderError, render_text


class ManualExecutor(Executor):
    def _text(self, action: ManualAction, ctx: ExecContext) -> str:
        return render_text(action.instruction or action.title or action.id, ctx.scope)

    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        assert isinstance(action, ManualAction)
        return [f"manual: {line}" for line in self._text(action, ctx).splitlines() or [""]]

    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        assert isinstance(action, ManualAction)
        try:
            text = self._text(action, ctx)
        except RenderError as exc:
            return Outcome("error", str(exc))
        sink("operator", "info", text.rstrip("\n") + "\n")
        if not ctx.confirmed_by:
            return Outcome("failed", "nobody confirmed it", hosts={"operator": HostOutcome("operator", "failed")})
        return Outcome("ok", f"confirmed by {ctx.confirmed_by}", hosts={"operator": HostOutcome("operator", "ok")})
