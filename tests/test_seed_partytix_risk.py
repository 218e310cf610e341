"""Seed 000 (风险评估与回滚方案) as runbooks/partytix-risk.toml: the document's content is all there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import seed_support
from tui import cli
from tui.runbook.model import (
    ChecklistItem,
    GitAction,
    HttpAction,
    LocalAction,
    ManualAction,
    NotifyAction,
    Runbook,
    SshAction,
    WaitAction,
)
from tui.runbook.placeholders import Value, render_shell

PATH = Path(__file__).resolve().parent.parent / "runbooks" / "partytix-risk.toml"
TEXT = PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return seed_support.load_seed("partytix-risk.toml")


walk = seed_support.leaf


def texts(entries: list) -> list[str]:
    return [e.text if isinstance(e, ChecklistItem) else e for e in entries]


def shell(command: str, **values: str) -> str:
    return render_shell(command, {name: Value(text, trusted=True) for name, text in values.items()})


def test_risk_register(rb: Runbook) -> None:
    assert [(r.id, r.level, r.title) for r in rb.risks] == [
        ("R1", "high", "数据库连接中断"),
        ("R2", "high", "认证系统故障"),
        ("R3", "high", "支付系统故障"),
        ("R4", "medium", "API 接口不兼容"),
        ("R5", "medium", "性能下降"),
        ("R6", "medium", "数据一致性问题"),
        ("R7", "low", "环境变量配置错误"),
        ("R8", "low", "监控告警误报"),
    ]
    r1 = rb.risks[0]
    assert r1.description == "前后端分离后，数据库连接配置错误或网络问题导致服务不可用"
    assert (r1.scope, r1.probability, r1.impact) == ("整个系统", "中等", "严重")
    assert r1.prevention == ["数据库连接池配置", "健康检查机制", "自动重连机制", "监控告警"]
    assert [r.probability for r in rb.risks] == ["中等", "低", "中等", "中等", "中等", "低", "高", "中等"]
    assert all(len(r.prevention) == 4 for r in rb.risks)
    assert all(r.plan in rb.plans for r in rb.risks)
    assert len({r.plan for r in rb.risks}) == 8


def test_risk_levels(rb: Runbook) -> None:
    assert [(s.level, s.name, s.conditions) for s in rb.severity] == [
        ("high", "高风险", ["可能导致系统完全不可用"]),
        ("medium", "中风险", ["可能影响部分功能或性能"]),
        ("low", "低风险", ["影响较小，易于修复"]),
    ]
    assert rb.severity[0].plan == "bluegreen"


def test_decision_matrix(rb: Runbook) -> None:
    assert [(m.level, m.scope, m.strategy, m.within, m.owner) for m in rb.matrix] == [
        ("高风险", "整个系统", "零停机回滚", "30分钟", "技术负责人"),
        ("高风险", "核心功能", "零停机回滚", "20分钟", "后端负责人"),
        ("中风险", "部分功能", "渐进式回滚", "15分钟", "功能负责人"),
        ("中风险", "性能问题", "配置调整", "10分钟", "运维负责人"),
        ("低风险", "非核心功能", "热修复", "5分钟", "开发人员"),
    ]
    assert [m.plan for m in rb.matrix] == ["bluegreen", "bluegreen", None, "performance", None]


def test_flowchart(rb: Runbook) -> None:
    assert walk(rb, "高风险", "1.")[1] == "db-connection"
    assert walk(rb, "高风险", "3.")[1] == "payment"
    assert walk(rb, "高风险", "其他", "整个系统")[1] == "bluegreen"
    assert walk(rb, "高风险", "其他", "紧急情况")[1] == "downtime"
    assert walk(rb, "中风险", "6.")[1] == "data-consistency"
    assert walk(rb, "中风险", "其他", "性能问题")[1] == "performance"
    assert walk(rb, "中风险", "其他", "部分功能")[2] == "escalate"
    assert walk(rb, "低风险", "8.")[1] == "alert-noise"
    assert walk(rb, "低风险", "其他")[2] == "observe"
    assert rb.flow is not None
    first = rb.flow.nodes[rb.flow.start]
    assert first.text.startswith("1. 问题发现") and "日志分析" in first.text


def test_plan_targets(rb: Runbook) -> None:
    targets = {k: p.target_minutes for k, p in rb.plans.items()}
    assert targets == {
        "bluegreen": 30,
        "downtime": None,
        "db-connection": 30,
        "auth": 20,
        "payment": 20,
        "api-compat": 15,
        "performance": 10,
        "data-consistency": 15,
        "env-config": 5,
        "alert-noise": 5,
    }
    assert rb.plans["bluegreen"].when[0] == "高可用性要求"
    assert rb.plans["downtime"].when == ["紧急情况"]


def test_zero_downtime_rollback(rb: Runbook) -> None:
    steps = rb.plans["bluegreen"].steps
    assert [s.title for s in steps[1:]] == [
        "1. 准备回滚版本：检出回滚目标",
        "1. 准备回滚版本：构建镜像",
        "2. 蓝绿部署",
        "3. 流量切换",
        "4. 验证服务",
        "5. 清理旧版本",
    ]
    checkout, build, apply, patch, health, cleanup = steps[1:]
    assert isinstance(checkout, GitAction) and checkout.checkout and checkout.ref == "{{ rollback_ref }}"
    assert isinstance(build, LocalAction) and build.run == "docker build -t partytix:rollback ."
    assert isinstance(apply, LocalAction) and apply.run == "kubectl --context {{ kube_context }} apply -f k8s/rollback/"
    assert isinstance(patch, LocalAction)
    assert patch.run == (
        'kubectl --context {{ kube_context }} patch service partytix-frontend -p \'{"spec":{"selector":{"version":"rollback"}}}\''
    )
    assert isinstance(health, HttpAction) and health.url == "{{ frontend_url }}/health"
    assert (
        isinstance(cleanup, LocalAction)
        and cleanup.run == "kubectl --context {{ kube_context }} delete deployment partytix-frontend-old"
    )
    assert all(s.confirm for s in (checkout, apply, patch, cleanup))


def test_downtime_rollback(rb: Runbook) -> None:
    steps = {s.id: s for s in rb.plans["downtime"].steps}
    restore = steps["restore"]
    assert isinstance(restore, SshAction) and restore.confirm
    assert shell(restore.run, deploy_dir="/srv/partytix", old_commit="1a2b3c4") == (
        "cd /srv/partytix && git checkout main && git reset --hard 1a2b3c4"
    )
    wait = steps["wait_up"]
    assert isinstance(wait, WaitAction) and wait.until == "backend_health"
    (smoke,) = rb.plans["downtime"].verify
    assert isinstance(smoke, SshAction) and smoke.run.endswith("npm run test:smoke")


def test_risk_plans_carry_the_documents_commands(rb: Runbook) -> None:
    def runs(plan: str) -> list[str]:
        return [s.run for s in (*rb.plans[plan].steps, *rb.plans[plan].verify) if isinstance(s, SshAction)]

    assert any("git revert --no-edit {{ commit_hash }}" in r for r in runs("db-connection"))
    assert any("docker-compose down && docker-compose up -d" in r for r in runs("db-connection"))
    assert any("docker-compose restart backend" in r for r in runs("auth"))
    assert any("git checkout frontend-api-v1" in r for r in runs("api-compat"))
    assert any("npm run deploy:staging" in r for r in runs("api-compat"))
    assert any("npm run optimize:api-calls" in r for r in runs("performance"))
    assert any("npm run fix:data-consistency" in r for r in runs("data-consistency"))
    assert any("cp .env.example .env.local" in r for r in runs("env-config"))
    assert any("docker-compose restart monitoring" in r for r in runs("alert-noise"))
    assert any("npm run test:alerts" in r for r in runs("alert-noise"))
    clear = next(s for s in rb.plans["auth"].steps if s.id == "clear_cache")
    assert isinstance(clear, ManualAction) and "localStorage.clear()" in clear.instruction
    checkout = rb.plans["payment"].verify[0]
    assert isinstance(checkout, HttpAction)
    assert checkout.json_body == {"event_id": "test", "ticket_type": "general", "quantity": 1}


def test_destructive_steps_ask(rb: Runbook) -> None:
    destructive = ("git revert", "git reset --hard", "docker-compose down", "cp .env.example", "fix:data-consistency")
    for plan in rb.plans.values():
        for step in plan.steps:
            if isinstance(step, SshAction) and any(word in step.run for word in destructive):
                assert step.confirm, step.id


def test_old_secrets_come_from_the_environment(rb: Runbook) -> None:
    assert {name: s.env for name, s in rb.secrets.items()} == {
        "old_supabase_service_role_key": "PARTYTIX_OLD_SUPABASE_SERVICE_ROLE_KEY",
        "old_jwt_secret": "PARTYTIX_OLD_JWT_SECRET",
        "old_stripe_secret_key": "PARTYTIX_OLD_STRIPE_SECRET_KEY",
        "old_stripe_webhook_secret": "PARTYTIX_OLD_STRIPE_WEBHOOK_SECRET",
        "smoke_password": "PARTYTIX_SMOKE_PASSWORD",
    }
    assert "password123" not in TEXT  # the smoke-test password in the document is a secret here
    restart = next(s for s in rb.plans["payment"].steps if s.id == "restore_restart")
    assert isinstance(restart, SshAction)
    assert "STRIPE_SECRET_KEY={{ old_stripe_secret_key }}" in restart.run
    assert "STRIPE_WEBHOOK_SECRET={{ old_stripe_webhook_secret }}" in restart.run


def test_checklists(rb: Runbook) -> None:
    assert texts(rb.checklists.pre) == [
        "确认问题严重程度",
        "评估回滚影响",
        "准备回滚版本",
        "通知相关人员",
        "备份当前状态",
    ]
    assert texts(rb.checklists.during) == [
        "停止相关服务",
        "执行回滚操作",
        "监控回滚过程",
        "验证服务状态",
        "检查数据完整性",
    ]
    assert texts(rb.checklists.post) == ["功能验证", "性能检查", "监控告警", "用户反馈", "文档更新"]
    assert texts(rb.checklists.followup) == ["问题根因分析", "改进措施制定", "文档更新", "经验总结"]
    tied = {e.text: e.check for e in rb.checklists.during if isinstance(e, ChecklistItem)}
    assert tied == {"验证服务状态": "backend_health", "检查数据完整性": "data_consistency"}


def test_contacts(rb: Runbook) -> None:
    assert [(c.role, c.email, c.duty) for c in rb.contacts] == [
        ("技术负责人", "tech-lead@partytix.com", "技术决策、回滚执行"),
        ("业务负责人", "business-lead@partytix.com", "业务影响评估、回滚确认"),
        ("运维负责人", "ops-lead@partytix.com", "系统监控、回滚支持"),
    ]


def test_every_plan_notifies_first(rb: Runbook) -> None:
    for plan in rb.plans.values():
        first = plan.steps[0]
        assert isinstance(first, NotifyAction) and first.template == "rollback_notice"
    template = rb.template("rollback_notice")
    assert template is not None
    for field in (
        "风险等级：{{ severity }}",
        "影响范围：{{ scope }}",
        "回滚策略：{{ plan_title }}",
        "负责人：{{ operator }}",
    ):
        assert field in template.body


def test_monitors_follow_the_prevention_measures(rb: Runbook) -> None:
    monitored = {m.title: m.check for m in rb.monitors}
    assert monitored["健康检查机制"] == "backend_health"
    assert monitored["认证服务监控"] == "auth_login"
    assert monitored["支付状态监控"] == "stripe_webhook"


def test_profiles_drills_and_appendix(rb: Runbook) -> None:
    assert rb.profiles["staging"].hosts["app"].address == "partytix-staging"
    assert rb.profiles["lab"].hosts["app"].address == "alpha"
    assert {d.plan: d.target_minutes for d in rb.drills} == {"bluegreen": 30, "downtime": None}
    appendix = {a.title: a.body for a in rb.appendix}
    assert "4. 回滚执行：通知相关人员、执行回滚操作、监控回滚过程、验证回滚结果" in appendix["应急响应流程"]
    assert "审核状态：✅ 完成" in appendix["文档信息"]


SECRET_ENVS = {
    "PARTYTIX_OLD_SUPABASE_SERVICE_ROLE_KEY": "supabase-key-that-must-not-show",
    "PARTYTIX_OLD_JWT_SECRET": "jwt-secret-that-must-not-show",
    "PARTYTIX_OLD_STRIPE_SECRET_KEY": "stripe-key-that-must-not-show",
    "PARTYTIX_OLD_STRIPE_WEBHOOK_SECRET": "webhook-secret-that-must-not-show",
    "PARTYTIX_SMOKE_PASSWORD": "password-that-must-not-show",
}


@pytest.mark.parametrize(
    "plan",
    [
        "bluegreen",
        "downtime",
        "db-connection",
        "auth",
        "payment",
        "api-compat",
        "performance",
        "data-consistency",
        "env-config",
        "alert-noise",
    ],
)
def test_every_plan_drills_in_dry_run(
    rb: Runbook, plan: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no host reachable: a dry run resolves every command, request and placeholder, and
    the old keys it puts back into the environment never reach the screen."""
    for name, value in SECRET_ENVS.items():
        monkeypatch.setenv(name, value)
    argv = ["drill", str(PATH), "--plan", plan, "--headless", "--dry-run", "--yes", "--reason", "drill"]
    argv += ["--var", "commit_hash=1a2b3c4", "--var", "old_commit=1a2b3c4", "--var", "scope=整个系统"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "cannot resolve" not in out
    assert not [value for value in SECRET_ENVS.values() if value in out]
    for step in rb.plans[plan].steps:
        assert f"{step.id}: {step.title}" in out
