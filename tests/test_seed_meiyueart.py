"""Seed 004 (部署回滚方案) → runbooks/meiyueart-deploy.toml: the document's content survives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.seed_support import RUNBOOKS, actions, dry_run, load_seed, walk
from tui.runbook.model import HttpAction, LocalAction, SshAction, WaitAction

FILE = "meiyueart-deploy.toml"


@pytest.fixture(scope="module")
def rb():
    return load_seed(FILE)


def test_rollback_timing_and_principles(rb) -> None:
    (level,) = rb.severity
    assert level.conditions == [
        "验证测试失败 - 自动化验证脚本测试失败",
        "功能异常 - 推荐人字段无法显示或密码修改功能异常",
        "性能下降 - API响应时间明显变慢",
        "服务不稳定 - 服务频繁崩溃或报错",
        "用户反馈 - 收到用户投诉或异常报告",
    ]
    assert level.respond_within == "15m" and level.plan == "auto"
    assert rb.principles[0] == "快速响应 - 确认问题后立即回滚，不超过15分钟"
    assert "回滚是最后的选择" in rb.principles[-1]


def test_three_plans_with_the_documents_commands(rb) -> None:
    assert {p: rb.plans[p].target_minutes for p in rb.plans} == {"auto": 15, "manual": 15, "emergency": 15}
    assert "优点: 自动化程度高，减少人为错误" in rb.plans["auto"].summary
    auto = {s.id: s for s in rb.plans["auto"].steps}
    assert auto["find_backup"].capture == {"backup": "stdout"}
    assert isinstance(auto["find_backup"], SshAction) and auto["find_backup"].run == "ls -t ~/backups/ | head -1"
    assert isinstance(auto["redeploy"], LocalAction) and auto["redeploy"].run == "./deploy_now.sh"
    assert auto["redeploy"].confirm
    # the captured backup name is what the later copy steps restore from
    assert "{{ backup }}/user_system.py" in auto["fetch_user_system"].run
    assert "{{ backup }}/change_password.py" in auto["fetch_change_password"].run

    manual = [s.id for s in rb.plans["manual"].steps]
    assert manual == [
        "notify_team", "list_backups", "choose_backup", "restore_files", "verify_files",
        "restart", "status", "verify_service",
    ]  # fmt: skip
    restart = rb.plans["manual"].steps[5]
    assert isinstance(restart, SshAction) and restart.sudo and restart.confirm
    assert restart.run == "supervisorctl restart {{ supervisor_program }}"
    assert rb.vars["supervisor_program"] == "lingzhi_admin_backend"

    emergency = rb.plans["emergency"].steps
    wait = next(s for s in emergency if isinstance(s, WaitAction))
    assert wait.seconds == 5  # the document's `sleep 5` before checking the status
    (health,) = rb.plans["emergency"].verify
    assert isinstance(health, HttpAction) and health.url == "{{ site }}/api/health"
    assert rb.vars["site"] == "https://meiyueart.com"


def test_destructive_steps_ask(rb) -> None:
    destructive = [
        (where, action)
        for where, action in actions(rb)
        if isinstance(action, SshAction | LocalAction)
        and (action.run == "./deploy_now.sh" or any(w in action.run for w in ("cp ~/backups", "restart", "stop")))
    ]
    assert len(destructive) == 8
    for where, action in destructive:
        assert action.confirm, f"{where} changes production without asking"


def test_checklists_carry_every_item(rb) -> None:
    pre = [item if isinstance(item, str) else item.text for item in rb.checklists.pre]
    assert pre == [
        "确认需要回滚的问题",
        "已记录问题和现象",
        "已找到最新备份",
        "通知团队成员即将回滚",
        "准备好回滚验证方案",
        "确认回滚时间窗口",
    ]
    assert len(rb.checklists.post) == 10
    tied = {item.text: item.check for item in rb.checklists.post if not isinstance(item, str)}
    assert tied["服务验证：服务状态为 `RUNNING`"] == "service_running"
    assert tied["服务验证：健康检查通过：`curl https://meiyueart.com/api/health`"] == "health"
    assert rb.checklists.followup == ["分析问题原因", "修复问题代码", "测试修复方案", "重新部署", "持续监控"]
    backup = rb.check("latest_backup")
    assert isinstance(backup, SshAction) and "user_system.py" in backup.run and "change_password.py" in backup.run
    assert (
        isinstance(rb.check("deploy_script"), LocalAction)
        and rb.check("deploy_script").run == "test -x ./deploy_now.sh"
    )


def test_flowchart_leads_from_the_problem_to_each_plan(rb) -> None:
    assert walk(rb, "服务不稳定", "无法快速修复", "紧急情况").plan == "emergency"
    assert walk(rb, "验证测试失败", "无法快速修复", "方案1").plan == "auto"
    assert walk(rb, "功能异常", "无法快速修复", "方案2").plan == "manual"
    assert walk(rb, "用户反馈", "能快速修复").action == "observe"
    assert [n.text for n in list(rb.flow.nodes.values())[:3]] == ["发现问题", "评估影响", "确认需要回滚"]


def test_contacts_templates_and_record(rb) -> None:
    assert [(c.role, c.email) for c in rb.contacts] == [
        ("运维团队", "ops@meiyueart.com"),
        ("紧急支持", "emergency@meiyueart.com"),
    ]
    assert "{{ reason }}" in rb.template("rollback_notice").body
    assert "错误日志" in rb.template("emergency_help").body
    assert rb.record.title == "回滚记录"
    assert [s.title for s in rb.record.sections] == [
        "基本信息",
        "回滚原因",
        "回滚过程",
        "回滚验证",
        "回滚结果",
        "后续计划",
        "备注",
    ]
    assert "- [ ] ⚠️ 部分成功" in rb.record.sections[4].body
    flowchart = next(a for a in rb.appendix if "回滚流程图" in a.title).body
    chart = "发现问题 评估影响 确认需要回滚 查找备份 执行回滚 重启服务 验证回滚 记录回滚 分析问题 修复问题 重新部署"
    assert [w for w in flowchart.split() if w != "↓"] == chart.split(" ")
    assert any("0 2 * * * ~/auto_backup.sh" in a.body for a in rb.appendix)


def test_drills_and_profiles(rb) -> None:
    drills = {d.id: d for d in rb.drills}
    assert drills["post-deploy"].setup[0].run == "./deploy_now.sh --dry-run"
    assert drills["unstable-service"].plan == "emergency" and drills["unstable-service"].profile == "staging"
    assert {"staging", "lab"} <= set(rb.profiles)
    assert rb.profiles["staging"].hosts["server"].address == "staging.meiyueart.com"


@pytest.mark.parametrize("plan", ["auto", "manual", "emergency"])
def test_every_plan_dry_runs_with_nothing_reachable(plan: str, tmp_path: Path) -> None:
    done = dry_run(RUNBOOKS / FILE, tmp_path, ["run", "--plan", plan, "--var", "reason=演练"])
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "dry_run" in done.stdout


def test_drill_scenario_dry_runs(tmp_path: Path) -> None:
    done = dry_run(
        RUNBOOKS / FILE, tmp_path, ["drill", "--headless", "--scenario", "unstable-service", "--var", "reason=演练"]
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "supervisorctl stop lingzhi_admin_backend" in done.stdout  # the fault injected on staging
    assert "staging.meiyueart.com" in done.stdout
