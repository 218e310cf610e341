"""``notify``: render a message and deliver it, or hand it to the operator to send.

With a webhook, the body is the platform's own (``format``: json, slack, dingtalk, wecom,
feishu), signed where the platform signs (DingTalk, Feishu: timestamp + HMAC-SHA256 as each
documents), and the step is ok only when the receiver says it accepted the message: Slack's
``ok``, DingTalk's and WeCom's ``errcode == 0``, Feishu's ``code == 0``, any 2xx for json.
A platform that answers HTTP 200 with an error fails the step with the platform's words.

A webhook URL carries its token in the path or query, so it is a secret in all but name: only
its scheme and host are ever shown, and the full text is masked in everything this step says.

Without a webhook nothing can be sent from here: the text is printed, and the step is
"not_sent" (printed, not sent) unless the operator confirmed they sent it themselves.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import ssl
import time
from typing import Any
from urllib.parse import quote_plus, urlsplit

from tui.executors import tls
from tui.executors.base import ExecContext, Outcome, OutputSink
from tui.executors.text import printable
from tui.runbook.model import NotifyAction, Step
from tui.runbook.placeholders import PLACEHOLDER, RenderError, render_text, render_url

TIMEOUT = 10.0
KEEP_BYTES = 64 * 1024
MASK = "••••••"


def shown_url(url: str) -> str:
    """Where a webhook goes, without the token: ``https://oapi.dingtalk.com/••••••``."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/{MASK}"


def body_for(fmt: str, message: str, title: str, markdown: bool) -> dict[str, Any]:
    """The message as the platform's documented webhook body."""
    if fmt == "slack":
        return {"text": message, "mrkdwn": markdown}
    if fmt == "dingtalk":
        if markdown:
            return {"msgtype": "markdown", "markdown": {"title": title, "text": message}}
        return {"msgtype": "text", "text": {"content": message}}
    if fmt == "wecom":
        if markdown:
            return {"msgtype": "markdown", "markdown": {"content": message}}
        return {"msgtype": "text", "text": {"content": message}}
    if fmt == "feishu":
        if markdown:
            return {
                "msg_type": "interactive",
                "card": {
                    "header": {"title": {"tag": "plain_text", "content": title}},
                    "elements": [{"tag": "markdown", "content": message}],
                },
            }
        return {"msg_type": "text", "content": {"text": message}}
    return {"text": message}


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: base64(HMAC-SHA256(key=secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu: base64(HMAC-SHA256(key="timestamp\\nsecret", empty message))."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed(fmt: str, url: str, body: dict[str, Any], secret: str, now: float) -> tuple[str, dict[str, Any]]:
    if fmt == "dingtalk":
        stamp = int(now * 1000)
        joiner = "&" if urlsplit(url).query else "?"
        return f"{url}{joiner}timestamp={stamp}&sign={dingtalk_sign(secret, stamp)}", body
    stamp = int(now)
    return url, {"timestamp": str(stamp), "sign": feishu_sign(secret, stamp), **body}


def accepted(fmt: str, status: int, raw: bytes) -> str | None:
    """None when the receiver accepted the message; else its reason, in its own words."""
    text = raw.decode("utf-8", "replace").strip()
    try:
        answer: Any = json.loads(text) if text else None
    except ValueError:
        answer = None
    head = " ".join(text.split())[:300]
    if fmt == "slack":
        # Incoming webhooks answer "ok" as plain text; the Web API answers {"ok": true}.
        if 200 <= status < 300 and (text == "ok" or (isinstance(answer, dict) and answer.get("ok") is True)):
            return None
        if isinstance(answer, dict) and answer.get("error"):
            return f"HTTP {status}, Slack error: {answer['error']}"
        return f"HTTP {status}, Slack answered {head or '(nothing)'!r}"
    if fmt in ("dingtalk", "wecom", "feishu"):
        name = {"dingtalk": "DingTalk", "wecom": "WeCom", "feishu": "Feishu"}[fmt]
        if not isinstance(answer, dict):
            return f"HTTP {status}, {name} answered {head or '(nothing)'!r}, not its JSON answer"
        key, words = ("errcode", "errmsg") if fmt != "feishu" else ("code", "msg")
        code = answer.get(key, answer.get("StatusCode") if fmt == "feishu" else None)
        reason = answer.get(words, answer.get("StatusMessage", "")) if fmt == "feishu" else answer.get(words, "")
        if code == 0 and 200 <= status < 300:
            return None
        if code is None:
            return f"HTTP {status}, {name} answered without {key!r}: {head}"
        return f"HTTP {status}, {name} {key} {code}: {reason}"
    return None if 200 <= status < 300 else f"HTTP {status}: {head or '(no body)'}"


class NotifyExecutor(tls.WithHttpClients):
    def message(self, action: NotifyAction, ctx: ExecContext) -> str:
        if action.template is not None:
            template = ctx.runbook.template(action.template)
            if template is None:
                raise RenderError(f"template {action.template!r} is not defined")
            return render_text(template.body, ctx.scope)
        return render_text(action.message or "", ctx.scope)

    def _title(self, action: NotifyAction, ctx: ExecContext) -> str:
        template = ctx.runbook.template(action.template) if action.template else None
        return render_text((template.title if template else "") or action.title or action.id, ctx.scope)

    def _webhook(self, action: NotifyAction, ctx: ExecContext) -> tuple[str | None, str]:
        """The URL to post to and how to show it."""
        if action.webhook_env is not None:
            url = os.environ.get(action.webhook_env)
            if not url:
                raise RenderError(f"environment variable {action.webhook_env} (the webhook) is not set")
        elif action.webhook is not None:
            whole = PLACEHOLDER.fullmatch(action.webhook.strip())
            if whole:
                # A webhook that is one value (a secret, a profile's var) is that URL, token and all.
                url = render_text(action.webhook.strip(), ctx.scope)
                if any(ch.isspace() for ch in url):
                    raise RenderError("the webhook URL contains whitespace")
            else:
                url = render_url(action.webhook, ctx.scope)
        else:
            return None, ""
        if not url.lower().startswith(("http://", "https://")):
            raise RenderError("the webhook is not an http:// or https:// URL")
        shown = shown_url(url)
        return url, f"${action.webhook_env} ({shown})" if action.webhook_env else shown

    def describe(self, action: Step, ctx: ExecContext) -> list[str]:
        assert isinstance(action, NotifyAction)
        lines = [f"message: {line}" for line in self.message(action, ctx).splitlines() or [""]]
        if action.webhook_env is not None:
            lines.append(f"POST ${action.webhook_env} as {action.format}")
        elif action.webhook is not None:
            try:
                lines.append(f"POST {self._webhook(action, ctx)[1]} as {action.format}")
            except RenderError as exc:
                lines.append(f"POST (cannot resolve the webhook: {exc})")
        else:
            lines.append("no webhook: printed for the operator to send")
        if action.sign_secret:
            lines.append(f"signed with secret {action.sign_secret!r}")
        if not action.verify_tls and (action.webhook or action.webhook_env):
            lines.append(tls.UNVERIFIED)
        return lines

    async def run(self, action: Step, ctx: ExecContext, sink: OutputSink) -> Outcome:
        assert isinstance(action, NotifyAction)
        clock = time.monotonic()
        if ctx.dry_run:
            return Outcome("skipped", detail="dry run: nothing sent")
        try:
            message = self.message(action, ctx)
            url, shown = self._webhook(action, ctx)
        except RenderError as exc:
            return Outcome("error", ctx.redact(str(exc)))
        sink("notify", "info", message.rstrip("\n") + "\n")
        if url is None:
            if ctx.confirmed_by:
                return Outcome("ok", f"sent by {ctx.confirmed_by} (no webhook)", duration=time.monotonic() - clock)
            return Outcome(
                "not_sent", "no webhook: the text above is for the operator to send", duration=time.monotonic() - clock
            )

        def hide(text: str) -> str:
            # The URL (or any long piece of it) may come back in an error message.
            for piece in (url, urlsplit(url).path, urlsplit(url).query):
                if len(piece) > 6:
                    text = text.replace(piece, MASK)
            return printable(ctx.redact(text))

        body = body_for(action.format, message, self._title(action, ctx), action.markdown)
        if action.sign_secret is not None:
            secret = ctx.scope.get(action.sign_secret)
            if secret is None or not secret.text:
                return Outcome("error", f"secret {action.sign_secret!r} (the signing secret) has no value")
            url, body = signed(action.format, url, body, secret.text, time.time())
        import httpx

        timeout = action.timeout or TIMEOUT
        try:
            status, raw = await self._post(url, body, action.verify_tls, timeout)
        except (httpx.TimeoutException, TimeoutError):
            return Outcome("timeout", f"POST {shown}: no answer within {timeout:g}s", duration=time.monotonic() - clock)
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            from tui.executors.http import request_error

            why = hide(request_error(exc, ctx))
            return Outcome("failed", f"POST {shown}: {why}", duration=time.monotonic() - clock)
        refused = accepted(action.format, status, raw)
        summary = f"POST {shown} as {action.format} -> HTTP {status}" + (", accepted" if refused is None else "")
        sink("notify", "info", hide(summary) + "\n")
        if refused is not None:
            return Outcome(
                "failed", hide(f"POST {shown}: {refused}"), duration=time.monotonic() - clock, summary=summary
            )
        return Outcome("ok", summary, duration=time.monotonic() - clock, summary=summary)

    async def _post(self, url: str, body: dict[str, Any], verify: bool, timeout: float) -> tuple[int, bytes]:
        kept = bytearray()
        async with asyncio.timeout(timeout):
            async with self._clients.get(verify).stream("POST", url, json=body, timeout=timeout) as response:
                async for chunk in response.aiter_bytes():
                    if len(kept) < KEEP_BYTES:
                        kept += chunk[: KEEP_BYTES - len(kept)]
        return response.status_code, bytes(kept)
