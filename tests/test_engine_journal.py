"""The journal, the lock, the store and redaction: the parts that make a session crash-safe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui.engine.events import Event
from tui.engine.journal import JOURNAL_NAME, Journal, read_events
from tui.engine.lock import SessionLock
from tui.engine.redact import MASK, Redactor
from tui.engine.store import SessionNotFound, find


def event(seq: int, kind: str = "note", **data: object) -> Event:
    return Event(seq, 1_700_000_000.0 + seq, kind, dict(data))


def test_append_writes_one_json_line_per_event(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path)
    for seq in range(1, 4):
        journal.append(event(seq, text=f"note {seq} 中文"))
    journal.close()
    lines = (tmp_path / JOURNAL_NAME).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    assert json.loads(lines[0])["data"] == {"text": "note 1 中文"}
    assert read_events(tmp_path / JOURNAL_NAME) == [
        event(1, text="note 1 中文"),
        event(2, text="note 2 中文"),
        event(3, text="note 3 中文"),
    ]


@pytest.mark.parametrize(
    "tail",
    [
        b'{"seq": 3, "ts": 1.0, "type": "no',
        b'{"seq": 3, "ts"',
        b"\xff\xfe",
        b'{"seq": 3, "ts": 1.0, "type": "note", "data": {}}',
    ],
)
def test_torn_last_line_is_skipped_then_cut_on_open(tmp_path: Path, tail: bytes) -> None:
    journal = Journal.create(tmp_path)
    journal.append(event(1))
    journal.append(event(2))
    journal.close()
    path = tmp_path / JOURNAL_NAME
    whole = path.read_bytes()
    path.write_bytes(whole + tail)  # no newline: the writer died mid-line
    assert [e.seq for e in read_events(path)] == [1, 2]
    assert path.read_bytes() == whole + tail  # reading never modifies
    reopened = Journal.open(tmp_path)
    assert reopened.repaired
    assert [e.seq for e in reopened.events] == [1, 2]
    reopened.append(event(3))
    reopened.close()
    assert path.read_bytes().startswith(whole)
    assert [e.seq for e in read_events(path)] == [1, 2, 3]


def test_a_damaged_middle_line_is_kept_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_NAME
    good = event(1).to_json() + "\n"
    path.write_text(good + "garbage\n" + event(2).to_json() + "\n", encoding="utf-8")
    journal = Journal.open(tmp_path)
    assert not journal.repaired
    assert [e.seq for e in journal.events] == [1, 2]
    journal.close()
    assert "garbage" in path.read_text()


def test_lock_is_exclusive_across_processes_and_names_the_holder(tmp_path: Path) -> None:
    lock = SessionLock(tmp_path)
    assert lock.acquire()
    holder = (tmp_path / "lock").read_text()
    assert holder.endswith(f"pid {os.getpid()}\n") and "@" in holder
    probe = (
        "import sys; from pathlib import Path; from tui.engine.lock import SessionLock\n"
        "lock = SessionLock(Path(sys.argv[1])); ok = lock.acquire(); print(ok, lock.holder)"
    )
    other = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == f"False {holder.strip()}"
    assert (tmp_path / "lock").read_text() == holder  # the loser did not truncate it
    lock.release()
    other = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert other.stdout.startswith("True")


def test_find_by_id_prefix_and_random_part(rbconsole_home: Path) -> None:
    root = rbconsole_home / "sessions"
    for name in ("20260101-100000-aaa111", "20260101-100000-aab222", "20260102-090000-ccc333"):
        (root / name).mkdir(parents=True)
        (root / name / JOURNAL_NAME).write_text(event(1, "session_started").to_json() + "\n")
    assert find("20260102").name == "20260102-090000-ccc333"
    assert find("ccc").name == "20260102-090000-ccc333"
    assert find("aab").name == "20260101-100000-aab222"
    with pytest.raises(SessionNotFound, match="matches 2 sessions"):
        find("aa")
    with pytest.raises(SessionNotFound, match="no session matches"):
        find("zzz")
    with pytest.raises(SessionNotFound):
        find("../etc")


def test_redactor_masks_every_spelling_of_a_secret() -> None:
    secret = "p@ss word/'x"
    redact = Redactor([secret, "", "ab"])
    samples = [
        f"plain {secret} end",
        "url https://h/?t=p%40ss%20word%2F%27x",
        "form t=p%40ss+word%2F%27x",
        "shell 'p@ss word/'\"'\"'x'",
        'json {"t": "p@ss word/\'x"}',
    ]
    for sample in samples:
        masked = redact(sample)
        assert MASK in masked, sample
        assert "word" not in masked, sample
    assert redact("ab cd") == "ab cd"  # too short to be a secret worth masking text for
    assert redact.data({"k": [secret, 1, {"n": secret}]}) == {"k": [MASK, 1, {"n": MASK}]}


def test_redactor_masks_each_line_of_a_multiline_secret() -> None:
    key = "-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----"
    redact = Redactor([key])
    assert "AAAABBBBCCCC" not in redact("line: AAAABBBBCCCC\n")
    assert redact("no secret here") == "no secret here"
