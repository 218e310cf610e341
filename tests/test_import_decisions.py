"""`rbconsole import`: what recurs in the commands becomes `[vars]` (only where the placeholder
lands as the same word), the document's durations become the plan's target time, a value read
from an API with `X=$(curl … | jq)` is an http step's capture, and a prose "when to roll back"
section, threshold tables and nested threshold lists become severity levels, the flowchart's
question and monitors."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from tui.importer.build import build, finish
from tui.runbook.loader import load_text

DOCUMENT = """\
# Payments API rollback

Target version: v2.3.1

## When to Rollback

Roll back immediately if:

- 5xx errors >5% for 5 minutes
- p95 latency > 2s

Do NOT roll back for:

- Cosmetic issues

## Option A: Kubernetes

### 1. Undo (2 min)

```bash
kubectl rollout undo deployment/payments -n payments-prod
kubectl set image deployment/payments api=registry.test/payments:v2.3.1 -n payments-prod
```

### 2. Restart the workers (约 3 分钟)

```bash
sudo systemctl restart payments-worker
ls /srv/payments/releases/v2.3.1
cp /srv/payments/config.yaml /tmp/config.backup
echo $(( 1 + 1 )) >/dev/null
```

### 3. Check (1 min)

```bash
kubectl get pods -n payments-prod -l app=payments

# log in
TOKEN=$(curl -s -X POST https://api.payments.test/login -d '{"user":"qa","password":"hunter2"}' | jq -r .data.token)

# health
curl -H "Authorization: Bearer $TOKEN" https://api.payments.test/v1/health

# files
ls /srv/payments/current
sudo systemctl status payments-worker
```

## Option B: Timeline

### Step 1: Detect (0-5 minutes)

```bash
kubectl rollout history deployment/payments -n payments-prod
```

### Step 2: Undo (5-10 minutes)

```bash
kubectl rollout undo deployment/payments -n payments-prod
```

### Step 3: Confirm (10-15 minutes)

```bash
kubectl rollout status deployment/payments -n payments-prod
```

## Alert thresholds

| Metric | Threshold | Response |
|---|---|---|
| Error rate | >10% | Immediate rollback |
| Error rate | 5-10% | Rollback within 5 min |

- Latency:
  - p99 < 800ms
"""


def _imported() -> tuple[Any, dict[str, Any], str]:
    result = build(DOCUMENT, "payments.md")
    runbook = finish(result.runbook)
    return result, runbook, tomli_w.dumps(runbook, multiline_strings=True)


def test_recurring_literals_become_vars_where_they_land_as_the_same_word() -> None:
    _, runbook, text = _imported()
    assert load_text(text, "payments.toml").ok
    assert runbook["vars"] == {
        "api": "https://api.payments.test",
        "deployment": "payments",
        "namespace": "payments-prod",
        "payments_dir": "/srv/payments",
        "payments_worker_service": "payments-worker",
    }
    undo, image = runbook["plans"]["A"]["steps"][0]["run"].split("\n")
    assert undo == "kubectl rollout undo deployment/{{ deployment }} -n {{ namespace }}"
    assert image == (
        "kubectl set image deployment/{{ deployment }} api=registry.test/payments:{{ target_version }} -n {{ namespace }}"
    ), "the stated target version is its placeholder; 'payments' inside the image name is left alone"
    restart = runbook["plans"]["A"]["steps"][1]["run"].split("\n")
    assert restart[:3] == [
        "sudo systemctl restart {{ payments_worker_service }}",
        "ls {{ payments_dir }}/releases/{{ target_version }}",
        "cp {{ payments_dir }}/config.yaml /tmp/config.backup",
    ]
    assert restart[3] == "echo $(( 1 + 1 )) >/dev/null"


def test_a_var_is_not_made_where_the_shell_would_read_it_differently() -> None:
    source = (
        "# Plan\n\n## Option A\n\n```bash\n"
        "ls /srv/shop-app/releases\n"
        "echo $(( $(cat /srv/shop-app/n) + 1 ))\n"
        "cp /srv/shop-app/*.conf /tmp/\n"
        "```\n"
    )
    runbook = finish(build(source, "x.md").runbook)
    runs = runbook["plans"]["A"]["steps"][0]["run"].split("\n")
    assert "vars" not in runbook or "shop_app_dir" not in runbook["vars"], (
        "used in one step only: a literal says as much as a var"
    )
    assert runs[0] == "ls /srv/shop-app/releases"


def test_durations_of_the_parts_are_the_plans_target_and_a_timeline_is_not_summed() -> None:
    _, runbook, _ = _imported()
    assert runbook["plans"]["A"]["target_minutes"] == 6.0, "2 min + 约 3 分钟 + 1 min"
    assert runbook["plans"]["B"]["target_minutes"] == 15.0, "steps stamped 0-5, 5-10, 10-15: done at 15"


def test_a_value_read_from_an_api_is_an_http_capture_used_by_the_next_request() -> None:
    _, runbook, text = _imported()
    steps = runbook["plans"]["A"]["steps"]
    login = next(s for s in steps if s.get("capture"))
    assert (login["kind"], login["method"], login["url"], login["capture"]) == (
        "http",
        "POST",
        "{{ api }}/login",
        {"token": "json:data.token"},
    )
    assert login["json"] == {"user": "qa", "password": "{{ api_password }}"}
    health = steps[steps.index(login) + 1]
    assert health["headers"] == {"Authorization": "Bearer {{ token }}"}, "a captured value, not a secret"
    assert "hunter2" not in text
    assert set(runbook["secrets"]) == {"api_password"}


def test_a_prose_decision_section_becomes_levels_the_flowchart_asks_about() -> None:
    _, runbook, _ = _imported()
    assert [(s["level"], s["action"], s["conditions"]) for s in runbook["severity"]] == [
        ("rollback", "rollback", ["5xx errors >5% for 5 minutes", "p95 latency > 2s"]),
        ("no-rollback", "observe", ["Cosmetic issues"]),
    ]
    nodes = runbook["flow"]["nodes"]
    level = nodes[nodes[runbook["flow"]["start"]]["next"]]
    assert [o["next"] for o in level["options"]] == ["level-rollback", "level-no-rollback"]
    assert nodes["level-rollback"]["next"] == "choose" and nodes["level-no-rollback"]["action"] == "observe"


def test_thresholds_in_prose_tables_and_nested_lists_become_monitors() -> None:
    _, runbook, _ = _imported()
    found = [(m["metric"], m["condition"], m.get("severity"), m.get("action")) for m in runbook["monitors"]]
    assert found == [
        ("Latency p99", "< 800ms", None, None),
        ("Error rate", "> 10%", None, "Immediate rollback"),
        ("Error rate", ">= 5%", None, "Rollback within 5 min"),
        ("5xx errors", "> 5%", "rollback", "rollback"),
        ("p95 latency", "> 2s", "rollback", "rollback"),
    ]


def test_a_command_reading_a_variable_set_before_it_stays_in_that_shell() -> None:
    source = (
        "# Plan\n\n## Option A\n\n```bash\n"
        "TOKEN=$(cat /run/token)\n"
        'curl -H "Authorization: Bearer $TOKEN" https://api.test/v1/health\n'
        "```\n"
    )
    runbook = finish(build(source, "x.md").runbook)
    (step,) = runbook["plans"]["A"]["steps"]
    assert step["kind"] == "local" and step["run"].endswith('Bearer $TOKEN" https://api.test/v1/health')
    assert "secrets" not in runbook, "$TOKEN is the shell's own variable here, not a secret"


def test_a_constant_set_once_is_written_where_later_steps_read_it() -> None:
    """Each step runs in its own shell: `BACKUP_DIR=…` set in one and read in the next would be
    empty there, so its value (or the param its blank asks for) is written where it is read."""
    source = (
        "# Plan\n\n## Option A\n\n```bash\n"
        'BACKUP_DIR="/var/backups/app/YYYYMMDD_HHMMSS"\n\n'
        '# restore\nsudo cp "$BACKUP_DIR/app.bin" /usr/local/bin/app\n\n'
        '# database\nmysql -u root -p app < "${BACKUP_DIR}/app.sql"\n\n'
        "# where\nAPP=/srv/app\n\n# start\ncd $APP && ./start.sh\n```\n"
    )
    result = build(source, "x.md")
    runbook = finish(result.runbook)
    steps = runbook["plans"]["A"]["steps"]
    assert [s.get("run") or s["instruction"].split("\n")[-1] for s in steps] == [
        'BACKUP_DIR="{{ backup_dir }}"',
        'sudo cp "{{ backup_dir }}/app.bin" /usr/local/bin/app',
        'mysql -u root -p app < "{{ backup_dir }}/app.sql"',
        "APP=/srv/app",
        "cd /srv/app && ./start.sh",
    ]
    assert steps[2]["kind"] == "manual", "mysql -p asks for a password: a manual step, its path filled in"
    assert list(runbook["params"]) == ["reason", "backup_dir"], "one param for the one blank"


def test_a_value_built_from_a_command_is_captured_and_read_by_the_steps_after_it() -> None:
    source = (
        "# Plan\n\n## Option A\n\n```bash\n"
        '# where\nBACKUP_DIR="/var/backups/app/$(date +%Y%m%d)"\nmkdir -p "$BACKUP_DIR"\n\n'
        '# copy\ncp /srv/app/app.bin "$BACKUP_DIR/"\n\n'
        '# dump\nmysqldump -u root -p app > "$BACKUP_DIR/app.sql"\n```\n'
    )
    steps = finish(build(source, "x.md").runbook)["plans"]["A"]["steps"]
    assert [(s["kind"], s.get("run") or s["instruction"].split("\n")[-1], s.get("capture")) for s in steps] == [
        ("local", """printf '%s\\n' "/var/backups/app/$(date +%Y%m%d)\"""", {"backup_dir": "stdout"}),
        ("local", 'mkdir -p "{{ backup_dir }}"', None),
        ("local", 'cp /srv/app/app.bin "{{ backup_dir }}/"', None),
        ("manual", 'mysqldump -u root -p app > "{{ backup_dir }}/app.sql"', None),
    ], "each step has the value in its own shell; mysqldump -p asks for a password"


def test_a_grep_pattern_is_not_taken_for_a_credential() -> None:
    source = (
        "# Plan\n\n## Option A\n\n```bash\n"
        'curl -s http://localhost:8080/login | grep -o \'"token":"[^"]*"\' | cut -d\'"\' -f4\n'
        "```\n"
    )
    runbook = finish(build(source, "x.md").runbook)
    assert runbook["plans"]["A"]["steps"][0]["run"].endswith("""grep -o '"token":"[^"]*"' | cut -d'"' -f4""")
    assert "secrets" not in runbook


def test_the_imported_document_dry_runs_with_its_vars_and_capture(tmp_path: Path) -> None:
    source = tmp_path / "payments.md"
    source.write_text(DOCUMENT, encoding="utf-8")
    out = tmp_path / "payments.toml"
    made = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(source), "-o", str(out)], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stderr
    assert tomllib.loads(out.read_text(encoding="utf-8"))["vars"]["namespace"] == "payments-prod"
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(out), "--plan", "A", "--dry-run", "--yes", "--reason", "test",
         "--var", "namespace=payments-staging"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "== result: DRY RUN" in done.stdout
    assert "kubectl rollout undo deployment/payments -n payments-staging" in done.stdout.replace("'", "")
