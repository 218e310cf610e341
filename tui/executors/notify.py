"""``notify``: render a notification template and, when a webhook is given, POST it there.

The body is ``{"text": message}`` (what Slack-compatible incoming webhooks accept). A webhook
address read from the environment is never printed: it often carries a token.
"""

from __future__ import annotations

import os
import time

from tui.executors.base import ExecContext, Executor, Outcome, OutputSink
from tui.runbook.model import NotifyAction, Step
from tui.runbook.placeholders import RenderError, render_text, render_url

TIMEOUT = 10.0


class NotifyExecutor(Executor):
    kind = "notify"

    def _message(self, action: NotifyAction, ctx: ExecContext) -> str:
        if action.template is not None:
            template = ctx.runbook.template(action.template)
            if template is None:
                raise RenderError(f"template {action.template!r} is not defined")
            return render_text(template.body, ctx.scope)
        return render_text(action.message or "", ctx.scope)

    def _webhook(self, action: NotifyAction, ctx: ExecContext) -> tuple[str | None, str]:
        """The URL to post to and how to show it."""
        if action.webhook_env is not None:
            url = os.environ.get(action.webhook_env)
            if not url:
                raise RenderError(f"environment variable {action.webhook_env} (the webhook) is not set")
            return url, f"${action.webhook_env}"
        if action.webhook is not None:
            url = render_url(action.webhook, ctx.scope)
            return url, url
        return None, ""

    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        assert isinstance(action, NotifyAction)
        lines = [f"message: {line}" for line in self._message(action, ctx).splitlines() or [""]]
        if action.webhook_env is not None:
            lines.append(f"POST ${action.webhook_env}")
        elif action.webhook is not None:
            lines.append(f"POST {self._webhook(action, ctx)[1]}")
        return lines

    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        assert isinstance(action, NotifyAction)
        clock = time.monotonic()
        try:
            message = self._message(action, ctx)
            url, shown = self._webhook(action, ctx)
        except RenderError as exc:
            return Outcome("error", str(exc))
        sink("notify", "info", message.rstrip("\n") + "\n")
        if url is None:
            return Outcome("ok", "message rendered (no webhook)", duration=time.monotonic() - clock)
        import httpx

        try:
            async with httpx.AsyncClient(timeout=action.timeout or TIMEOUT) as client:
                response = await client.post(url, json={"text": message})
        except httpx.HTTPError as exc:
            return Outcome("failed", f"POST {shown}: {type(exc).__name__}: {exc}", duration=time.monotonic() - clock)
        summary = f"POST {shown} -> HTTP {response.status_code}"
        sink("notify", "info", summary + "\n")
        status = "ok" if response.is_success else "failed"
        return Outcome(status, summary, duration=time.monotonic() - clock, summary=summary)
