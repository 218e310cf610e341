"""Seed 003 (数据库回滚计划 - 积分系统) → runbooks/credit-db-rollback.toml.

The content tests check what the document says survived; the lab tests run the document's
Stage 1 and its rollback SQL against a real PostgreSQL, through the real engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.seed_support import RUNBOOKS, dry_run, load_seed, walk
from tui.engine.api import ActionResult
from tui.runbook.model import GitAction, LocalAction, NotifyAction, SqlAction

FILE = "credit-db-rollback.toml"
PRODUCTION_DSN = "postgresql://prod@127.0.0.1:1/watermark_remover"  # nothing listens there
DB = "watermark_remover"  # the document's ALTER DATABASE names it, so the lab database is called so too


@pytest.fixture(scope="module")
def rb():
    return load_seed(FILE)


def test_three_stages_with_triggers_windows_and_authority(rb) -> None:
    stages = {s.level: s for s in rb.severity}
    assert stages["Stage 1"].conditions == ["核心功能完全失效", "数据丢失或损坏", "支付系统故障"]
    assert stages["Stage 2"].conditions == ["转化率下降 >30%", "错误率上升 >10%", "客户投诉激增"]
    assert stages["Stage 3"].conditions == ["业务指标未达预期", "用户反馈负面", "非关键问题累积"]
    assert [s.decider for s in rb.severity] == [
        "Level 1 (即时): DevOps团队",
        "Level 2 (计划): 技术负责人",
        "Level 3 (延迟): CTO批准",
    ]
    assert [(s.respond_within, s.plan) for s in rb.severity] == [("15m", "stage1"), ("2h", "stage2"), ("24h", "stage3")]
    assert {p: rb.plans[p].target_minutes for p in ("quick", "stage1", "stage2", "stage3")} == {
        "quick": 15,
        "stage1": 15,
        "stage2": 120,
        "stage3": 1440,
    }


def test_decision_matrix_rows_and_flowchart(rb) -> None:
    rows = [(r.situation, r.level, r.within, r.strategy) for r in rb.matrix]
    assert rows == [
        ("积分计算错误", "🔴 严重", "立即", "完全回滚"),
        ("用户无法使用功能", "🔴 严重", "15分钟内", "完全回滚"),
        ("支付处理失败", "🔴 严重", "30分钟内", "完全回滚"),
        ("性能下降>50%", "🟡 中等", "2小时内", "部分回滚"),
        ("UI显示问题", "🟢 轻微", "24小时内", "热修复"),
    ]
    assert rb.matrix[-1].plan is None  # a hotfix is not a rollback
    assert walk(rb, "积分计算错误", "🚨 紧急回滚程序").plan == "quick"
    assert walk(rb, "用户无法使用功能", "Stage 1").plan == "stage1"
    assert walk(rb, "转化率下降").plan == "stage2"
    assert walk(rb, "性能下降>50%").plan == "app"
    assert walk(rb, "UI显示问题").action == "observe"
    assert walk(rb, "业务指标未达预期").plan == "stage3"


def test_quick_commands(rb) -> None:
    steps = rb.plans["quick"].steps
    assert [s.run for s in steps if isinstance(s, LocalAction)] == [
        "kubectl --context {{ kube_context }} scale deployment {{ deployment }} --replicas=0",
        'psql "$DATABASE_URL" -v ON_ERROR_STOP=1 < {{ rollback_sql }}',
        "npm run build",
        "kubectl --context {{ kube_context }} scale deployment {{ deployment }} --replicas={{ replicas }}",
    ]
    checkout = next(s for s in steps if isinstance(s, GitAction))
    assert checkout.checkout and checkout.tag == "{{ pre_migration_tag }}"
    assert (rb.vars["pre_migration_tag"], rb.vars["replicas"]) == ("pre-credit-migration-v1", 3)
    assert rb.vars["rollback_sql"] == "src/db/migrations/0003_rollback_credit_system.sql"
    assert steps[0].confirm and steps[1].confirm


def test_stage_steps_carry_the_documents_sql_and_commands(rb) -> None:
    stage1 = {s.id: s for s in rb.plans["stage1"].steps}
    assert stage1["read_only"].query == "ALTER DATABASE watermark_remover SET default_transaction_read_only = true;"
    assert stage1["verify_rollback"].query == "SELECT * FROM verify_rollback();"
    assert "default_transaction_read_only = false" in stage1["read_write"].run
    stage2 = {s.id: s for s in rb.plans["stage2"].steps}
    assert '"message": "系统维护中，预计30分钟恢复", "type": "maintenance"' in stage2["maintenance_notice"].run
    assert stage2["backup"].run.startswith(
        'pg_dump "$DATABASE_URL" > backup_before_rollback_$(date +%Y%m%d_%H%M%S).sql'
    )
    assert stage2["vercel_rollback"].run == "vercel rollback --to {{ vercel_target }}"
    assert [stage2["e2e"].run, stage2["integration"].run] == ["npm run test:e2e", "npm run test:integration"]
    assert [s.title for s in rb.plans["stage3"].steps] == [
        "1. 数据分析和影响评估",
        "2. 制定详细回滚计划",
        "3. 通知所有利益相关者",
        "4. 在低峰期执行回滚",
        "5. 全面测试和监控",
    ]
    sqlfix = [s.query for s in rb.plans["sqlfix"].steps]
    assert 'CREATE TABLE "credit_packages"' in sqlfix[0] and 'CREATE TABLE "credit_purchases"' in sqlfix[0]
    assert "WITH purchase_history AS" in sqlfix[1] and "WHERE created_at >= '2024-01-01'" in sqlfix[1]
    assert "WHEN plan_id = 'pro_yearly' THEN 400" in sqlfix[2]


def test_verification_queries_and_thresholds(rb) -> None:
    # The schema's own verifications test the rolled-back state: plan sqlfix's, never pre-checks.
    post = {v.id: v for v in rb.plans["sqlfix"].verify}
    assert not {"tables_exist", "integrity_report", "fk_constraints"} & {c.id for c in rb.checks}
    tables = post["tables_exist"]
    assert isinstance(tables, SqlAction) and tables.expect_rows == 2
    assert "AND table_name IN ('credit_packages', 'credit_purchases');" in tables.query
    assert "as balance_mismatches" in post["integrity_report"].query
    assert "tc.constraint_type = 'FOREIGN KEY'" in post["fk_constraints"].query
    assert rb.check("balance_accuracy").expect_value == 0
    assert rb.check("transaction_failure_rate").expect_value == "<= 0.05"
    assert rb.check("api_latency").expect_max_ms == 100
    monitors = {m.id: (m.condition, m.severity, m.action, m.check) for m in rb.monitors}
    # The document's alerts (critical: discrepancy_count > 10; high: failure_rate > 0.05) are live
    # prometheus monitors suggesting the stage whose trigger they are (data corrupted: Stage 1).
    assert monitors["credit_balance_mismatch"] == ("> 10", "Stage 1", "page_oncall", "balance_accuracy")
    assert monitors["transaction_failure_rate"][:3] == ("> 0.05", "Stage 2", "email_team")
    live = {m.id: m.query for m in rb.monitors if m.live}
    assert live["credit_balance_mismatch"] == 'credit:balance_discrepancy:count{service="{{ prom_service }}"}'
    assert live["conversion"] == 'service:conversion_drop:ratio{service="{{ prom_service }}"}'
    assert {m.id: m.condition for m in rb.monitors if m.live}["conversion"] == "> 0.3"
    assert monitors["rollback_verification_failed"][:3] == ("any_check_failed", "critical", "block_deployment")


def test_checklists_templates_contacts(rb) -> None:
    post = [i if isinstance(i, str) else i.text for i in rb.checklists.post]
    assert len(post) == 17
    assert "性能指标：错误率 <0.1%" in post and "性能指标：数据库查询时间 <50ms" in post
    assert rb.checklists.followup == [
        "完整的事后分析报告",
        "更新部署流程文档",
        "改进测试覆盖率",
        "制定新的迁移计划",
        "团队复盘会议",
        "更新监控和告警",
        "客户满意度调查",
    ]
    before, after = rb.template("before_rollback"), rb.template("after_rollback")
    assert before.title == "系统维护通知 - 积分系统临时调整"
    assert "我们将在接下来的30分钟内进行系统维护，以优化积分系统体验。" in before.body
    assert "作为补偿，我们已向您的账户赠送50积分。" in after.body
    notices = [s for s in rb.plans["stage2"].steps if isinstance(s, NotifyAction)]
    assert [n.template for n in notices] == ["internal_start", "before_rollback", "after_rollback"]
    assert notices[-1].confirm  # users hear "restored" only once the operator says so
    assert [c.role for c in rb.contacts[:4]] == ["数据库管理员", "后端负责人", "DevOps", "产品经理"]
    assert all(c.phone == "+86-xxx-xxxx" for c in rb.contacts[:4])
    assert rb.secrets["database_url"].env == "DATABASE_URL"


@pytest.mark.parametrize("plan", ["quick", "stage1", "stage2", "stage3", "sqlfix", "app"])
def test_every_plan_dry_runs_with_nothing_reachable(plan: str, tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql://nobody:dry-run-secret@127.0.0.1:1/none",
        "NOTIFICATION_API": "http://127.0.0.1:1/",
    }
    done = dry_run(RUNBOOKS / FILE, tmp_path, ["run", "--plan", plan, "--var", "reason=演练"], env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "dry-run-secret" not in done.stdout


# --- against a real PostgreSQL ---------------------------------------------------------------

SCHEMA = """
CREATE TABLE "user" (id text PRIMARY KEY);
CREATE TABLE user_credits (
  user_id text PRIMARY KEY REFERENCES "user"(id),
  balance integer NOT NULL,
  monthly_allocation integer NOT NULL,
  spent_credits integer NOT NULL DEFAULT 0
);
CREATE TABLE credit_transactions (
  id serial PRIMARY KEY,
  user_id text NOT NULL REFERENCES "user"(id),
  type text NOT NULL,
  amount integer NOT NULL,
  status text NOT NULL DEFAULT 'completed',
  created_at timestamp NOT NULL DEFAULT now()
);
CREATE TABLE subscription_credit_config (plan_id text PRIMARY KEY, monthly_credits integer NOT NULL);
CREATE FUNCTION verify_rollback() RETURNS TABLE (check_name text, passed boolean) LANGUAGE sql AS $$
  SELECT 'credit_packages', to_regclass('public.credit_packages') IS NOT NULL
  UNION ALL SELECT 'credit_purchases', to_regclass('public.credit_purchases') IS NOT NULL
$$;
INSERT INTO "user" VALUES ('u1'), ('u2');
INSERT INTO user_credits VALUES ('u1', 40, 10, 20), ('u2', 300, 300, 0);
INSERT INTO credit_transactions (user_id, type, amount, created_at) VALUES
  ('u1', 'purchased', 50, '2024-06-01'), ('u1', 'spent', -20, '2024-06-02');
INSERT INTO subscription_credit_config VALUES ('free', 5), ('pro', 200), ('lifetime', 800);
"""


@contextlib.contextmanager
def credit_database(pg) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The database as the simplified credit system (migration 0003) left it, then dropped."""
    import psycopg

    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB}")
    with psycopg.connect(pg.dsn(DB), autocommit=True) as conn:
        conn.execute(SCHEMA)
    yield pg.dsn(DB)
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")


@pytest.fixture
def credit_db(pg) -> Iterator[str]:
    with credit_database(pg) as dsn:
        yield dsn


@pytest.fixture
def app_repo(tmp_path: Path, rb) -> Path:
    """The application checkout: the rollback migration is the document's SQL, tagged as before."""
    repo = tmp_path / "watermark-remover"
    migration = repo / rb.vars["rollback_sql"]
    migration.parent.mkdir(parents=True)
    migration.write_text("\n".join(s.query for s in rb.plans["sqlfix"].steps), encoding="utf-8")

    def git(*argv: str) -> None:
        subprocess.run(["git", "-C", str(repo), *argv], check=True, capture_output=True, timeout=30)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=lab", "-c", "user.email=lab@localhost", "commit", "-q", "-m", "credit system v1")
    git("tag", rb.vars["pre_migration_tag"])
    return repo


def _run(plan: str, repo: Path) -> tuple[bool, str, list[ActionResult]]:
    """The plan's steps then its verification, through the engine (pre-checks are not part of
    this: they are the operator's decision to go on, tested elsewhere)."""
    from tui.engine.api import StartOptions
    from tui.engine.session import Session

    options = StartOptions(
        operator="lab", reason="lab", values={"reason": "lab", "app_repo": str(repo)}, profile="lab", yes=True
    )

    async def go() -> tuple[bool, str, list[ActionResult]]:
        session = Session.start(load_seed(FILE), str(RUNBOOKS / FILE), options)
        try:
            await session.choose_plan(plan)
            ok = await session.run_plan()
            return ok, session.stop_reason, await session.verify() if ok else []
        finally:
            await session.end()

    return asyncio.run(go())


@pytest.fixture
def lab_env(credit_db: str, monkeypatch: pytest.MonkeyPatch) -> str:
    # The lab profile reads its own names; production's point nowhere, so a lab run that
    # touched them would fail rather than pass.
    monkeypatch.setenv("LAB_DATABASE_URL", credit_db)
    monkeypatch.setenv("LAB_NOTIFICATION_API", "http://127.0.0.1:1/")
    monkeypatch.setenv("DATABASE_URL", PRODUCTION_DSN)
    monkeypatch.setenv("NOTIFICATION_API", "http://127.0.0.1:2/production")
    return credit_db


def test_stage1_rolls_back_a_real_database(lab_env: str, app_repo: Path) -> None:
    import psycopg

    ok, why, verified = _run("stage1", app_repo)
    assert ok, why
    assert [(r.id, r.status) for r in verified] == [
        ("writable", "ok"),
        ("tables_exist", "ok"),
        ("negative_balances", "ok"),
        ("balance_accuracy", "ok"),
    ]
    with psycopg.connect(lab_env) as conn:
        assert conn.execute("SHOW default_transaction_read_only").fetchone() == ("off",)
        snapshots = conn.execute(
            "SELECT tablename FROM pg_tables WHERE tablename ~ '^(user_credits|credit_transactions)_backup_[0-9]{8}_[0-9]{6}$'"
        ).fetchall()
        assert len(snapshots) == 2
        assert conn.execute("SELECT to_regclass('public.credit_packages') IS NOT NULL").fetchone() == (True,)
        credits = dict(conn.execute("SELECT user_id, purchased_credits FROM user_credits").fetchall())
        assert credits == {"u1": 50, "u2": 0}
        config = dict(conn.execute("SELECT plan_id, monthly_credits FROM subscription_credit_config").fetchall())
        assert config == {"free": 10, "pro": 300, "lifetime": 1000}


def test_rollback_sql_plan_on_a_real_database(lab_env: str, app_repo: Path) -> None:
    import psycopg

    ok, why, verified = _run("sqlfix", app_repo)
    assert ok, why
    assert [(r.id, r.status) for r in verified] == [
        ("tables_exist", "ok"),
        ("integrity_report", "ok"),
        ("fk_constraints", "ok"),
        ("free_plan_credits", "ok"),
    ]
    with psycopg.connect(lab_env) as conn:
        fks = conn.execute(
            "SELECT count(*) FROM information_schema.table_constraints WHERE constraint_type = 'FOREIGN KEY'"
            " AND table_name = 'credit_purchases'"
        ).fetchone()
        assert fks == (2,)


def test_rbconsole_run_of_the_seed_plan_end_to_end_with_its_record(
    lab_env: str, app_repo: Path, tmp_path: Path
) -> None:
    """The operator's command line: pre-checks (in parallel, several on the one database),
    the document's rollback SQL, verification, and the record of what happened."""
    import os
    import sys

    record = tmp_path / "record.md"
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(RUNBOOKS / FILE), "--plan", "sqlfix", "--profile", "lab",
         "--var", f"app_repo={app_repo}", "--var", "reason=积分计算错误", "--yes", "--operator", "值班-王",
         "--record", str(record)],
        capture_output=True, text=True, timeout=180, env={**os.environ, "LAB_DATABASE_URL": lab_env},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    text = record.read_text(encoding="utf-8")
    for expected in ("值班-王", "积分计算错误", "sqlfix", "restore_tables", "restore_config", "fk_constraints"):
        assert expected in text, expected
    assert "| db_reachable |" in text or "db_reachable" in text
    from psycopg.conninfo import conninfo_to_dict

    password = str(conninfo_to_dict(lab_env)["password"])
    assert password and password not in text + done.stdout + done.stderr
