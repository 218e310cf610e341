"""The import constructs the first round left out: ``import -`` from standard input, box-drawn
decision trees as flowchart questions, literal vars wherever a literal lands (and never a changed
command), ``watch`` with no window, captured names that never collide, MySQL's manual steps."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from tui.importer.build import build, finish
from tui.importer.flowchart import parse_chart, to_flow
from tui.runbook.loader import load_text

DATA = Path(__file__).resolve().parent / "data"

DOC = """# Rollback

## Roll back

```bash
systemctl stop shop
ssh app1 'systemctl start shop'
```

```text
a paragraph the import cannot place
```
"""


def rbconsole(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def test_import_dash_reads_stdin_and_dash_o_dash_writes_stdout(tmp_path: Path) -> None:
    out = rbconsole("import", "-", "-o", "-", stdin=DOC)
    assert out.returncode == 0, out.stderr
    runbook = tomllib.loads(out.stdout)
    (plan,) = runbook["plans"].values()
    assert [s["kind"] for s in plan["steps"]] == ["local", "ssh"]
    assert plan["steps"][0]["notes"].startswith("imported from <stdin>:6;")
    assert "<stdin>: 2 command(s)" in out.stderr, "the report names the document <stdin>"
    assert "(<stdin>:11)" in out.stdout, "source lines of what found no home are <stdin>:LINE"
    assert "imported 1 plan(s)" not in out.stdout, "the report stays on stderr"
    assert not (tmp_path / "-").exists() and not Path("-").exists(), "`-o -` is stdout, never a file named -"


WATCHES = """# Shop rollback

## Roll back

```bash
systemctl restart shop
watch -n 5 'curl -s http://127.0.0.1:8080/health'
watch -n 2 tail -f /var/log/shop.log
watch mysql -u root -p shop
```
"""


def test_a_watch_with_no_window_runs_its_command_once_unless_that_never_ends() -> None:
    runbook = finish(build(WATCHES, "w.md").runbook)
    _restart, once, follow, prompt = runbook["plans"]["plan-1"]["steps"]
    assert (once["kind"], once["run"]) == ("local", "curl -s http://127.0.0.1:8080/health")
    assert "the document says `watch -n 5 'curl -s http://127.0.0.1:8080/health'`" in once["notes"]
    assert "runs once" in once["notes"] and "w.md:7" in once["notes"]
    assert follow["kind"] == "manual" and "never ends" in follow["instruction"], "tail -f never ends: by hand"
    assert prompt["kind"] == "manual" and "terminal" in prompt["instruction"], "mysql -p asks: by hand"
    assert load_text(tomli_w.dumps(runbook), "w.toml").ok


MYSQL = """# Points DB

The database is MySQL (`mysql -u app points`).

## Roll back

```sql
UPDATE points SET frozen = 1;
SELECT count(*) FROM points;
```
"""


def test_mysql_sql_stays_manual_and_each_step_and_the_report_say_why() -> None:
    imported = build(MYSQL, "m.md")
    steps = finish(imported.runbook)["plans"]["plan-1"]["steps"]
    why = "MySQL: rbconsole has no MySQL executor (sql steps speak PostgreSQL)"
    assert [(s["kind"], s["instruction"].split(";")[0]) for s in steps] == [("manual", why.split(";")[0])] * 2
    assert all(s["instruction"].startswith(why + "; run by hand:") for s in steps)
    assert f"  manual, {why}: 2 (line 8, 9)" in imported.coverage.report("m.md")


CAPTURES = """# Orders rollback

## Option A: previous release

```bash
# why it failed
REASON=$(cat /srv/orders/last-failure)
# say so
echo "rolling back because $REASON" | logger
# the newest backup
BACKUP=$(ls -t /srv/backups | head -1)
# put it back
cp /srv/backups/$BACKUP /srv/orders/current
# the deploy token
DEPLOY_TOKEN=$(cat /etc/orders/token)
# undo the deploy
curl -fsS -H "X-Token: $DEPLOY_TOKEN" https://deploy.orders.test/undo
```

## Option B: from the nightly backup

```bash
# the admin key
export ADMIN_TOKEN=YOUR_ADMIN_TOKEN
# the newest nightly
BACKUP=$(ls -t /srv/nightly | head -1)
# unpack it
tar -xzf /srv/nightly/$BACKUP -C /srv/orders
# the newest weekly
BACKUP=$(ls -t /srv/weekly | head -1)
# list it
tar -tzf /srv/weekly/$BACKUP
# the admin file
admin_token=$(cat /etc/orders/admin)
# its size
echo "$admin_token" | wc -c
```
"""


def test_captured_names_never_collide_and_each_later_use_follows() -> None:
    runbook = finish(build(CAPTURES, "c.md").runbook)
    a, b = (runbook["plans"][k]["steps"] for k in ("A", "B"))
    taken = {*runbook["params"], *runbook["secrets"], *runbook.get("vars", {})}
    assert "reason" in runbook["params"] and "admin_token" in runbook["secrets"]

    def captures(steps: list[dict[str, Any]]) -> list[str]:
        return [name for s in steps for name in s.get("capture", {})]

    names = captures(a) + captures(b)
    assert len(names) == len(set(names)), f"one name per captured value: {names}"
    assert not set(names) & taken, "a capture never shadows a param, var or secret"
    reason = captures(a)[0]
    assert reason != "reason" and f"{{{{ {reason} }}}}" in a[1]["run"], "the step after reads the capture"
    backup_a, backup_b, weekly = captures(a)[1], captures(b)[0], captures(b)[1]
    assert f"/srv/backups/{{{{ {backup_a} }}}}" in a[3]["run"]
    runs_b = [s.get("run", "") for s in b]
    assert any(f"/srv/nightly/{{{{ {backup_b} }}}}" in r for r in runs_b), runs_b
    assert any(f"/srv/weekly/{{{{ {weekly} }}}}" in r for r in runs_b), "the second capture: the uses after it"
    token = captures(b)[2]
    assert token != "admin_token" and any(f"{{{{ {token} }}}}" in r for r in runs_b)
    assert load_text(tomli_w.dumps(runbook), "c.toml").ok


def _go(nodes: dict[str, Any], node: dict[str, Any], label: str) -> dict[str, Any]:
    return nodes[next(o["next"] for o in node["options"] if o["label"] == label)]


def test_teeis_box_drawn_decision_tree_becomes_the_flowchart_questions() -> None:
    source = DATA / "import" / "teei-rollback.md"
    imported = build(source.read_text(encoding="utf-8"), source.name)
    runbook = finish(imported.runbook)
    nodes = runbook["flow"]["nodes"]
    start = nodes[runbook["flow"]["start"]]
    assert start["ask"] == "ROLLBACK DECISION TREE — which of these do you see?", "the frame's title asks"
    assert [o["label"] for o in start["options"]] == [
        "All health checks failing? → ROLLBACK",
        "Error rate > 20%? → ROLLBACK",
        "Error rate 10-20%?",
        "Error rate 5-10%?",
        "Single service failing?",
        "Database migration failed?",
        "P95 latency > 5s? → ROLLBACK",
        "Customer impact reported?",
        "Security vulnerability discovered? → CONSULT — CTO approval required",
    ]
    roll = _go(nodes, start, "Error rate > 20%? → ROLLBACK")
    choose = nodes[roll["next"]]
    assert [nodes[o["next"]]["plan"] for o in choose["options"]] == ["plan-1", "plan-2", "plan-3"]
    assert [runbook["plans"][f"plan-{n}"]["title"] for n in (1, 2, 3)] == [
        "Quick Rollback",
        "Selective Rollback",
        "Full Restore from Backup",
    ], "ROLLBACK asks which of the document's Methods 1-3"
    investigate = _go(nodes, start, "Error rate 10-20%?")
    assert [o["label"] for o in investigate["options"]] == [
        "Investigate 5 min → Still high? → ROLLBACK",
        "Resolved? → MONITOR",
    ]
    assert _go(nodes, investigate, "Resolved? → MONITOR")["action"] == "observe"
    trend = _go(nodes, start, "Error rate 5-10%?")
    assert _go(nodes, trend, "none of these → MONITOR")["action"] == "observe", "its own outcome: the default"
    assert nodes[_go(nodes, trend, "Increasing trend? → ROLLBACK")["next"]] is choose
    consult = _go(nodes, start, "Security vulnerability discovered? → CONSULT — CTO approval required")
    assert consult["action"] == "escalate"
    database = _go(nodes, start, "Database migration failed?")
    assert _go(nodes, database, "Data corrupted? → DR PLAN")["action"] == "pause", "no such plan: the operator decides"
    report = imported.coverage.report(source.name)
    assert "    teei-rollback.md:45: Service only" in report, "a condition with no outcome is reported by its line"
    assert "    teei-rollback.md:48: Data corrupted? → DR PLAN" in report, "so is an outcome that names nothing"
    unplaced = next(a for a in runbook["appendix"] if a["title"].startswith("导入时未归类"))
    assert "Service only  (teei-rollback.md:45)" in unplaced["body"]
    assert "(teei-rollback.md:27)" not in unplaced["body"], "the tree itself is placed: it is the flowchart"
    assert load_text(tomli_w.dumps(runbook, multiline_strings=True), "t.toml").ok


def test_yes_no_branches_and_sideways_arrows_of_a_box_chart() -> None:
    source = DATA / "import" / "ours-checkout_rollback.md"
    runbook = finish(build(source.read_text(encoding="utf-8"), source.name).runbook)
    assert runbook["summary"].startswith("How we take the checkout service back to the previous release when")
    assert runbook["summary"].endswith("is the 1.4.1 build."), "prose wrapped over lines is one paragraph"
    assert not any(a["title"].startswith("导入时未归类") for a in runbook.get("appendix", [])), "all placed"
    nodes = runbook["flow"]["nodes"]
    first = nodes[runbook["flow"]["start"]]
    assert first["text"] == "Checkout errors after a deploy"
    rate = nodes[first["next"]]
    assert rate["ask"] == "Error rate > 5% for 5 minutes?", "the box text stops at its border, arrow or not"
    assert [o["label"] for o in rate["options"]] == [
        "YES → Did the release migrate the database?",
        "NO → Keep watching",
    ]
    assert _go(nodes, rate, "NO → Keep watching")["action"] == "observe"
    migrated = _go(nodes, rate, "YES → Did the release migrate the database?")
    assert {o["label"]: nodes[o["next"]]["plan"] for o in migrated["options"]} == {
        "NO → Plan A: redeploy the previous build": "A",
        "YES → Plan B: restore the database": "B",
    }


def test_a_chinese_chart_with_yes_no_labels_and_a_box_nothing_reaches() -> None:
    chart = "\n".join(
        [
            "┌──────────────┐",
            "│ 错误率超过5%？ │",
            "└──────┬───────┘",
            "       │ 是",
            "       ▼",
            "┌──────────────┐   否   ┌──────────┐",
            "│ 涉及数据库？ ├──────►│ 方案 A   │",
            "└──────┬───────┘        └──────────┘",
            "       │ 是",
            "       ▼",
            "┌──────────────┐        ┌──────────┐",
            "│ 方案 B       │        │ 通知客服 │",
            "└──────────────┘        └──────────┘",
        ]
    )
    graph = parse_chart(chart)
    assert graph is not None
    chart_flow = to_flow(graph, {"A": "回滚代码", "B": "恢复数据库"}, choose=True)
    assert chart_flow is not None
    nodes = chart_flow.flow["nodes"]
    first = nodes[chart_flow.flow["start"]]
    assert first["text"] == "错误率超过5%？"
    database = nodes[first["next"]]  # one way on: no question to ask
    assert {o["label"]: nodes[o["next"]].get("plan") for o in database["options"]} == {
        "是 → 方案 B": "B",
        "否 → 方案 A": "A",
    }
    assert chart_flow.unread == [(10, "通知客服")], "a box nothing leads to is reported by its row"


def test_a_var_made_from_a_base_url_never_takes_a_captured_name() -> None:
    text = (
        "# Orders\n\n## Roll back\n\n```bash\n# which build\nORDERS=$(cat /srv/orders/BUILD)\n"
        "# undo it\ncurl -X POST https://orders.example.com/undo/$ORDERS\n"
        "# check\ncurl https://orders.example.com/health\n```\n"
    )
    runbook = finish(build(text, "o.md").runbook)
    steps = runbook["plans"]["plan-1"]["steps"]
    (captured,) = [name for s in steps for name in s.get("capture", {})]
    assert captured == "orders" and "orders" not in runbook["vars"], runbook["vars"]
    (base,) = runbook["vars"]
    assert runbook["vars"][base] == "https://orders.example.com"
    assert steps[1]["url"] == f"{{{{ {base} }}}}/undo/{{{{ orders }}}}"
    assert load_text(tomli_w.dumps(runbook), "o.toml").ok
