"""The local, manual, notify and wait executors, run for real (a loopback HTTP server stands in
for the chat webhook)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tui.engine import events as ev
from tui.engine.session import Session, StartOptions
from tui.executors.base import ExecContext
from tui.executors.local import LocalExecutor
from tui.runbook.loader import load_text
from tui.runbook.model import LocalAction, Runbook, SshSettings
from tui.runbook.placeholders import Value

RUNBOOK = """schema = 1
id = "x"
title = "executors"
service = "svc"
target_version = "v1"
[plans.A]
title = "p"
[[plans.A.steps]]
id = "s"
kind = "local"
run = "true"
"""


def context(scope: dict[str, Value] | None = None, timeout: float = 60) -> ExecContext:
    loaded = load_text(RUNBOOK)
    assert loaded.runbook is not None
    return ExecContext(loaded.runbook, scope or {}, {}, SshSettings(), default_timeout=timeout)


class Sink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, host: str, stream: str, text: str) -> None:
        self.calls.append((host, stream, text))

    def text(self, stream: str = "stdout") -> str:
        return "".join(t for _, s, t in self.calls if s == stream)


def local(run: str, **fields: object) -> LocalAction:
    return LocalAction(id="t", kind="local", run=run, **fields)  # type: ignore[arg-type]


async def test_local_streams_whole_lines_in_chunks_and_counts_them() -> None:
    sink = Sink()
    outcome = await LocalExecutor().run(local("seq 1 300000; echo err >&2"), context(), sink)
    assert outcome.status == "ok" and outcome.exit_status == 0
    assert all(text.endswith("\n") for _, _, text in sink.calls)
    assert len(sink.calls) < 1000  # chunks, not one call per line
    lines = sink.text().splitlines()
    assert lines[0] == "1" and lines[-1] == "300000" and len(lines) == 300000
    assert sink.text("stderr") == "err\n"
    assert outcome.hosts["local"].status == "ok"


async def test_local_non_utf8_output_is_replaced_not_fatal() -> None:
    sink = Sink()
    outcome = await LocalExecutor().run(local(r"printf 'a\377b\n'; printf 'no newline at end'"), context(), sink)
    assert outcome.status == "ok"
    assert sink.text() == "a\ufffdb\nno newline at end\n"


async def test_local_exit_status_expect_exit_and_cwd(tmp_path: Path) -> None:
    failed = await LocalExecutor().run(local("exit 3"), context(), Sink())
    assert (failed.status, failed.exit_status, failed.detail) == ("failed", 3, "exit status 3")
    expected = await LocalExecutor().run(local("exit 3", expect_exit=3), context(), Sink())
    assert expected.status == "ok"
    sink = Sink()
    here = await LocalExecutor().run(local("pwd", cwd=str(tmp_path)), context(), sink)
    assert here.status == "ok" and sink.text().strip() == str(tmp_path)


async def test_local_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    action = local(f"sleep 60 & echo $! > {pids}; wait", timeout=0.5)
    outcome = await LocalExecutor().run(action, context(), Sink())
    assert outcome.status == "timeout" and "timed out after 0.5s" in outcome.detail
    child = int(pids.read_text())
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


async def test_local_cancel_signals_the_command_and_reraises(tmp_path: Path) -> None:
    marker = tmp_path / "trapped"
    sink = Sink()
    started = asyncio.Event()

    def watch(host: str, stream: str, text: str) -> None:
        sink(host, stream, text)
        started.set()

    action = local(f"trap 'echo term > {marker}; exit 143' TERM; echo ready; while :; do sleep 0.05; done")
    task = asyncio.create_task(LocalExecutor().run(action, context(), watch))
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert marker.read_text() == "term\n"


@pytest.mark.parametrize(
    ("run", "capture", "expected"),
    [
        ("echo one; echo two; echo", {"v": "stdout"}, {"v": "two"}),
        (
            'echo \'{"data": {"id": 42, "tags": ["a"]}}\'',
            {"v": "json:data.id", "t": "json:data.tags"},
            {"v": "42", "t": '["a"]'},
        ),
        ("echo rows=17 of 20", {"n": "regex:rows=(\\d+)"}, {"n": "17"}),
        ("echo oops >&2", {"e": "stderr"}, {"e": "oops"}),
    ],
)
async def test_local_capture(run: str, capture: dict[str, str], expected: dict[str, str]) -> None:
    outcome = await LocalExecutor().run(local(run, capture=capture), context(), Sink())
    assert outcome.status == "ok", outcome.detail
    assert outcome.captured == expected


async def test_local_capture_that_finds_nothing_fails_the_step() -> None:
    outcome = await LocalExecutor().run(local("echo nothing", capture={"n": "regex:rows=(\\d+)"}), context(), Sink())
    assert outcome.status == "failed" and "does not match" in outcome.detail


async def test_local_describe_quotes_operator_values() -> None:
    scope = {"v": Value("a; rm -rf / #"), "d": Value("/srv/app", trusted=True)}
    lines = LocalExecutor().describe(local("ls {{ d }} {{ v }}"), context(scope))
    assert lines == ["local $ ls /srv/app 'a; rm -rf / #'"]


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, object]]]]:
    received: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"path": self.path, "body": json.loads(body)})
            status = 500 if self.path.endswith("/broken") else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def runbook_at(tmp_path: Path, body: str) -> tuple[Runbook, Path]:
    path = tmp_path / "rb.toml"
    path.write_text(RUNBOOK.split("[plans.A]")[0] + body, encoding="utf-8")
    loaded = load_text(path.read_text(), str(path))
    assert loaded.ok and loaded.runbook is not None, loaded.problems
    return loaded.runbook, path


async def test_notify_renders_the_template_and_posts_it(
    tmp_path: Path, webhook: tuple[str, list[dict[str, object]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, received = webhook
    monkeypatch.setenv("HOOK_URL", f"{base}/hooks/T0K3N")
    runbook, path = runbook_at(
        tmp_path,
        f"""
[[templates]]
id = "start"
body = "{{{{ service }}}}: rolling back to {{{{ target_version }}}} ({{{{ why }}}})"
[params.why]
default = "5xx"
[plans.A]
title = "p"
[[plans.A.steps]]
id = "tell"
kind = "notify"
template = "start"
webhook_env = "HOOK_URL"
[[plans.A.steps]]
id = "tell-broken"
kind = "notify"
message = "second"
webhook = "{base}/broken"
on_failure = "continue"
""",
    )
    session = Session.start(runbook, str(path), StartOptions(values={"why": "db & cache"}))
    await session.choose_plan("A")
    await session.run_plan()
    await session.close()
    assert received[0] == {"path": "/hooks/T0K3N", "body": {"text": "svc: rolling back to v1 (db & cache)"}}
    finished = {e.data["id"]: e.data for e in session.events if e.type == ev.STEP_FINISHED}
    assert finished["tell"]["status"] == "ok"
    assert finished["tell-broken"]["status"] == "failed" and "HTTP 500" in finished["tell-broken"]["detail"]
    started = next(e.data for e in session.events if e.type == ev.STEP_STARTED)
    assert started["describe"][-1] == "POST $HOOK_URL as json"  # the token-bearing URL is never shown
    assert "T0K3N" not in (session.dir / "journal.jsonl").read_text()


async def test_wait_polls_a_check_until_it_passes_and_times_out(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    runbook, path = runbook_at(
        tmp_path,
        f"""
[[checks]]
id = "third-time"
kind = "local"
run = "n=$(cat {counter} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {counter}; test $n -ge 3"
[[checks]]
id = "never"
kind = "local"
run = "false"
[plans.A]
title = "p"
[[plans.A.steps]]
id = "settle"
kind = "wait"
until = "third-time"
interval = "0.05s"
deadline = "60s"
[[plans.A.steps]]
id = "pause"
kind = "wait"
seconds = 0.01
[[plans.A.steps]]
id = "hopeless"
kind = "wait"
until = "never"
interval = "0.05s"
deadline = "0.2s"
""",
    )
    session = Session.start(runbook, str(path), StartOptions())
    await session.choose_plan("A")
    assert await session.run_plan() is False
    await session.close()
    assert counter.read_text() == "3\n"
    finished = {e.data["id"]: e.data for e in session.events if e.type == ev.STEP_FINISHED}
    assert finished["settle"]["status"] == "ok" and "after 3 poll(s)" in finished["settle"]["detail"]
    assert finished["pause"]["status"] == "ok"
    assert finished["hopeless"]["status"] == "timeout"


async def test_manual_step_is_asked_and_its_instruction_recorded(tmp_path: Path) -> None:
    runbook, path = runbook_at(
        tmp_path,
        """
[plans.A]
title = "p"
[[plans.A.steps]]
id = "call"
kind = "manual"
instruction = "Call the DBA on duty and confirm the backup for {{ service }}"
""",
    )
    asked = []

    async def ask(question: object) -> str:
        asked.append(question)
        return "yes"

    session = Session.start(runbook, str(path), StartOptions(), ask=ask)
    await session.choose_plan("A")
    assert await session.run_plan()
    await session.close()
    assert [q.kind for q in asked] == ["manual"]  # type: ignore[attr-defined]
    finished = next(e.data for e in session.events if e.type == ev.STEP_FINISHED)
    assert finished["excerpt"] == {"operator": "Call the DBA on duty and confirm the backup for svc"}


@pytest.mark.parametrize("yields", [0, 1, 2, 3, 5, 8])
async def test_abort_while_the_process_is_being_created_leaves_nothing_running(tmp_path: Path, yields: int) -> None:
    pidfile = tmp_path / "pid"
    action = LocalAction(id="s", kind="local", run=f"sleep 30 & echo $! > {pidfile}; wait")
    task = asyncio.ensure_future(LocalExecutor().run(action, context(), Sink()))
    for _ in range(yields):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(15):  # a bound on the test, not a measurement
            await task
    if pidfile.exists() and pidfile.read_text().strip():
        pid = int(pidfile.read_text())
        for _ in range(100):  # the TERM was sent; give the kernel up to ~5 s to finish it
            if not _alive(pid):
                break
            await asyncio.sleep(0.05)
        assert not _alive(pid), "the command's child outlived the abort"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has finished
    except FileNotFoundError:
        return False
