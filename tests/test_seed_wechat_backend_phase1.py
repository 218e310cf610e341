"""Seed 001 (阶段一回滚方案) as runbooks/wechat-backend-phase1.toml: the document's content is all there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import seed_support
from tests.lab.seed_app import V2_FLAGS
from tui import cli
from tui.executors.prometheus import Threshold
from tui.runbook.model import (
    ChecklistItem,
    HttpAction,
    NotifyAction,
    PrometheusAction,
    Runbook,
    SshAction,
)
from tui.runbook.placeholders import PLACEHOLDER, Value, render_shell, render_text

PATH = Path(__file__).resolve().parent.parent / "runbooks" / "wechat-backend-phase1.toml"
TEXT = PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rb() -> Runbook:
    return seed_support.load_seed("wechat-backend-phase1.toml")


walk = seed_support.leaf


def items(entries: list) -> list[str]:
    return [e.text if isinstance(e, ChecklistItem) else e for e in entries]


def test_versions_and_owner(rb: Runbook) -> None:
    assert (rb.current_version, rb.target_version) == ("v2.0.0-phase1", "v1.0.0")
    assert (rb.owner, rb.document_version, rb.updated) == ("系统架构组", "1.0.0", "2026-02-27")
    assert "P1-T1 至 P1-T10" in rb.summary


def test_trigger_levels(rb: Runbook) -> None:
    levels = {s.level: s for s in rb.severity}
    assert list(levels) == ["P0", "P1", "P2"]
    assert levels["P0"].conditions == [
        "超过 50% 用户无法使用诊断功能",
        "系统完全不可用（API 无响应）",
        "数据丢失或损坏",
        "安全漏洞被利用",
    ]
    assert "20-50% 用户遇到诊断卡死" in levels["P1"].conditions
    assert "性能严重下降（响应时间>5 分钟）" in levels["P1"].conditions
    assert "偶发性错误（错误率<1%）" in levels["P2"].conditions
    assert [levels[k].action for k in levels] == ["rollback", "pause", "observe"]
    assert [levels[k].decider for k in levels] == ["CTO 或技术总监", "技术总监", "后端负责人"]
    assert [levels[k].respond_within for k in levels] == ["< 5m", "< 15m", "< 1h"]
    assert levels["P0"].plan == "A"
    assert levels["P2"].plan is None


def test_flowchart_leads_to_plans(rb: Runbook) -> None:
    assert walk(rb, "P0") == ("p0", "A", None)
    assert walk(rb, "P1", "严重", "方案 B")[1] == "B"
    assert walk(rb, "P1", "严重", "方案 C")[1] == "C"
    assert walk(rb, "P1", "可修复")[2] == "observe"
    assert walk(rb, "P2")[2] == "observe"


def test_plan_targets_and_when(rb: Runbook) -> None:
    assert {k: p.target_minutes for k, p in rb.plans.items()} == {"A": 1, "B": 10, "C": 30}
    assert rb.plans["A"].title == "方案 A：特性开关回滚（最快，<1 分钟）"
    assert rb.plans["A"].when == ["问题由 v2 新功能引起", "v1 代码仍然存在于系统中", "需要快速恢复服务"]
    assert rb.plans["B"].when == ["特性开关回滚无效", "v1 和 v2 代码不共存", "需要完全恢复到 v1.0.0"]
    assert rb.plans["C"].when == ["数据库结构已变更且不兼容", "数据损坏需要恢复", "其他方案无效"]
    assert [(m.plan, m.within) for m in rb.matrix] == [("A", "<1 分钟"), ("B", "<10 分钟"), ("C", "<30 分钟")]


def test_plan_a_turns_every_v2_flag_off_with_the_secret_key(rb: Runbook) -> None:
    step = next(s for s in rb.plans["A"].steps if s.id == "flags_off")
    assert isinstance(step, HttpAction)
    assert step.method == "POST" and step.confirm
    assert step.url == "{{ admin_api }}/api/admin/feature-flags"
    assert step.headers["X-Admin-Key"] == "{{ admin_key }}"
    assert rb.secrets["admin_key"].env == "WECHAT_BACKEND_ADMIN_KEY"
    assert "YOUR_ADMIN_KEY" not in TEXT
    assert step.json_body == dict.fromkeys(V2_FLAGS, False)  # the lab app's flags are the document's


def test_plan_b_checks_out_the_tag_and_restarts(rb: Runbook) -> None:
    steps = {s.id: s for s in rb.plans["B"].steps}
    checkout, restart = steps["checkout"], steps["restart"]
    assert isinstance(checkout, SshAction) and isinstance(restart, SshAction)
    scope = {"app_dir": Value("/data/app/wechat-backend", True), "target_version": Value("v1.0.0", True)}
    assert render_shell(checkout.run, scope) == "cd /data/app/wechat-backend && git checkout v1.0.0"
    assert checkout.confirm and restart.confirm and restart.sudo
    assert restart.run == "systemctl restart {{ unit }}" and rb.vars["unit"] == "wechat-backend"
    version = steps["version"]
    assert isinstance(version, HttpAction)
    assert version.expect_json == {"version": "{{ target_version }}"}


def test_plan_c_backs_up_before_restoring(rb: Runbook) -> None:
    ids = [s.id for s in rb.plans["C"].steps]
    assert ids.index("stop") < ids.index("backup_current") < ids.index("restore") < ids.index("start")
    steps = {s.id: s for s in rb.plans["C"].steps}
    assert all(steps[i].confirm for i in ("stop", "restore"))
    restore = steps["restore"]
    assert isinstance(restore, SshAction)
    assert restore.run == "cd {{ backup_dir }} && ./rollback_database.sh --restore latest"
    backup = steps["backup_current"]
    assert isinstance(backup, SshAction)
    assert "pre_rollback_backup_$(date +%Y%m%d_%H%M%S).db" in backup.run
    # "或者手动执行": the by-hand copy runs only when the script failed, and the plan goes on past the script
    manual = steps["restore_manual"]
    assert isinstance(manual, SshAction) and manual.run == "cp {{ latest_backup }} {{ db_path }}"
    assert manual.when == "steps.restore.failed" and manual.confirm
    assert restore.on_failure == "continue"
    assert steps["pick_backup"].capture == {"latest_backup": "stdout"}


def test_verification_items_per_plan(rb: Runbook) -> None:
    titles = {k: [v.title for v in p.verify] for k, p in rb.plans.items()}
    assert titles["A"][:4] == [
        "v1 API 可以正常发起诊断",
        "诊断任务可以正常完成",
        "报告可以正常获取",
        "错误率下降到正常水平",
    ]
    assert titles["B"] == ["服务启动成功", "版本号显示 v1.0.0", "v1 API 功能正常", "监控指标正常"]
    assert titles["C"][:3] == ["数据库恢复成功", "数据完整性验证通过", "服务启动成功"]
    assert all(t.startswith("所有功能正常") for t in titles["C"][3:])


def test_execution_id_is_captured_for_status_and_report(rb: Runbook) -> None:
    start, status, report = rb.plans["A"].verify[:3]
    spec = start.capture["exec_id"]
    assert spec.startswith("regex:")
    pattern = re.compile(spec.removeprefix("regex:"))
    assert pattern.search('{"execution_id": "e-42", "status": "queued"}').group(1) == "e-42"
    assert pattern.search('{"data": {"id": 7}}').group(1) == "7"
    assert "{{ exec_id }}" in status.url and status.url.endswith("/status")
    assert "{{ exec_id }}" in report.url and report.url.endswith("/report")


def test_prechecks_test_what_the_document_asks(rb: Runbook) -> None:
    checks = {c.id: c for c in rb.checks}
    recent = checks["backup_recent"]
    assert isinstance(recent, SshAction)
    assert "-mmin -1440" in recent.run and "'diagnosis_*.db'" in recent.run and "-size +0c" in recent.run
    scripts = checks["scripts"]
    assert isinstance(scripts, SshAction)
    for script in ("rollback_database.sh", "rollback_code.sh"):
        assert f"test -x {{{{ rollback_scripts }}}}/{script}" in scripts.run
    assert "rollback_feature_flags.py" in scripts.run
    version = checks["version"]
    assert isinstance(version, HttpAction) and version.expect_json == {"version": "{{ current_version }}"}
    health = checks["health"]
    assert isinstance(health, HttpAction) and health.expect_json == {"status": "healthy"}
    assert health.severity == "warning"  # a P0 outage must not block its own rollback
    assert checks["target_tag"].severity == "blocking"


@pytest.mark.parametrize(
    ("check_id", "good", "bad"),
    [
        ("metric_error_rate", 0.004, 0.02),
        ("metric_response_time", 1.5, 2.5),
        ("metric_cpu", 0.65, 0.75),
        ("metric_memory", 0.795, 0.80),
    ],
)
def test_monitoring_thresholds(rb: Runbook, check_id: str, good: float, bad: float) -> None:
    check = rb.check(check_id)
    assert isinstance(check, PrometheusAction) and check.url == "{{ prometheus }}"
    assert check.query.endswith('{service="{{ prom_service }}"}')
    assert Threshold.parse(check.expect).met(good)
    assert not Threshold.parse(check.expect).met(bad)
    assert any(m.check == check_id for m in rb.monitors)


def test_live_monitors_suggest_the_documents_levels(rb: Runbook) -> None:
    live = {m.id: (m.condition, m.severity) for m in rb.monitors if m.live}
    assert live["users_p0"] == ("> 0.5", "P0")  # 超过 50% 用户无法使用诊断功能
    assert live["users_p1"] == ("> 0.2", "P1")  # 20-50% 用户遇到诊断卡死
    assert live["users_p2"] == ("> 0.05", "P2")  # 5-20% 用户遇到非核心功能问题
    assert live["response_time"] == ("> 300", "P1")  # 响应时间>5 分钟
    assert live["cpu"] == ("> 0.7", "") and live["memory"] == ("> 0.8", "")  # shown, suggest nothing


def test_checklists(rb: Runbook) -> None:
    assert len(rb.checklists.pre) == 8
    assert items(rb.checklists.post)[4:13] == [
        "错误率 < 1%",
        "响应时间 < 2 秒",
        "CPU 使用率 < 70%",
        "内存使用率 < 80%",
        "数据库连接正常",
        "Redis 连接正常",
        "内部测试账号可以正常使用",
        "抽样用户回访确认功能正常",
        "客服无异常反馈",
    ]
    assert items(rb.checklists.followup)[:7] == [
        "问题根因分析完成",
        "影响范围评估完成",
        "修复方案已制定",
        "测试用例已补充",
        "监控告警已完善",
        "文档已更新",
        "团队已同步",
    ]
    tied = {e.text: e.check for e in rb.checklists.pre if isinstance(e, ChecklistItem)}
    assert tied["确认有最近 24 小时内的备份"] == "backup_recent"
    assert tied["检查脚本执行权限"] == "scripts"


def test_contacts(rb: Runbook) -> None:
    people = [(c.role, c.name, c.phone, c.chat, c.email) for c in rb.contacts[:5]]
    assert people[0] == ("CTO", "张三", "138****0000", "微信 zhang3", "zhang3@example.com")
    assert [p[0] for p in people] == ["CTO", "技术总监", "后端负责人", "运维负责人", "产品经理"]
    assert rb.contacts[5].role == "紧急联系群"


def test_notice_template_renders_every_field(rb: Runbook) -> None:
    template = rb.template("rollback_notice")
    assert template is not None
    names = {m.group(1) for m in PLACEHOLDER.finditer(template.body)}
    scope = {name: Value(f"<{name}>") for name in names}
    text = render_text(template.body, scope)
    for line in (
        "【回滚通知】",
        "时间：<now>",
        "原因：<reason>",
        "影响：<impact>",
        "回滚方案：<plan_title>",
        "负责人：<operator>",
    ):
        assert line in text
    for plan in rb.plans.values():
        first = plan.steps[0]
        assert isinstance(first, NotifyAction) and first.template == "rollback_notice"


def test_retrospective_template(rb: Runbook) -> None:
    sections = {s.title: s.body for s in rb.record.retrospective}
    assert list(sections) == ["基本信息", "时间线", "根因分析", "改进措施", "行动计划", "复盘会议"]
    assert "- 回滚时间：YYYY-MM-DD HH:MM" in sections["基本信息"]
    assert "- HH:MM - 服务恢复" in sections["时间线"]
    assert "| 措施 | 负责人 | 截止日期 | 状态 |" in sections["行动计划"]
    assert "回滚后 24 小时内" in sections["复盘会议"] and "5. 行动计划制定" in sections["复盘会议"]


def test_drills_and_profiles(rb: Runbook) -> None:
    assert {d.plan: d.target_minutes for d in rb.drills} == {"A": 1, "B": 10, "C": 30}
    assert all(d.profile == "staging" for d in rb.drills)
    for name in ("staging", "lab"):
        profile = rb.profiles[name]
        assert profile.vars["api"] != rb.vars["api"]
        assert profile.hosts["backend"].address != rb.hosts["backend"].address


def test_appendix(rb: Runbook) -> None:
    appendix = {a.title: a.body for a in rb.appendix}
    assert "sudo systemctl restart wechat-backend" in appendix["A. 常用命令速查"]
    assert "| 回滚脚本 | /data/app/wechat-backend/scripts/rollback |" in appendix["B. 相关文件位置"]
    assert "| 1.0.0 | 2026-02-27 | 初始版本 | 系统架构组 |" in appendix["C. 版本历史"]
    assert "文档审批" in appendix
    diagram = appendix["回滚决策流程（原图）"]
    assert all(word in diagram for word in ("发现问题", "问题分级", "暂停灰度", "可修复", "执行回滚方案", "复盘"))


@pytest.mark.parametrize("plan", ["A", "B", "C"])
def test_every_plan_drills_in_dry_run(
    rb: Runbook, plan: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no host reachable: a dry run resolves every command, request and placeholder
    (captured values excepted: nothing ran to capture them) and never prints a secret."""
    monkeypatch.setenv("WECHAT_BACKEND_ADMIN_KEY", "admin-key-that-must-not-show")
    argv = ["drill", str(PATH), "--plan", plan, "--headless", "--dry-run", "--yes", "--reason", "drill"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    unresolved = set(re.findall(r"cannot resolve: ([^)\n]*)", out))
    assert unresolved <= {"no value for {{ exec_id }}", "no value for {{ latest_backup }}"}
    assert "admin-key-that-must-not-show" not in out
    for step in rb.plans[plan].steps:
        assert f"{step.id}: {step.title}" in out
