"""`rbconsole import PLAN.md`: each seed rollback plan becomes a runbook skeleton that validates and
carries the document's content, and nothing imported runs without asking."""

from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tui.runbook.loader import load

SEEDS = Path(__file__).resolve().parent / "data" / "seeds"  # copies of the five seed documents, as given
SEED_FILES = sorted(SEEDS.glob("*.md"))
importer = importlib.import_module("tui.commands.import")


def run_import(source: Path, out: Path) -> tuple[int, dict[str, Any]]:
    code = importer.main(argparse.Namespace(plan=str(source), output=str(out)))
    return code, tomllib.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("imported")
    found = {}
    for seed in SEED_FILES:
        out = folder / f"{seed.stem[:3]}.toml"
        code, data = run_import(seed, out)
        assert code == 0
        assert load(out).ok, "\n".join(map(str, load(out).problems))
        found[seed.stem[:3]] = data
    return found


def steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for plan in data["plans"].values() for step in plan["steps"]]


def test_there_are_five_seeds() -> None:
    assert len(SEED_FILES) == 5


def test_every_seed_imports_to_a_valid_runbook_in_its_language(imported: dict[str, dict[str, Any]]) -> None:
    assert set(imported) == {"000", "001", "002", "003", "004"}
    titles = {key: data["title"] for key, data in imported.items()}
    assert titles == {
        "000": "风险评估与回滚方案",
        "001": "阶段一回滚方案",
        "002": "电商系统回滚预案",
        "003": "数据库回滚计划 - 积分系统",
        "004": "部署回滚方案",
    }
    for data in imported.values():
        assert len(steps(data)) >= 4


def test_imported_commands_always_ask_unless_they_only_read(imported: dict[str, dict[str, Any]]) -> None:
    read_only = re.compile(
        r"^(curl https?://\S+|(sudo )?systemctl status \S+|pm2 status \S+|git log -1|ls -la \S+|docker-compose ps|"
        r"tail -n 100 \S+)$"
    )
    for data in imported.values():
        for step in steps(data):
            assert step["notes"].startswith("imported from "), step
            if step["kind"] == "local" and not step["confirm"]:
                lines = re.sub(r"\{\{ \w+ \}\}", "VAR", step["run"]).split("\n")  # a var stands for its literal
                assert all(read_only.match(line) for line in lines), step["run"]


def test_blanks_become_params_and_inline_secrets_come_from_the_environment(
    imported: dict[str, dict[str, Any]],
) -> None:
    everything = steps(imported["000"])
    revert = next(s for s in everything if "git revert" in s.get("run", ""))
    assert revert["run"].endswith("\ngit revert {{ commit_hash }}") and revert["confirm"] is True
    assert imported["000"]["params"]["commit_hash"] == {"prompt": "commit-hash"}
    assert not any("<commit-hash>" in s.get("run", "") for s in everything)
    flags = next(s for s in imported["001"]["plans"]["A"]["steps"] if s["title"] == "关闭所有 v2 功能开关")
    assert flags["kind"] == "http" and flags["method"] == "POST" and flags["confirm"] is True
    assert flags["headers"]["X-Admin-Key"] == "{{ admin_key }}"
    assert flags["json"]["diagnosis_v2_enabled"] is False
    assert imported["001"]["secrets"]["admin_key"] == {"env": "ADMIN_KEY"}
    assert "YOUR_ADMIN_KEY" not in str(imported["001"])


def test_seed_000_risks_matrix_contacts_checklists(imported: dict[str, dict[str, Any]]) -> None:
    data = imported["000"]
    assert [r["level"] for r in data["risks"]] == ["high"] * 3 + ["medium"] * 3 + ["low"] * 2
    db = data["risks"][0]
    assert db["title"] == "数据库连接中断" and db["scope"] == "整个系统" and db["impact"] == "严重"
    assert db["prevention"] == ["数据库连接池配置", "健康检查机制", "自动重连机制", "监控告警"]
    assert any(s.get("run") == "docker-compose down\ndocker-compose up -d" for s in data["plans"][db["plan"]]["steps"])
    assert len(data["matrix"]) == 5
    assert data["matrix"][0] == {
        "level": "高风险",
        "scope": "整个系统",
        "strategy": "零停机回滚",
        "within": "30分钟",
        "owner": "技术负责人",
        "plan": "plan-1",
    }
    assert data["plans"]["plan-1"]["title"] == "零停机回滚"
    assert {c["role"]: c["email"] for c in data["contacts"]} == {
        "技术负责人": "tech-lead@partytix.com",
        "业务负责人": "business-lead@partytix.com",
        "运维负责人": "ops-lead@partytix.com",
    }
    lists = data["checklists"]
    assert (len(lists["pre"]), len(lists["during"]), len(lists["post"])) == (5, 5, 5)
    assert lists["pre"][0] == "确认问题严重程度" and lists["during"][-1] == "检查数据完整性"


def test_seed_001_levels_plans_checks_and_words(imported: dict[str, dict[str, Any]]) -> None:
    data = imported["001"]
    assert (data["current_version"], data["target_version"]) == ("v2.0.0-phase1", "v1.0.0")
    p0, p1, p2 = data["severity"]
    assert p0["level"] == "P0" and "数据丢失或损坏" in p0["conditions"] and len(p0["conditions"]) == 4
    assert (p0["decider"], p0["respond_within"], p0["action"]) == ("CTO 或技术总监", "5m", "rollback")
    assert "plan" not in p0, "the document does not say which plan P0 takes: the flowchart asks"
    assert (p1["action"], p1["respond_within"], p2["action"], p2["respond_within"]) == ("pause", "15m", "observe", "1h")
    plans = data["plans"]
    assert {k: (p["title"], p.get("target_minutes")) for k, p in plans.items()} == {
        "A": ("特性开关回滚", 1.0),
        "B": ("代码回滚", 10.0),
        "C": ("数据库回滚", 30.0),
        "plan-1": ("常用命令速查", None),  # the appendix's commands, runnable too
    }
    assert plans["B"]["when"][0] == "特性开关回滚无效"
    checkout = plans["B"]["steps"][0]
    assert (checkout["kind"], checkout["repo"], checkout["ref"], checkout["checkout"], checkout["confirm"]) == (
        "git",
        "{{ wechat_backend_dir }}",
        "{{ target_version }}",
        True,
        True,
    ), "`cd DIR` then `git checkout v1.0.0` (the stated target version) is a git step in DIR (a var: it recurs)"
    health = next(c for c in data["checks"] if c["url"].endswith("/api/health") if c["kind"] == "http")
    assert health["expect_json"] == {"status": "healthy"}
    assert any(c["kind"] == "local" and c["run"] == "ls -la /data/backups/" for c in data["checks"])
    chmod = next(c for c in data["checks"] if "chmod" in c.get("instruction", ""))
    assert chmod["kind"] == "manual", "a pre-check that changes something is not run by itself"
    assert [v["url"] for v in plans["C"]["verify"] if v["kind"] == "http"][:2] == [
        "{{ api }}/api/health",
        "{{ api }}/api/version",
    ], "a base URL several http steps use is a var a profile can change"
    assert data["vars"] == {
        "api": "https://api.example.com",
        "log_wechat_backend_dir": "/var/log/wechat-backend",
        "wechat_backend_dir": "/data/app/wechat-backend",
        "wechat_backend_service": "wechat-backend",
    }, "a base URL, the log and application directories and a service the commands name again and again"
    nodes = data["flow"]["nodes"]

    def go(node: dict[str, Any], label: str | None = None) -> dict[str, Any]:
        target = node["next"] if label is None else next(o["next"] for o in node["options"] if o["label"] == label)
        return nodes[target]

    start = nodes[data["flow"]["start"]]
    assert start["text"] == "发现问题", "the document's own box-drawn flowchart is the flowchart"
    level = go(start)
    assert [o["label"] for o in level["options"]] == ["P0", "P1", "P2"]
    assert go(go(level, "P0"))["text"] == "立即回滚 方案 A" and go(go(level, "P0"))["plan"] == "A"
    pause = go(go(level, "P1"))
    assert pause["text"] == "暂停灰度 技术总监 评估" and [o["label"] for o in pause["options"]] == [
        "严重 回滚",
        "可修复 继续",
    ]
    severe = go(pause, "严重 回滚")
    assert severe["notes"] == "然后 / then: 执行回滚方案 → 验证 → 复盘"
    assert [nodes[o["next"]]["plan"] for o in go(severe)["options"]] == ["A", "B", "C"], "which plan: asked"
    assert go(pause, "可修复 继续")["action"] == "observe" and go(go(level, "P2"))["action"] == "observe"
    assert [c["name"] for c in data["contacts"]] == ["张三", "李四", "王五", "赵六", "钱七"]
    assert "错误率 < 1%" in data["checklists"]["post"]
    assert data["checklists"]["followup"][0] == "问题根因分析完成"
    assert data["templates"][0]["body"].startswith("【回滚通知】")
    assert data["record"]["retrospective"][0]["body"].startswith("# 回滚复盘报告")
    appendix, unplaced = data["appendix"]
    assert unplaced["title"] == "导入时未归类 / not placed by the import"
    assert unplaced["body"].startswith("## P1 级（暂停灰度，评估后回滚）\n< 15 分钟  (001_297adbf4afd44490.md:40)\n")
    assert "回滚决策流程" not in unplaced["body"], "the flowchart is placed in [flow]"
    assert appendix["title"] == "附录" and "sudo systemctl status wechat-backend" in appendix["body"]
    assert "数据库 | /data/staging/diagnosis.db" in appendix["body"]


def test_seed_002_rollback_sections_become_plans(imported: dict[str, dict[str, Any]]) -> None:
    data = imported["002"]
    assert [p["title"] for p in data["plans"].values()][:4] == [
        "数据库回滚",
        "后端服务回滚",
        "前端应用回滚",
        "配置文件回滚",
    ]
    backend = next(p for p in data["plans"].values() if p["title"] == "后端服务回滚")
    restart = next(s for s in backend["steps"] if s.get("run") == "pm2 restart {{ shop_backend_service }}")
    assert data["vars"]["shop_backend_service"] == "shop-backend"
    assert restart["cwd"] == "{{ backend_dir }}" and restart["confirm"] is True, "a working directory that recurs"
    assert data["vars"]["backend_dir"] == "/var/www/shop/backend"
    assert "服务崩溃或无法启动" in data["severity"][0]["conditions"]
    roles = {c["role"]: c.get("duty", "") for c in data["contacts"]}
    assert len(roles) == 7 and roles["数据库管理员"] == "数据库回滚、数据验证"


def test_seed_003_stages_sql_matrix_templates(imported: dict[str, dict[str, Any]]) -> None:
    data = imported["003"]
    assert {k: p.get("target_minutes") for k, p in data["plans"].items() if k.startswith("stage")} == {
        "stage-1": 15.0,
        "stage-2": 120.0,
        "stage-3": 1440.0,
    }
    emergency = data["plans"]["plan-1"]
    assert emergency["title"] == "紧急回滚程序", "the emergency procedure is kept whatever its heading says"
    assert [s["title"] for s in emergency["steps"]] == [
        "立即停止应用服务",
        "执行数据库回滚",
        "切换代码版本",
        "重启服务",
    ]
    first = data["plans"]["stage-1"]["steps"][0]
    assert first["kind"] == "sql" and "default_transaction_read_only = true" in first["query"]
    assert first["dsn_env"] == "DATABASE_URL" and first["confirm"] is True
    assert data["plans"]["stage-1"]["when"] == ["核心功能完全失效", "数据丢失或损坏", "支付系统故障"]
    assert [row["strategy"] for row in data["matrix"]] == ["完全回滚"] * 3 + ["部分回滚", "热修复"]
    assert [t["title"] for t in data["templates"]] == ["回滚前通知", "回滚后通知"]
    assert "系统维护通知" in data["templates"][0]["body"]
    assert len(data["checklists"]["followup"]) == 7
    assert data["contacts"][0] == {"role": "数据库管理员", "phone": "+86-xxx-xxxx"}


def test_seed_004_plans_checklists_record(imported: dict[str, dict[str, Any]]) -> None:
    data = imported["004"]
    assert {k: p["title"] for k, p in data["plans"].items()} == {
        "1": "自动回滚",
        "2": "手动回滚",
        "3": "应急回滚",
        "plan-1": "最佳实践",
    }
    find, restore, deploy = data["plans"]["1"]["steps"]
    assert (find["kind"], find["host"], find["run"], find["capture"]) == (
        "ssh",
        "meiyueart.com",
        "ls -t ~/backups/ | head -1",
        {"backup": "stdout"},
    ), "BACKUP=$(ssh …) becomes a step that captures the value later steps use"
    assert data["hosts"]["meiyueart.com"] == {"address": "meiyueart.com", "user": "user"}
    assert restore["run"].count("{{ backup }}") == 2 and deploy["run"] == "./deploy_now.sh"
    assert data["plans"]["2"]["when"][0] == "验证测试失败 - 自动化验证脚本测试失败", (
        "回滚时机 says when each plan applies"
    )
    assert len(data["checklists"]["pre"]) == 6 and "用户可以正常登录" in data["checklists"]["post"]
    assert data["record"]["sections"][0]["body"].startswith("# 回滚记录")
    assert {"role": "运维团队", "email": "ops@meiyueart.com"} in data["contacts"]
    assert [a["title"] for a in data["appendix"]] == ["最佳实践", "相关文档", "导入时未归类 / not placed by the import"]
    assert data["principles"][0].startswith("快速响应")


def test_a_plan_with_nothing_to_run_still_validates(tmp_path: Path) -> None:
    source = tmp_path / "empty.md"
    source.write_text("# 空白方案\n\n没有命令。{{ nope }}\n", encoding="utf-8")
    code, data = run_import(source, tmp_path / "out.toml")
    assert code == 0 and load(tmp_path / "out.toml").ok
    assert data["plans"]["A"]["steps"][0]["kind"] == "manual"


def test_placeholder_lookalikes_are_neutralised(tmp_path: Path) -> None:
    source = tmp_path / "tpl.md"
    source.write_text(
        "# Plan\n\n## 方案 A：重启（<5 分钟）\n\n```bash\n# 1. restart\ndocker restart {{ name }}\n```\n",
        encoding="utf-8",
    )
    code, data = run_import(source, tmp_path / "out.toml")
    assert code == 0 and load(tmp_path / "out.toml").ok
    step = data["plans"]["A"]["steps"][0]
    assert (step["title"], step["run"], data["plans"]["A"]["target_minutes"]) == (
        "restart",
        "docker restart { {name} }",
        5.0,
    )


def test_the_cli_writes_to_stdout_and_reports_a_missing_file(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(SEED_FILES[4])], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0
    assert tomllib.loads(out.stdout)["title"] == "部署回滚方案"
    assert "imported 4 plan(s)" in out.stderr
    assert out.stderr.startswith(f"{SEED_FILES[4].name}: 9 command(s): 9 runnable, 0 manual")
    missing = subprocess.run(
        [sys.executable, "-m", "tui", "import", str(tmp_path / "nope.md")], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith(f"rbconsole import: cannot read {tmp_path / 'nope.md'}")


def test_an_imported_runbook_dry_runs_and_drills(tmp_path: Path) -> None:
    """Seed 004's plan 1 carries a captured value between steps: both commands render it."""
    out = tmp_path / "004.toml"
    code, _ = run_import(SEED_FILES[4], out)
    assert code == 0
    env = {**os.environ, "RBCONSOLE_HOME": str(tmp_path / "home")}
    for command in (
        ["run", str(out), "--plan", "1", "--dry-run", "--yes", "--var", "reason=test"],
        ["drill", str(out), "--plan", "1", "--headless", "--dry-run", "--yes", "--reason", "test"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "tui", *command], capture_output=True, text=True, timeout=120, env=env
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "~/backups/'<backup captured by s1>'/user_system.py" in done.stdout
