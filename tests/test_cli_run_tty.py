"""``rbconsole run`` on a real terminal (a pty): a destructive step asks for its target typed
back, and Ctrl-C at that prompt aborts cleanly instead of hanging on the unread line."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(__file__).parent / "data"
LONG = DATA / "engine_long.toml"


class Terminal:
    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", *args], stdin=slave, stdout=slave, stderr=slave, start_new_session=True
        )
        os.close(slave)
        self.seen = b""

    def expect(self, text: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while text.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not seen; got {self.seen.decode(errors='replace')[-2000:]}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the child closed the terminal
                    break
        assert text.encode() in self.seen, self.seen.decode(errors="replace")

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, seconds: float = 60) -> int:
        code = self.process.wait(seconds)
        os.close(self.master)
        return code


def test_destructive_step_needs_its_name_typed(rbconsole_home: Path, tmp_path: Path) -> None:
    (tmp_path / "flag").touch()  # the long step finishes at once
    term = Terminal("run", str(LONG), "--plan", "A", "--var", f"dir={tmp_path}")
    term.expect("type 'long' to run it")
    term.type("long\n")
    term.expect("== result: SUCCESS")
    assert term.finish() == 0
    assert (tmp_path / "last").exists()


def test_wrong_answer_stops_before_the_step(rbconsole_home: Path, tmp_path: Path) -> None:
    term = Terminal("run", str(LONG), "--plan", "A", "--var", f"dir={tmp_path}")
    term.expect("type 'long' to run it")
    term.type("yes\n")  # not the step's name
    term.expect("step long was not confirmed")
    assert term.finish() == 1
    assert not (tmp_path / "flag").exists()


def test_ctrl_c_at_the_prompt_aborts_without_hanging(rbconsole_home: Path, tmp_path: Path) -> None:
    term = Terminal("run", str(LONG), "--plan", "A", "--var", f"dir={tmp_path}")
    term.expect("type 'long' to run it")
    term.process.send_signal(signal.SIGINT)
    term.expect("== result: ABORTED")
    assert term.finish(30) == 1
    assert not (tmp_path / "flag").exists()
