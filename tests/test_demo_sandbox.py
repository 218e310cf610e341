"""The demo sandbox on its own: a real git repository, a real detached HTTP service, real signals."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.demo import sandbox
from tui.demo.__main__ import main as demo_main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return json.load(response)


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "sandbox"
    sandbox.setup(root)
    yield root
    sandbox.teardown(root)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_setup_deploys_v2_with_v1_tag_and_backup(box: Path) -> None:
    repo = box / "repo"
    assert git(repo, "tag", "--list").split() == ["v1", "v2"]
    assert git(repo, "describe", "--tags", "--exact-match") == "v2"
    assert json.loads((repo / "app.json").read_text())["version"] == "v2"
    assert json.loads((box / "backups" / "settings-v1.json").read_text()) == {"new_checkout": False}
    assert json.loads((box / "shared" / "settings.json").read_text()) == {"new_checkout": True}
    assert git(repo, "show", "v1:app.json").count('"v1"') == 1


def test_service_runs_detached_reports_its_checkout_and_stops(box: Path) -> None:
    port = free_port()
    pid = sandbox.start(box, port)
    assert sandbox.running_pid(sandbox.Sandbox(box)) == pid
    assert get_json(port, "/version")["version"] == "v2"
    health = get_json(port, "/health")
    assert health["status"] == "degraded" and health["error_rate"] > 0.01
    assert health["features"] == {"new_checkout": True}

    git(box / "repo", "checkout", "-q", "v1")
    assert get_json(port, "/version")["version"] == "v2", "a running service keeps the code it started with"
    assert sandbox.stop(box) == pid
    assert not (box / "run" / "demo.pid").exists()
    with pytest.raises(urllib.error.URLError):
        get_json(port, "/version")
    sandbox.start(box, port)
    assert get_json(port, "/version")["version"] == "v1"
    health = get_json(port, "/health")
    assert health["status"] == "ok" and health["error_rate"] < 0.01
    assert health["features"] == {"new_checkout": True}, "the settings stay v2 until restored"


def test_unknown_path_answers_404(box: Path) -> None:
    port = free_port()
    sandbox.start(box, port)
    with pytest.raises(urllib.error.HTTPError) as caught:
        get_json(port, "/nope")
    assert caught.value.code == 404


def test_busy_port_is_a_clear_error(box: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(sandbox.SandboxError, match=f"port {port} on 127.0.0.1 is in use"):
            sandbox.start(box, port)
    assert sandbox.running_pid(sandbox.Sandbox(box)) is None


def test_second_start_refused_while_running(box: Path) -> None:
    sandbox.start(box, free_port())
    with pytest.raises(sandbox.SandboxError, match="already runs"):
        sandbox.start(box, free_port())


def test_teardown_kills_service_and_removes_everything(tmp_path: Path) -> None:
    root = tmp_path / "sb"
    sandbox.setup(root)
    port = free_port()
    pid = sandbox.start(root, port)
    assert sandbox.teardown(root) is True
    assert not root.exists()
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1][:3]
    assert sandbox.teardown(root) is False


def test_setup_replaces_a_stopped_sandbox_but_never_one_in_use(box: Path) -> None:
    port = free_port()
    pid = sandbox.start(box, port)
    (box / "shared" / "settings.json").write_text('{"new_checkout": "edited"}')
    with pytest.raises(sandbox.SandboxError, match=f"is in use \\(demo-web pid {pid}"):
        sandbox.setup(box)
    assert get_json(port, "/version")["version"] == "v2", "the running drill keeps its service"
    sandbox.stop(box)
    sandbox.setup(box)
    assert json.loads((box / "shared" / "settings.json").read_text()) == {"new_checkout": True}


def test_foreign_directories_are_never_touched(tmp_path: Path) -> None:
    foreign = tmp_path / "precious"
    foreign.mkdir()
    (foreign / "data.txt").write_text("keep me")
    with pytest.raises(sandbox.SandboxError, match="not a demo sandbox"):
        sandbox.setup(foreign)
    with pytest.raises(sandbox.SandboxError, match="refusing to remove"):
        sandbox.teardown(foreign)
    with pytest.raises(sandbox.SandboxError, match="not a demo sandbox"):
        sandbox.start(foreign, free_port())
    assert (foreign / "data.txt").read_text() == "keep me"


def test_stale_pid_file_is_not_a_running_service(box: Path) -> None:
    (box / "run" / "demo.pid").write_text("1\n")  # pid 1 exists but is not demo-web
    assert sandbox.running_pid(sandbox.Sandbox(box)) is None
    assert sandbox.stop(box) is None


def test_cli_says_what_went_wrong_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo_main(["start", str(tmp_path / "missing"), "--port", "8080"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("demo: ") and err.count("\n") == 1 and "not a demo sandbox" in err
    assert demo_main(["teardown", str(tmp_path / "missing")]) == 0
    assert "no sandbox" in capsys.readouterr().out


def test_cli_round_trip_as_the_runbook_calls_it(tmp_path: Path) -> None:
    root = tmp_path / "cli"
    port = free_port()

    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "tui.demo", *args], capture_output=True, text=True, timeout=60, check=False
        )

    assert demo("setup", str(root)).returncode == 0
    try:
        # The starter returns while the service keeps running: nothing holds the caller's pipes open.
        started = demo("start", str(root), "--port", str(port))
        assert started.returncode == 0, started.stderr
        assert f"http://127.0.0.1:{port}" in started.stdout
        assert "running" in demo("status", str(root)).stdout
        assert get_json(port, "/health")["version"] == "v2"
    finally:
        assert demo("teardown", str(root)).returncode == 0
    assert not root.exists()
