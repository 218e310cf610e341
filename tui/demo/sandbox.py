"""Create, start, stop and remove the demo sandbox.

Layout of a sandbox directory::

    .rbconsole-demo          marker: only a directory carrying it is ever reset or removed
    repo/                    the deploy: a git repository, tags v1 and v2, checked out at v2
    shared/settings.json     the live settings (v2 turned the new checkout flow on)
    backups/settings-v1.json the settings backed up before the v2 deploy
    run/demo.pid, demo.log   the running service
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MARKER = ".rbconsole-demo"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0

RELEASES = {
    "v1": ({"version": "v1", "error_rate": 0.002}, {"new_checkout": False}),
    "v2": ({"version": "v2", "error_rate": 0.12}, {"new_checkout": True}),
}


class SandboxError(Exception):
    """Something the operator can act on, said in one line."""


class _Below:
    """A place in the sandbox's layout (the module docstring's): these parts below its root."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, box: Sandbox, owner: type[Sandbox] | None = None) -> Path:
        return box.root.joinpath(*self.parts)


@dataclass(frozen=True)
class Sandbox:
    root: Path

    marker = _Below(MARKER)
    repo = _Below("repo")
    app_file = _Below("repo", "app.json")
    settings_file = _Below("shared", "settings.json")
    backup_file = _Below("backups", "settings-v1.json")
    pid_file = _Below("run", "demo.pid")
    log_file = _Below("run", "demo.log")

    @property
    def is_sandbox(self) -> bool:
        return self.marker.is_file()


def _git(repo: Path, *args: str) -> None:
    # Pinned identity and no user/system config: setup must work on a machine where git was never configured.
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    ident = ["-c", "user.name=rbconsole demo", "-c", "user.email=demo@rbconsole.invalid", "-c", "commit.gpgsign=false"]
    done = subprocess.run(["git", *ident, *args], cwd=repo, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SandboxError(f"git {args[0]} failed in {repo}: {done.stderr.strip() or done.stdout.strip()}")


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def setup(root: Path) -> Sandbox:
    """A fresh sandbox deployed at v2 (a stopped sandbox left at ``root`` is replaced)."""
    box = Sandbox(root.expanduser().absolute())
    if box.root.exists():
        if not box.is_sandbox and any(box.root.iterdir()):
            raise SandboxError(f"{box.root} exists and is not a demo sandbox; choose another with --var sandbox=DIR")
        pid = running_pid(box)
        if pid is not None:
            # Another drill may be using it: never pull a sandbox from under a running service.
            raise SandboxError(
                f"{box.root} is in use (demo-web pid {pid} runs from it); choose another with --var sandbox=DIR"
                f" or remove it with: python -m tui.demo teardown {box.root}"
            )
        teardown(box.root)
    if shutil.which("git") is None:
        raise SandboxError("the demo needs git on PATH")
    box.repo.mkdir(parents=True)
    box.marker.write_text("created by rbconsole's demo; removed by its teardown\n", encoding="utf-8")
    _git(box.repo, "init", "-q", "-b", "main")
    for tag, (app, settings) in RELEASES.items():
        _write_json(box.app_file, app)
        _git(box.repo, "add", "app.json")
        _git(box.repo, "commit", "-q", "-m", f"demo-web {tag}")
        _git(box.repo, "tag", "-a", tag, "-m", f"release {tag}")
        if tag == "v1":
            _write_json(box.backup_file, settings)
        _write_json(box.settings_file, settings)
    box.pid_file.parent.mkdir(parents=True, exist_ok=True)
    return box


def running_pid(box: Sandbox) -> int | None:
    """The pid of this sandbox's service if it runs (a stale or recycled pid counts as not running)."""
    try:
        pid = int(box.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _is_our_service(pid, box) else None


def _is_our_service(pid: int, box: Sandbox) -> bool:
    proc = Path("/proc") / str(pid)
    if not proc.parent.is_dir():  # no procfs (macOS): a signal 0 is the best we can ask
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    try:
        cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    # A zombie has exited already; where pid 1 does not reap, it would otherwise look alive forever.
    return state != "Z" and b"tui.demo" in cmdline and str(box.root).encode() in cmdline


def start(root: Path, port: int) -> int:
    """Start the service detached (its own session, no inherited output pipes); its pid once it listens."""
    box = Sandbox(root.expanduser().absolute())
    if not box.is_sandbox:
        raise SandboxError(f"{box.root} is not a demo sandbox (run the drill's setup first)")
    pid = running_pid(box)
    if pid is not None:
        raise SandboxError(f"demo-web already runs from {box.root} (pid {pid})")
    read_end, write_end = os.pipe()
    try:
        with open(box.log_file, "ab") as log:
            child = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tui.demo",
                    "serve",
                    str(box.root),
                    "--port",
                    str(port),
                    "--ready-fd",
                    str(write_end),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(write_end,),
                start_new_session=True,
                cwd=box.root,
            )
        os.close(write_end)
        write_end = -1
        answer = _read_line(read_end, START_TIMEOUT)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
    if answer != "ready":
        if child.poll() is None:
            child.kill()
        child.wait(timeout=STOP_TIMEOUT)
        raise SandboxError(answer.removeprefix("error: ") or f"demo-web did not start within {START_TIMEOUT:.0f}s")
    box.pid_file.write_text(f"{child.pid}\n")
    return child.pid


def _read_line(fd: int, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return ""
        chunk = os.read(fd, 256)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace").strip()


def stop(root: Path) -> int | None:
    """Stop the service (TERM, then KILL); the pid it had, or None when it was not running."""
    box = Sandbox(root.expanduser().absolute())
    pid = running_pid(box)
    if pid is not None:
        _signal(pid, signal.SIGTERM)
        if not _gone(pid, STOP_TIMEOUT):
            _signal(pid, signal.SIGKILL)
            if not _gone(pid, STOP_TIMEOUT):
                raise SandboxError(f"demo-web (pid {pid}) did not stop")
    box.pid_file.unlink(missing_ok=True)
    return pid


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _gone(pid: int, timeout: float) -> bool:
    # The service is not our child (its starter exited), so there is nothing to wait() on: poll its state.
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _alive(pid: int) -> bool:
    """Not yet exited. Identity checks cannot tell: while a process exits its cmdline empties, and its
    main thread shows as a zombie while other threads still hold its sockets open. Every thread's state can."""
    tasks = Path("/proc") / str(pid) / "task"
    if not tasks.parent.parent.is_dir():  # no procfs (macOS)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:
        threads = list(tasks.iterdir())
    except OSError:
        return False
    for thread in threads:
        try:
            state = (thread / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue  # this thread is gone
        if state not in ("Z", "X"):
            return True
    return False


def teardown(root: Path) -> bool:
    """Stop the service and remove the sandbox; False when there was nothing to remove."""
    box = Sandbox(root.expanduser().absolute())
    if not box.root.exists():
        return False
    if not box.is_sandbox:
        raise SandboxError(f"refusing to remove {box.root}: it is not a demo sandbox (no {MARKER})")
    stop(box.root)
    shutil.rmtree(box.root)
    return True


def deployed_version(root: Path) -> str:
    box = Sandbox(root.expanduser().absolute())
    return str(json.loads(box.app_file.read_text(encoding="utf-8"))["version"])
