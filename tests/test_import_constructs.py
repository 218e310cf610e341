"""`rbconsole import` on a document written for each construct: CommonMark shapes a hand-written
reader misses, alternatives and the flowchart's choice, each command kind, blanks and secrets,
commands that never end or need a terminal, the coverage report and the refusal to write an
invalid runbook."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.importer.build import finish
from tui.runbook.loader import load, load_text

importer = importlib.import_module("tui.commands.import")

CONSTRUCTS = """\
Orders API rollback
===================

Current version: v3.2.0
Target version: v3.1.4

Choose a rollback option
------------------------

### Option A: flip the flag (< 2 min)

```bash
curl -X POST https://api.orders.test/admin/flags \\
  -H "Authorization: Bearer $ADMIN_TOKEN" \\
  -d '{"v3": false}'
# expected: 200
```

### Option B: redeploy the previous build

    ssh deploy@app1.orders.test 'sudo systemctl restart orders'

```sh
ssh -p 2222 deploy@app2.orders.test << 'ENDSSH'
cd /srv/orders
./rollback.sh
ENDSSH
sleep 10
tail -f /var/log/orders.log
watch kubectl top pods
mysql -u root -p orders
export STRIPE_SECRET_KEY=sk_live_abcdef123456
```

### Option C: restore the database

The database is PostgreSQL (`psql $DATABASE_URL`).

```sql
-- stop writes
ALTER DATABASE orders SET default_transaction_read_only = true;
SELECT count(*) FROM orders;
```

## Monitoring thresholds

- error rate < 1%
- p95 latency <= 2s

## Contacts

role | name | phone
---- | ---- | -----
DBA | Ana \\| Bo | +1-555-0100

## Checklist

- [ ] users told
  on the status page
- [x] backups present
"""


@pytest.fixture(scope="module")
def constructs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    folder = tmp_path_factory.mktemp("constructs")
    source = folder / "orders.md"
    source.write_text(CONSTRUCTS, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(source), "-o", str(folder / "orders.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert load(folder / "orders.toml").ok
    return tomllib.loads((folder / "orders.toml").read_text(encoding="utf-8")), out.stderr


def test_setext_title_versions_and_alternatives_become_plans_with_a_choice(
    constructs: tuple[dict[str, Any], str],
) -> None:
    data, _ = constructs
    assert data["title"] == "Orders API rollback"
    assert (data["current_version"], data["target_version"]) == ("v3.2.0", "v3.1.4")
    assert {k: p["title"] for k, p in data["plans"].items()} == {
        "A": "flip the flag",
        "B": "redeploy the previous build",
        "C": "restore the database",
    }
    assert data["plans"]["A"]["target_minutes"] == 2.0
    nodes = data["flow"]["nodes"]
    choose = nodes[data["flow"]["start"]]
    assert [nodes[o["next"]]["plan"] for o in choose["options"]] == ["A", "B", "C"]


def test_curl_becomes_http_with_its_secret_in_the_environment(constructs: tuple[dict[str, Any], str]) -> None:
    data, _ = constructs
    (flag,) = data["plans"]["A"]["steps"]
    assert {k: flag[k] for k in ("kind", "method", "url", "json", "expect_status", "confirm")} == {
        "kind": "http",
        "method": "POST",
        "url": "https://api.orders.test/admin/flags",
        "json": {"v3": False},
        "expect_status": 200,
        "confirm": True,
    }
    assert flag["headers"] == {"Authorization": "Bearer {{ admin_token }}"}
    assert data["secrets"]["admin_token"] == {"env": "ADMIN_TOKEN"}


def test_ssh_heredoc_endless_and_interactive_commands(constructs: tuple[dict[str, Any], str]) -> None:
    data, _ = constructs
    steps = data["plans"]["B"]["steps"]
    kinds = [(s["kind"], s.get("host", "")) for s in steps]
    assert kinds == [
        ("ssh", "app1.orders.test"),
        ("ssh", "app2.orders.test"),
        ("wait", ""),
        ("local", ""),
        ("local", ""),
        ("manual", ""),
        ("local", ""),
    ]
    assert steps[0]["run"] == "sudo systemctl restart orders", "an indented code block is read too"
    assert steps[1]["run"] == "cd /srv/orders\n./rollback.sh", "a here-document runs on the host, not the bastion"
    assert data["hosts"]["app2.orders.test"] == {"address": "app2.orders.test", "user": "deploy", "port": 2222}
    why = [s["instruction"].split(";")[0] for s in steps if s["kind"] == "manual"]
    assert why == ["needs a terminal (interactive)"]
    assert "mysql -u root -p orders" in steps[5]["instruction"], "a manual step shows its command"
    assert steps[4]["run"] == "kubectl top pods", "a watch with no window: the command once"
    assert "the document says `watch kubectl top pods` with no time to watch for" in steps[4]["notes"]
    assert steps[3]["run"] == "tail -n 100 /var/log/orders.log", "a followed log: its latest lines, once"
    assert "the document says `tail -f /var/log/orders.log`" in steps[3]["notes"]
    assert steps[-1]["run"] == "export STRIPE_SECRET_KEY={{ stripe_secret_key }}"
    assert data["secrets"]["stripe_secret_key"] == {"env": "STRIPE_SECRET_KEY"}
    assert "sk_live" not in str(data), "an inline secret is never copied into the runbook"


def test_sql_statements_and_their_kinds(constructs: tuple[dict[str, Any], str]) -> None:
    data, _ = constructs
    write, read = data["plans"]["C"]["steps"]
    assert (write["kind"], write["title"], write["confirm"], write["dsn_env"]) == (
        "sql",
        "stop writes",
        True,
        "DATABASE_URL",
    )
    assert (read["kind"], read["confirm"], read["read_only"]) == ("sql", False, True)


def test_tables_lists_and_thresholds(constructs: tuple[dict[str, Any], str]) -> None:
    data, _ = constructs
    assert data["contacts"] == [{"role": "DBA", "name": "Ana | Bo", "phone": "+1-555-0100"}]
    assert data["checklists"]["post"] == ["users told on the status page", "backups present"]
    assert [(m["metric"], m["condition"]) for m in data["monitors"]] == [
        ("error rate", "< 1%"),
        ("p95 latency", "<= 2s"),
    ]


def test_the_coverage_report_counts_every_command(constructs: tuple[dict[str, Any], str]) -> None:
    _, report = constructs
    lines = report.splitlines()
    assert lines[0] == "orders.md: 10 command(s): 9 runnable, 1 manual, 0 reference only (appendix), 0 lost"
    assert "  runnable as: http 1, local 3, sql 2, ssh 2, wait 1" in lines
    assert "  manual, needs a terminal (interactive): 1 (line 31)" in lines
    assert (
        "  runnable once made to end by itself (the step's note says what the document wrote): 2 (line 29, 30)" in lines
    )
    assert not any("no home" in line for line in lines), "every block of the document found a home"


def test_what_finds_no_home_is_kept_and_reported(tmp_path: Path) -> None:
    source = tmp_path / "plan.md"
    source.write_text(
        "# Plan\n\nRoll back the web tier when a deploy fails.\n\n## Option A\n\n```bash\necho hi\n```\n\n"
        "## Background\n\nThe cache warms in 3 minutes.\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(source)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert (
        "  no home, kept as text in the appendix (导入时未归类 / not placed by the import): 1 block(s) (line 13)"
        in (out.stderr.splitlines())
    )
    (unplaced,) = tomllib.loads(out.stdout)["appendix"]
    assert unplaced["body"] == "## Background\nThe cache warms in 3 minutes.  (plan.md:13)"


def test_a_variable_shared_across_chunks_keeps_the_block_one_step_when_it_cannot_be_captured(
    tmp_path: Path,
) -> None:
    source = tmp_path / "plan.md"
    source.write_text(
        "# Plan\n\n## Option A\n\n```bash\n# pick\nDIR=/srv/app-$(date +%F)\n\n# restart\ncd $DIR && ./restart.sh\n```\n\n"
        "## Option B\n\n```bash\n# find\nLAST=$(ls -t /backups | head -1)\n\n# restore\ncp /backups/$LAST /srv/app/\n```\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(source)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    plans = tomllib.loads(out.stdout)["plans"]
    (whole,) = plans["A"]["steps"]
    assert whole["run"] == "DIR=/srv/app-$(date +%F)\ncd $DIR && ./restart.sh", "steps run in separate shells"
    find, restore = plans["B"]["steps"]
    assert (find["run"], find["capture"]) == ("ls -t /backups | head -1", {"last": "stdout"})
    assert restore["run"] == "cp /backups/{{ last }} /srv/app/"


def test_an_invalid_import_is_not_written_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "plan.md"
    source.write_text("# Plan\n\n## Option A\n\n```bash\necho hi\n```\n", encoding="utf-8")
    real = importer.build

    def broken(text: str, name: str) -> Any:
        imported = real(text, name)
        imported.runbook["plans"]["A"]["target_minutes"] = -1
        return imported

    monkeypatch.setattr(importer, "build", broken)
    out = tmp_path / "out.toml"
    code = importer.main(argparse.Namespace(plan=str(source), output=str(out), force=False))
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "target_minutes" in err and "nothing written (--force writes it anyway)" in err
    assert importer.main(argparse.Namespace(plan=str(source), output=str(out), force=True)) == 1
    assert out.exists()


def test_a_column_flowchart_leads_to_the_plan_choice(tmp_path: Path) -> None:
    source = tmp_path / "plan.md"
    source.write_text(
        "# Plan\n\n## 方案1: 重启\n\n```bash\nsystemctl restart app\n```\n\n## 方案2: 回退\n\n```bash\n./rollback.sh\n```\n\n"
        "## 流程图\n\n```\n发现问题\n    ↓\n评估影响\n    ↓\n执行回滚\n    ↓\n验证回滚\n```\n",
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(source)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "no home" not in out.stderr, "the chart is placed: it is the flowchart"
    flow = tomllib.loads(out.stdout)["flow"]
    nodes = flow["nodes"]
    path = [nodes[flow["start"]]]
    while "next" in path[-1]:
        path.append(nodes[path[-1]["next"]])
    assert [n["text"] for n in path] == ["发现问题", "评估影响", "执行回滚", "选择回滚方案 / choose a plan"]
    assert path[2]["notes"] == "然后 / then: 验证回滚"
    assert [nodes[o["next"]]["plan"] for o in path[-1]["options"]] == ["1", "2"]


def test_a_box_chart_with_cjk_text_is_read_by_display_width() -> None:
    from tui.importer.flowchart import parse_chart

    chart = "\n".join(
        [
            "      ┌──────────┐",
            "      │ 发现问题 │",
            "      └────┬─────┘",
            "           │",
            "   ┌───────┴───────┐",
            "   │               │",
            "┌──▼───┐      ┌────▼───┐",
            "│ 回滚 │      │ 观察   │",
            "└──────┘      └────────┘",
        ]
    )
    graph = parse_chart(chart)
    assert graph is not None
    assert graph.texts == ["发现问题", "回滚", "观察"]
    assert graph.edges == {0: [1, 2]}


# --- a public runbook the importer had never seen (tests/data/import/SOURCES.txt) ---------------

PUBLIC = Path(__file__).resolve().parent / "data" / "import" / "labels_lab-ROLLBACK.md"


def test_a_public_runbook_options_inside_a_procedure_become_whole_plans(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(PUBLIC), "-o", str(tmp_path / "out.toml")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith(
        "labels_lab-ROLLBACK.md: 26 command(s): 25 runnable, 1 manual, 0 reference only (appendix), 0 lost\n"
    )
    assert load(tmp_path / "out.toml").ok
    data = tomllib.loads((tmp_path / "out.toml").read_text(encoding="utf-8"))
    plans = data["plans"]
    assert [p["title"] for p in plans.values()] == [
        "Quick Rollback",
        "Specific Version Rollback",
        "Emergency Git Revert",
        "Issue: Rollback Stuck",
        "Issue: Database Migration Incompatible",
        "Issue: Cache Inconsistency",
    ]
    titles = [s["title"] for s in plans["A"]["steps"]]
    assert titles[:5] == [
        "Check current status",
        "Check error rates",
        "Get current version",
        "Rollback to previous version",
        "Monitor rollback",
    ], "option A is the whole procedure: assess, its own steps, then monitor and communicate"
    assert titles[-3:] == ["Update Slack", "Update incident", "Update status page"]
    assert "Revert last merge" in [s["title"] for s in plans["C"]["steps"]]
    assert "Revert last merge" not in titles
    pods = next(v for v in plans["A"]["verify"] if v["title"] == "Check pod status")
    assert pods["kind"] == "local" and pods["run"].startswith("kubectl wait --for=condition=Ready pods")
    status = next(s for s in plans["A"]["steps"] if s["title"] == "Update status page")
    assert status["headers"] == {"Authorization": "Bearer {{ status_token }}"} and status["confirm"] is True
    assert [(s["level"], s["action"], s["conditions"]) for s in data["severity"]] == [
        ("P0", "rollback", ["Error Rate >10%", "500 Errors >100/min"]),
        ("P1", "rollback", ["Error Rate 5-10%", "Latency P95 >5s"]),
        ("P2", "pause", ["Memory Usage >95%", "CPU Usage >90%"]),
    ], "the decision matrix's severity column gives the levels"
    nodes = data["flow"]["nodes"]
    level = nodes[nodes[data["flow"]["start"]]["next"]]
    assert [o["label"] for o in level["options"]] == [
        "P0 Immediate rollback",
        "P1 Rollback within 5 min / Immediate rollback",
        "P2 Scale first, then rollback",
    ]
    choose = nodes[nodes[level["options"][0]["next"]]["next"]]
    assert [o["label"] for o in choose["options"]] == [
        "A: Quick Rollback",
        "B: Specific Version Rollback",
        "C: Emergency Git Revert",
    ]
    assert nodes[level["options"][2]["next"]]["action"] == "pause"
    assert [c["role"] for c in data["contacts"]] == ["On-call Engineer", "Team Lead", "Platform Team", "CTO"]
    assert {k: len(v) for k, v in data["checklists"].items()} == {"pre": 4, "post": 12, "followup": 8}


# --- odd input ---------------------------------------------------------------------------------

_PIECES = [
    "# ", "## ", "### ", "方案 A", "Option B", "Stage 1", "```bash\n", "```sql\n", "```\n", "\n", "- [ ] ", "1. ",
    "| a | b |\n|---|---|\n", "ssh h 'ls'", "ssh -p 22 u@h << 'EOF'\nls\nEOF\n", "curl -X POST http://x/y -d '{\"a\":1}'",
    "X=$(ls)\n", "echo $X\n", "cd /d\n", "git checkout v1\n", "SELECT 1;\n", "<x>", "[中文]", "YOUR_KEY", "...",
    "{{ a }}", "┌──┐\n│a │\n└┬─┘\n │\n┌▼─┐\n│回滚│\n└──┘\n", "↓\n", "tail -f x\n", "\\", "'", '"', "`", "$",
    "\t", "    ", "=", "：", "P0", "回滚", "验证", "附录", "Issue: x", "**b**", "\x00", "\r\n", "😀",
    "watch -n 5 'curl -s http://x/<y>'\n", "kubectl exec -it p -- ls <d>\n", "kubectl get pods -w\n", " (5 min)",
    "docker logs -f x | grep '{{ a }}'\n",
    "kubectl -n prod get pods\n", "cat /srv/my-app/x\n", "systemctl restart my-app\n", "v1.2.3", "(2 min)",
    "TOKEN=$(curl -s http://x/y | jq -r .a.b)\n", "curl -H \"X: $TOKEN\" http://x/z\n", "## When to roll back\n",
    "- error rate > 5%\n", "Do NOT roll back for:\n", "| Metric | Threshold |\n|---|---|\n| err | >5% |\n",
]  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=60))
def test_any_document_imports_to_a_runbook_that_validates(pieces: list[str]) -> None:
    imported = importer.build("".join(pieces).replace("\x00", ""), "odd.md")
    text = tomli_w.dumps(finish(imported.runbook), multiline_strings=True)
    assert load_text(text, "odd.toml").ok, text
    assert imported.coverage.lost == []


def test_an_unexpected_error_is_one_line_and_its_cause_goes_to_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "plan.md"
    source.write_text("# Plan\n", encoding="utf-8")
    monkeypatch.setenv("RBCONSOLE_HOME", str(tmp_path / "home"))

    def broken(text: str, name: str) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(importer, "build", broken)
    assert importer.main(argparse.Namespace(plan=str(source), output=None, force=False)) == 1
    log = tmp_path / "home" / "logs" / "import.log"
    assert capsys.readouterr().err == (
        f"rbconsole import: {source}: could not be imported (RuntimeError); the cause is in {log}\n"
    )
    assert "RuntimeError: boom" in log.read_text(encoding="utf-8")


def test_credentials_written_inline_become_secrets_and_leave_no_trace() -> None:
    text = (
        "# Plan\n\n## Option A\n\n```bash\n"
        "psql postgresql://admin:s3cret-pw@db.test/app -c 'SELECT 1'\n"
        "mysqldump --password=t0ps3cret app > /tmp/app.sql\n"
        "PGPASSWORD=pgs3cret pg_dump -h db.test app > /tmp/app.dump\n"
        "curl -u ops:hunter22 https://ci.test/job/rollback/build\n"
        'curl -s -X POST https://api.test/login -d \'{"user":"qa","password":"Qa-pw-77"}\' | jq .token\n'
        "```\n\n## Option B\n\n```bash\n"
        'curl -X POST https://api.test/login -d \'{"user":"qa","password":"Qa-pw-77"}\'\n'
        "```\n"
    )
    imported = importer.build(text, "creds.md")
    runbook = finish(imported.runbook)
    written = tomli_w.dumps(runbook, multiline_strings=True)
    for secret in ("s3cret-pw", "t0ps3cret", "pgs3cret", "hunter22", "Qa-pw-77"):
        assert secret not in written
    assert runbook["plans"]["B"]["steps"][0]["json"] == {"user": "qa", "password": "{{ api_password }}"}
    assert runbook["secrets"] == {
        "api_password": {"env": "API_PASSWORD"},
        "password": {"env": "PASSWORD"},
        "pgpassword": {"env": "PGPASSWORD"},
        "postgresql_password": {"env": "POSTGRESQL_PASSWORD"},
    }
    step = runbook["plans"]["A"]["steps"][0]
    assert step["run"].split("\n")[0] == "psql postgresql://admin:{{ postgresql_password }}@db.test/app -c 'SELECT 1'"
    assert load_text(written, "creds.toml").ok


def test_commands_after_an_ssh_login_run_on_that_host() -> None:
    text = (
        "# Plan\n\n## Manual rollback\n\n### Step 1: log in\n\n```bash\nssh -p 2201 deploy@app3.test\n```\n\n"
        "### Step 2: roll back\n\n```bash\ncd /srv/app\ngit reset --hard HEAD~1\nsystemctl restart app\n"
        "curl http://localhost:8080/health\nexit\n```\n\n### Step 3: tell people\n\n```bash\n./notify.sh done\n```\n"
    )
    imported = importer.build(text, "login.md")
    runbook = finish(imported.runbook)
    steps = runbook["plans"]["plan-1"]["steps"]
    assert [(s["kind"], s.get("host"), s["run"]) for s in steps] == [
        (
            "ssh",
            "app3.test",
            "cd /srv/app\ngit reset --hard HEAD~1\nsystemctl restart app\ncurl http://localhost:8080/health",
        ),
        ("local", None, "./notify.sh done"),
    ], "a login shell's commands run on the host (curl localhost there, not on the bastion); exit ends it"
    assert "cwd" not in steps[1], "a cd on the host logged in to is not the bastion's working directory"
    assert runbook["hosts"]["app3.test"] == {"address": "app3.test", "user": "deploy", "port": 2201}
    assert imported.coverage.lost == [] and imported.coverage.count("manual") == 0
