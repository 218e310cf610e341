"""`rbconsole import` on public rollback and operations runbooks it was not written against (English
and Chinese, kept under tests/data/import/ with their licences, SOURCES.txt names each): every one
validates, loses no command, makes at least 90% of its commands runnable steps, and every plan of
every one dry-runs. Commands that never end or want a terminal are rewritten to end where that keeps
the document's intent, and each such step says what the document wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tui.importer.bounded import bounded
from tui.importer.build import build, finish
from tui.runbook.loader import load_text

DATA = Path(__file__).resolve().parent / "data" / "import"
PUBLIC = sorted(DATA.glob("*.md"))

# commands found, runnable, manual: pinned so that a change in what the importer keeps shows here
FIGURES = {
    "after_sales-OPERATIONS_RUNBOOK.md": (48, 47, 1),
    "crypto_arbitrage-rollback.md": (5, 5, 0),
    "labels_lab-ROLLBACK.md": (26, 25, 1),
    "ops_scaffold-ROLLBACK.md": (65, 60, 5),
    "teei-deployment_rollback.md": (54, 51, 3),
    "teei-rollback.md": (57, 55, 2),
    "ours-checkout_rollback.md": (12, 12, 0),  # written for this project (SOURCES.txt)
}


@pytest.fixture(scope="module")
def imported() -> dict[str, tuple[Any, dict[str, Any], str]]:
    found = {}
    for source in PUBLIC:
        result = build(source.read_text(encoding="utf-8"), source.name)
        runbook = finish(result.runbook)
        found[source.name] = (result, runbook, tomli_w.dumps(runbook, multiline_strings=True))
    return found


def test_every_public_document_is_kept_with_its_source_and_licence() -> None:
    sources = (DATA / "SOURCES.txt").read_text(encoding="utf-8")
    assert {p.name for p in PUBLIC} == set(FIGURES)
    for source in PUBLIC:
        row = next(line for line in sources.splitlines() if f"`{source.name}`" in line)
        if source.name.startswith("ours-"):
            assert "written for this project" in row
            continue
        licence = row.split("`")[-2]
        assert (DATA / licence).read_text(encoding="utf-8").startswith(("MIT License", "The MIT License"))
    assert len([p for p in PUBLIC if any("\u4e00" <= ch <= "\u9fff" for ch in p.read_text()[:400])]) >= 2


def test_every_public_document_validates_loses_nothing_and_is_90_percent_runnable(
    imported: dict[str, tuple[Any, dict[str, Any], str]],
) -> None:
    for name, (result, _, text) in imported.items():
        loaded = load_text(text, name)
        assert loaded.ok, (name, [str(p) for p in loaded.problems])
        f = result.coverage.figures()
        assert (f["commands"], f["runnable"], f["manual"]) == FIGURES[name], name
        assert f["lost"] == 0, name
        assert f["runnable"] / f["commands"] >= 0.9, name


def test_every_plan_of_every_public_document_dry_runs(
    imported: dict[str, tuple[Any, dict[str, Any], str]], tmp_path: Path
) -> None:
    runs = []
    for name, (_, runbook, text) in imported.items():
        path = tmp_path / f"{Path(name).stem}.toml"
        path.write_text(text, encoding="utf-8")
        runs += [(str(path), plan) for plan in runbook["plans"]]
    # one process for every run (a process each would cost more than the runs); each run's output
    # follows a marker line, its exit status is on the marker after it
    script = (
        "import json, sys\n"
        "from tui.cli import main\n"
        "for path, plan in json.loads(sys.argv[1]):\n"
        "    print('@@run', path, plan, flush=True)\n"
        "    code = main(['run', path, '--plan', plan, '--dry-run', '--yes', '--var', 'reason=test'])\n"
        "    sys.stdout.flush()\n"
        "    print('@@exit', code, flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    parts = done.stdout.split("@@run ")[1:]
    assert len(parts) == len(runs) >= 20
    for part in parts:
        head, _, rest = part.partition("\n")
        shown, _, code = rest.rpartition("@@exit ")
        assert code.strip() == "0", (head, shown[-2000:])
        assert "== result: DRY RUN" in shown, (head, shown[-2000:])


def _steps(runbook: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *runbook.get("checks", []),
        *(s for p in runbook["plans"].values() for s in (*p["steps"], *p.get("verify", []))),
    ]


def test_labels_lab_watches_and_follows_are_made_to_end_and_say_what_the_document_wrote(
    imported: dict[str, tuple[Any, dict[str, Any], str]],
) -> None:
    result, runbook, _ = imported["labels_lab-ROLLBACK.md"]
    plan = runbook["plans"]["A"]
    by_line = {int(s["notes"].split(":")[1].split(";")[0]): s for s in (*plan["steps"], *plan["verify"])}
    pods = by_line[65]
    assert pods["run"] == "kubectl wait --for=condition=Ready pods -n {{ namespace }} --all --timeout=180s"
    assert runbook["vars"] == {"deployment": "app", "namespace": "production"}, "what every command repeats"
    assert "`kubectl get pods -n production -w`" in pods["notes"], "the note says what the document wrote"
    assert pods["timeout"] == "240s", "the step outlasts the command's own bound (the section says 3 min)"
    watch = by_line[80]
    assert watch["run"] == (
        "for _ in $(seq 60); do curl -s https://metrics.example.com/api/errors/1m; echo; sleep 5; done"
    ), "watch -n 5 for the section's 5 minutes"
    assert by_line[83]["run"] == "kubectl logs deployment/{{ deployment }} -n {{ namespace }} --tail=100"
    stuck = runbook["plans"]["plan-2"]["steps"]
    assert stuck[0]["run"] == "kubectl exec deploy/migration-job -n {{ namespace }} -- npm run migrate:down"
    assert stuck[0]["confirm"] is True, "a rewritten command that changes something still asks"
    assert sorted(result.coverage.rewritten) == [65, 80, 83, 158, 167]
    report = result.coverage.report("labels_lab-ROLLBACK.md")
    assert (
        "  runnable once made to end by itself (the step's note says what the document wrote): 5"
        + (" (line 65, 80, 83, 158, 167)")
        in report
    )


@pytest.mark.parametrize(
    ("command", "window", "interactive", "run"),
    [
        ("watch -n 5 'curl -s https://m.test/x'", 1, False, "for _ in $(seq 12); do curl -s https://m.test/x; echo; sleep 5; done"),
        ("watch -n 5 'curl -s https://m.test/x'", None, False, "curl -s https://m.test/x"),  # no window: once
        ("watch -d kubectl get pods -n p -l app=x", None, False, "kubectl wait --for=condition=Ready pods -n p -l app=x --timeout=300s"),
        ("kubectl get pods -w | grep api", None, False, None),  # piped: what is looked for is not a readiness
        ("kubectl rollout status deploy/x -n p --watch", 2, False, "kubectl rollout status deploy/x -n p --timeout=120s"),
        ("tail -fn 50 /var/log/x.log | grep ERROR", None, False, "tail -n 50 /var/log/x.log | grep ERROR"),
        ("sudo tail -F /var/log/x.log", None, False, "sudo tail -n 100 /var/log/x.log"),
        ("journalctl -u app -f", None, False, "journalctl -u app -n 100 --no-pager"),
        ("docker logs -f --tail 20 web", None, False, "docker logs --tail 20 web"),
        ("pm2 logs api", None, False, "pm2 logs api --nostream --lines 100"),
        ("kubectl exec -it redis-0 -- redis-cli -a pw FLUSHALL", None, True, "kubectl exec redis-0 -- redis-cli -a pw FLUSHALL"),
        ("kubectl exec -it db -- psql -f - < dump.sql", None, True, "kubectl exec -i db -- psql -f - < dump.sql"),
        ("docker exec -it -u root web sh -c 'ls /srv'", None, True, "docker exec -u root web sh -c 'ls /srv'"),
        ("kubectl exec -it pod -- bash", None, True, None),  # a shell waits for its operator
        ("kubectl exec -it redis-0 -- redis-cli -a pw", None, True, None),  # the client's prompt
        ("kubectl exec -it db -- mysql -u root -p app", None, True, None),  # asks for the password
    ],
)  # fmt: skip
def test_each_rewrite_keeps_the_intent_or_is_not_made(
    command: str, window: float | None, interactive: bool, run: str | None
) -> None:
    found = bounded(command, window, interactive)
    assert (found.run if found else None) == run
    if found:
        assert f"`{command}`" in found.note


def test_a_rewritten_blank_is_asked_and_a_password_blank_is_secret(tmp_path: Path) -> None:
    source = "# Ops\n\n## Checks\n\n```bash\nkubectl exec -it redis-0 -n prod -- redis-cli -a <password> ping\n```\n"
    result = build(source, "ops.md")
    runbook = finish(result.runbook)
    (step,) = _steps(runbook)
    assert step["run"] == "kubectl exec redis-0 -n prod -- redis-cli -a {{ password }} ping"
    assert runbook["params"]["password"]["secret"] is True
    text = tomli_w.dumps(runbook, multiline_strings=True)
    assert load_text(text, "ops.toml").ok
    assert tomllib.loads(text)["params"]["password"]["secret"] is True
