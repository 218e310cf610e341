"""The one trust store every HTTPS request uses (http checks, prometheus, notify webhooks).

The system store (and ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), as curl on the bastion would use,
rather than a bundled CA list that knows nothing of an internal CA: a webhook behind the same
internal CA as the health checks must pass or fail with them.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tui.executors.base import ExecContext, Executor
from tui.runbook.placeholders import Scope, is_secret, render_header

if TYPE_CHECKING:
    import httpx


UNVERIFIED = "  TLS certificate NOT verified (verify_tls = false)"


def headers_for(headers: Mapping[str, str], scope: Scope) -> tuple[dict[str, str], set[str]]:
    """A request's headers with their values filled in (refused if one cannot arrive as it is),
    and the names of those built from a secret. Raises RenderError."""
    rendered = {name: render_header(value, scope, name) for name, value in headers.items()}
    return rendered, {name for name, value in headers.items() if is_secret(value, scope)}


def header_lines(headers: Mapping[str, str], secret: set[str], ctx: ExecContext) -> list[str]:
    """The headers as a request's description shows them: a secret one masked whole."""
    return [f"  {name}: {'••••••' if name in secret else ctx.redact(value)}" for name, value in headers.items()]


def trust(verify: bool) -> ssl.SSLContext | bool:
    return ssl.create_default_context() if verify else False


def client(verify: bool) -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient(verify=trust(verify), follow_redirects=False, trust_env=True)


class Clients:
    """One client per trust setting, kept for the session: connections are reused across steps."""

    def __init__(self) -> None:
        self._by_verify: dict[bool, httpx.AsyncClient] = {}

    def get(self, verify: bool) -> httpx.AsyncClient:
        if verify not in self._by_verify:
            self._by_verify[verify] = client(verify)
        return self._by_verify[verify]

    async def close(self) -> None:
        clients, self._by_verify = list(self._by_verify.values()), {}
        for each in clients:
            await each.aclose()


class WithHttpClients(Executor):
    """An executor that speaks HTTP(S): its clients are kept for the session, closed at its end."""

    def __init__(self) -> None:
        self._clients = Clients()

    async def close(self) -> None:
        await self._clients.close()
