"""Where causes go: the operator reads one line, a maintainer reads the traceback in a log file.

The command line (``tui.cli``) and the console (``tui.app``) are the edges that turn an error into
one line; they call :func:`report`, which writes the traceback with stdlib ``logging`` to
``rbconsole.log`` in the session folder when there is a session, else to the user log dir
(``$RBCONSOLE_HOME/logs`` when that is set), and returns the file to name in the one line.
:func:`configure` sends what the rest of the code logs (``logging.getLogger(__name__)``, warnings
and up) to the same default file; nothing is written to the terminal.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

LOG_NAME = "rbconsole.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s pid=%(process)d: %(message)s"
# The packages whose loggers are rbconsole's (the folders the design card fixes).
PACKAGES = ("tui", "screens")


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
    handler.setFormatter(logging.Formatter(FORMAT))
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
