"""Where causes go: the operator reads one line, a maintainer reads the traceback in a log file.

The command line (``tui.cli``) and the console (``tui.app``) are the edges that turn an error into
one line; they call :func:`report`, which writes the traceback with stdlib ``logging`` to
``rbconsole.log`` in the session folder when there is a session, else to the user log dir
(``$RBCONSOLE_HOME/logs`` when that is set), and returns the file to name in the one line.
:func:`configure` sends what the rest of the code logs (``logging.getLogger(__name__)``, warnings
and up) to the same default file; nothing is written to the terminal.

A traceback quotes whatever the failing code held: a DSN with its password, a webhook URL with
its token, a header, a secret value. Every line written goes through :func:`masked` first: the
masks registered with :func:`mask` (every session's redaction registers itself, see
``tui.engine.redact``; the edges add the secrets knowable before a session exists), then the
shapes that are secret whatever they hold (a URL's password, a conninfo ``password=``, a bearer
token, a token in a query string).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path

LOG_NAME = "rbconsole.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s pid=%(process)d: %(message)s"
# The packages whose loggers are rbconsole's (the folders the design card fixes).
PACKAGES = ("tui", "screens")
MASK = "••••••"  # as tui.engine.redact masks (this layer sits below it)

Mask = Callable[[str], str]
_masks: list[Mask] = []

# Secret by their place, whatever the runbook declares: the password of a URL
# (postgresql://user:PASSWORD@host), of a libpq conninfo (password=PASSWORD or password='...'),
# an Authorization scheme's credentials, and a token-like query parameter of a webhook URL.
_SHAPES = (
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/]+(@)"),
    re.compile(r"(?i)(\bpassword\s*=\s*)(?:'(?:\\.|[^'\\])*'|\S+)()"),
    re.compile(r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]{6,}()"),
    re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?)[^\"'\r\n]+()"),
    re.compile(r"(?i)([?&](?:access_token|token|key|api_key|apikey|secret|sign|signature|password|sig)=)[^&\s#'\"]+()"),
)


def mask(redact: Mask) -> None:
    """Mask what ``redact`` masks in every line this process logs (once per callable)."""
    if not any(known is redact for known in _masks):
        _masks.append(redact)


def unmask(redact: Mask) -> None:
    """Stop masking with ``redact`` (a console that closes; what it masked stays masked in what was written)."""
    _masks[:] = [known for known in _masks if known is not redact]


def masked(text: str) -> str:
    """``text`` as the log file may hold it: every registered mask, then the secret shapes."""
    for redact in list(_masks):
        text = redact(text)
    for shape in _SHAPES:
        text = shape.sub(lambda m: m.group(1) + MASK + m.group(2), text)
    return text


class LazyMask:
    """A mask made when something is first logged (a command that logs nothing reads no secret for
    it), and made again when ``key()`` says the thing it masks for changed (another runbook)."""

    def __init__(self, make: Callable[[], Mask | None], key: Callable[[], object] = lambda: None) -> None:
        self._make = make
        self._key = key
        self._made: tuple[object, Mask | None] | None = None
        self._lock = threading.Lock()
        self._making: int | None = None  # the thread making it: what it logs meanwhile passes as is

    def __call__(self, text: str) -> str:
        if self._making == threading.get_ident():
            return text
        with self._lock:
            key = self._key()
            if self._made is None or self._made[0] is not key:
                self._making = threading.get_ident()
                try:
                    self._made = (key, self._make())
                except Exception:  # a cause is being logged: a mask that cannot be made must not hide it
                    self._made = (key, None)
                finally:
                    self._making = None
            made = self._made[1]
        return made(text) if made is not None else text


class _Masking(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # The whole entry, the message, its traceback and the causes chained to it included.
        return masked(super().format(record))


def log_dir() -> Path:
    override = os.environ.get("RBCONSOLE_HOME")
    if override:
        return Path(override).expanduser() / "logs"
    from platformdirs import user_log_path

    return user_log_path("rbconsole", appauthor=False)


def default_log() -> Path:
    return log_dir() / LOG_NAME


def _handler(path: Path) -> logging.Handler:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)  # no file until something is logged
    handler.setFormatter(_Masking(FORMAT))
    handler.setLevel(logging.WARNING)
    return handler


def configure() -> Path:
    """Send rbconsole's own warnings and errors to the default log file, not the terminal."""
    path = default_log()
    for name in PACKAGES:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "rbconsole", False)]:
            logger.removeHandler(old)
            old.close()
        try:
            handler = _handler(path)
        except OSError:
            continue  # an unwritable log dir must not stop a rollback
        handler.rbconsole = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        # Propagation stays on: with a handler here Python's last-resort stderr handler never fires,
        # and nothing in rbconsole configures the root logger.
    return path


def report(what: str, exc: BaseException, session_dir: Path | None = None) -> Path:
    """Log ``exc`` with its traceback under ``what``; return the file it went to."""
    path = session_dir / LOG_NAME if session_dir is not None and session_dir.is_dir() else default_log()
    logger = logging.getLogger("tui.edge")
    logger.propagate = False  # once, in the file named to the operator
    try:
        handler = _handler(path)
    except OSError:
        path = default_log()
        handler = _handler(path)
    logger.addHandler(handler)
    try:
        logger.error("%s: %s: %s", what, type(exc).__name__, exc, exc_info=exc)
    finally:
        logger.removeHandler(handler)
        handler.close()
    return path
