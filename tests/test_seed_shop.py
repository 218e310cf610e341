"""Seed 002 (电商系统回滚预案) → runbooks/shop-rollback.toml: the document's content survives."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.seed_support import RUNBOOKS, actions, dry_run, load_seed, walk
from tui.runbook.model import GitAction, HttpAction, ManualAction, SshAction

FILE = "shop-rollback.toml"
SECRET = {"SHOP_TEST_PASSWORD": "lab-password-not-real"}


@pytest.fixture(scope="module")
def rb():
    return load_seed(FILE)


def test_trigger_levels(rb) -> None:
    severe, warning = rb.severity
    assert severe.name == "严重级别触发条件（立即回滚）" and severe.action == "rollback"
    assert severe.conditions == [
        "核心业务功能（登录、注册、下单、支付等）完全不可用",
        "系统出现数据丢失或数据损坏",
        "严重安全漏洞被发现",
        "系统响应时间超过10秒，导致大部分用户无法正常使用",
        "服务崩溃或无法启动",
    ]
    assert warning.name == "警告级别触发条件（评估后决定）"
    assert "系统性能明显下降（响应时间增加50%以上）" in warning.conditions and len(warning.conditions) == 4
    assert rb.principles[:3] == [
        "数据一致性: 确保数据完整性和一致性",
        "服务可用性: 快速恢复核心业务功能",
        "用户体验: 最小化对用户的影响",
    ]


def test_decision_process_is_the_flowchart(rb) -> None:
    assert rb.flow.nodes[rb.flow.start].text == "1. 监控系统检测到异常或用户报告问题"
    assert walk(rb, "严重级别", "全部").plan == "full"
    assert walk(rb, "严重级别", "数据库").plan == "db"
    assert walk(rb, "警告级别", "需要回滚", "前端应用").plan == "frontend"
    assert walk(rb, "警告级别", "需要回滚", "配置文件").plan == "config"
    assert walk(rb, "警告级别", "暂不回滚").action == "observe"
    assert rb.flow.nodes["evaluate"].text == "3. 项目负责人评估是否需要回滚"


def test_rollback_sh_is_the_full_plan_step_by_step(rb) -> None:
    runs = [s.run for s in rb.plans["full"].steps if isinstance(s, SshAction)]
    assert runs == [
        "pm2 stop shop-backend",
        'cd {{ backend_dir }} && node scripts/database_backup.js --restore --backup-file "{{ backup_dir }}/db_{{ rollback_version }}.tar.gz"',
        'cd {{ backend_dir }} && git checkout "v{{ rollback_version }}"',
        "cd {{ backend_dir }} && npm ci --production",
        "mv {{ frontend_dir }} {{ frontend_dir }}.rollback",
        'cp -r "{{ backup_dir }}/frontend_{{ rollback_version }}" {{ frontend_dir }}',
        "chown -R www-data:www-data {{ frontend_dir }}",
        "pm2 start shop-backend",
        "pm2 status shop-backend",
    ]
    assert (rb.vars["backend_dir"], rb.vars["frontend_dir"], rb.vars["backup_dir"]) == (
        "/var/www/shop/backend",
        "/var/www/html/shop",
        "/var/backups/shop",
    )
    script = next(a for a in rb.appendix if a.title.startswith("7.1")).body
    assert 'git checkout "v${ROLLBACK_VERSION}"' in script and "set -e" in script


def test_each_area_has_its_plan_and_steps(rb) -> None:
    assert set(rb.plans) == {"full", "db", "backend", "frontend", "config"}
    db = {s.id: s for s in rb.plans["db"].steps}
    assert db["last_backup"].run.endswith("node scripts/database_backup.js --tag pre-rollback")
    assert db["restart_mongodb"].run == "systemctl restart mongodb" and db["restart_mongodb"].host == "db"
    assert isinstance(db["consistency"], ManualAction)
    backend = {s.id: s for s in rb.plans["backend"].steps}
    assert (
        isinstance(backend["confirm_version"], GitAction)
        and backend["confirm_version"].tag == "v{{ rollback_version }}"
    )
    assert backend["save_config"].run.endswith("cp -r config/ config.bak/")
    assert backend["restore_config"].run.endswith("cp -r config.bak/* config/")
    frontend = {s.id: s for s in rb.plans["frontend"].steps}
    assert "shop-frontend-{{ rollback_version }}/*" in frontend["restore"].run
    assert frontend["cdn"].title == "执行 5. 清除CDN缓存（如有）"
    config = [s.run for s in rb.plans["config"].steps if isinstance(s, SshAction)]
    assert "cd {{ backend_dir }} && cp .env.production.bak .env.production" in config
    assert "nginx -s reload" in config
    for plan in rb.plans.values():
        assert plan.target_minutes and plan.verify


def test_destructive_steps_ask(rb) -> None:
    risky = ("pm2 stop", "--restore", "git checkout", "mv ", "systemctl restart", "cp .env", "cp {{ nginx_dir }}")
    hits = [(w, a) for w, a in actions(rb) if isinstance(a, SshAction) and any(r in a.run for r in risky)]
    assert len(hits) >= 10
    for where, action in hits:
        assert action.confirm, f"{where} is destructive and does not ask"


def test_verification_carries_the_curl_calls(rb) -> None:
    verify = {v.id: v for v in rb.plans["full"].verify}
    assert isinstance(verify["health"], HttpAction) and verify["health"].url == "{{ api }}/api/health"
    login = verify["login"]
    assert isinstance(login, HttpAction) and login.method == "POST" and login.url == "{{ api }}/api/auth/login"
    assert login.json_body == {"email": "{{ test_email }}", "password": "{{ test_password }}"}
    assert rb.secrets["test_password"].env == "SHOP_TEST_PASSWORD"
    assert verify["products"].expect_max_ms == 10000  # the 10-second severe threshold
    assert "test123" not in (RUNBOOKS / FILE).read_text(encoding="utf-8")


def test_checklists(rb) -> None:
    pre = {(i if isinstance(i, str) else i.text): (None if isinstance(i, str) else i.check) for i in rb.checklists.pre}
    assert len(pre) == 10
    assert pre["版本标记: 在版本控制系统中使用明确的标签标记当前生产版本"] == "current_tagged"
    assert pre["回滚脚本: 准备自动化回滚脚本"] == "rollback_script"
    assert rb.check("rollback_script").run == "test -x {{ rollback_script }}"
    assert pre["完整备份: 确保上线前对所有环境进行完整备份"] == "db_backup_recent"
    assert "-mmin -1440" in rb.check("db_backup_recent").run  # a backup within 24 hours
    assert len(rb.checklists.post) == 13
    assert "购物车和结账流程测试" in rb.checklists.post
    assert len(rb.checklists.followup) == 12 and rb.checklists.followup[-1] == "分享经验教训"


def test_responsibility_matrix(rb) -> None:
    assert [(c.role, c.duty) for c in rb.contacts] == [
        ("技术负责人", "回滚决策、全程监督"),
        ("后端开发工程师", "后端服务回滚、API验证"),
        ("前端开发工程师", "前端应用回滚、功能验证"),
        ("数据库管理员", "数据库回滚、数据验证"),
        ("运维工程师", "服务器配置、服务重启"),
        ("测试工程师", "全面功能验证、测试报告"),
        ("项目经理", "协调沟通、进度跟踪"),
    ]


def test_drills_monitors_templates_appendix(rb) -> None:
    drills = {d.id: d for d in rb.drills}
    assert drills["db-corruption"].plan == "db" and drills["app-crash"].plan == "backend"
    assert drills["rollback-script"].plan == "full"
    assert all(d.profile == "staging" and d.setup for d in rb.drills)
    monitors = {m.id: m for m in rb.monitors}
    assert monitors["response_time"].check == "products_latency" and monitors["response_time"].condition == "> 10"
    assert monitors["response_time"].live and monitors["response_time"].severity == "严重"
    assert monitors["response_time_increase"].condition == "> 0.5"  # 增加50%以上
    assert monitors["response_time_increase"].severity == "警告"
    assert "{{ rollback_version }}" in rb.template("rollback_start").body
    links = next(a for a in rb.appendix if a.title == "10.2 资源链接").body
    assert "http://monitoring.shop.com" in links and "http://jira.shop.com" in links
    commands = next(a for a in rb.appendix if a.title == "10.1 常用命令参考").body
    assert "pm2 logs shop-backend" in commands


@pytest.mark.parametrize("plan", ["full", "db", "backend", "frontend", "config"])
def test_every_plan_dry_runs_with_nothing_reachable(plan: str, tmp_path: Path) -> None:
    args = ["run", "--plan", plan, "--var", "reason=演练", "--var", "rollback_version=1.4.2"]
    done = dry_run(RUNBOOKS / FILE, tmp_path, args, SECRET)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert SECRET["SHOP_TEST_PASSWORD"] not in done.stdout


def test_drill_scenario_dry_runs_on_staging(tmp_path: Path) -> None:
    args = [
        "drill",
        "--headless",
        "--scenario",
        "db-corruption",
        "--var",
        "reason=演练",
        "--var",
        "rollback_version=1.4.2",
    ]
    done = dry_run(RUNBOOKS / FILE, tmp_path, args, SECRET)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert "shop-staging-db" in done.stdout and "db.products.drop()" in done.stdout
