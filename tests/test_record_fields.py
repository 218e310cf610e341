"""The runbook's record template shapes the record: mirrored sections replace the built-in
ones, and [record.fields] are filled from the run (or marked unknown)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.seed_support import RUNBOOKS, dry_run
from tui.engine.session import Session, StartOptions
from tui.record import render_markdown
from tui.runbook.loader import load_or_raise, load_text

RUNBOOK = """schema = 1
id = "fields"
title = "fields test"
service = "svc"
current_version = "20260220_090000"

[params.impact]
default = ""

[params.token]
secret = true
default = "a-secret-token-value"

[plans.A]
title = "restore"

[[plans.A.steps]]
id = "find_backup"
kind = "local"
run = "echo 20260221_020000"
capture = { backup = "stdout" }

[[plans.A.steps]]
id = "count"
kind = "local"
run = "echo rows=42"
capture = { rows = "regex:rows=(\\\\d+)" }
optional = true

[record]
title = "回滚记录"

[record.fields]
"回滚版本" = "{{ backup }}"
"原部署版本" = "{{ current_version }}"
"恢复行数" = "{{ rows }} rows"
"影响范围" = "{{ impact }}"

[[record.sections]]
title = "基本信息"
body = "- **回滚时间**: YYYY-MM-DD HH:MM:SS\\n- **回滚人员**: _________________"

[[record.sections]]
title = "Reason"
body = "- 问题现象：\\n- 影响范围："

[[record.sections]]
title = "🔁 回滚结果"
body = "- [ ] ✅ 回滚成功"

[[record.sections]]
title = "备注"
body = "记录其他重要信息："

[[record.sections]]
title = "经验"
body = "what we learnt"
"""


async def run(tmp_path: Path, **options: object) -> str:
    path = tmp_path / "fields.toml"
    path.write_text(RUNBOOK, encoding="utf-8")
    runbook = load_or_raise(path)
    session = Session.start(runbook, str(path), StartOptions(plan="A", headless=True, **options))  # type: ignore[arg-type]
    await session.choose_plan("A")
    await session.run_plan()
    await session.end()
    await session.close()
    return render_markdown(session.events)


def headings(record: str) -> list[str]:
    return re.findall(r"^##? (.+)$", record, flags=re.M)


async def test_mirrored_sections_take_the_built_in_places_and_fields_are_filled(tmp_path: Path) -> None:
    record = await run(tmp_path)
    found = headings(record)
    assert found[:3] == ["回滚记录: svc", "基本信息", "Reason"]
    assert "🔁 回滚结果" in found and "备注" in found and "经验" in found
    for built_in in ("基本信息 · Basic info", "回滚原因 · Reason", "回滚结果 · Result", "备注 · Notes"):
        assert built_in not in found  # replaced, not duplicated
    assert len(found) == len(set(found))
    assert "YYYY" not in record and "____" not in record and "- [ ] ✅ 回滚成功\n" not in record
    assert "| 回滚版本 | 20260221_020000 |" in record
    assert "| 原部署版本 | 20260220_090000 |" in record
    # the optional step did not run headless: what it would have captured is unknown, said so
    assert "| 恢复行数 | ⚠️ 未知 · unknown (this run never learnt rows) |" in record
    assert "| 影响范围 | ⚠️ 未知 · unknown (left empty) |" in record
    assert "## 经验\n\nwhat we learnt" in record  # a section of its own is kept as written
    assert "## 备注\n\n(无 · none)" in record


async def test_a_field_is_filled_once_its_value_is_captured(tmp_path: Path) -> None:
    record = await run(tmp_path, with_steps=("count",), values={"impact": "所有用户 | 50%"})
    assert "| 恢复行数 | 42 rows |" in record
    assert "| 影响范围 | 所有用户 \\| 50% |" in record  # a pipe cannot break the table


async def test_a_dry_run_states_no_captured_value(tmp_path: Path) -> None:
    record = await run(tmp_path, dry_run=True)
    assert "| 回滚版本 | ⚠️ 未知 · unknown (this run never learnt backup) |" in record
    assert "captured by" not in record


def test_a_secret_cannot_be_a_record_field() -> None:
    text = RUNBOOK.replace('"影响范围" = "{{ impact }}"', '"令牌" = "token: {{ token }}"')
    problems = [str(p) for p in load_text(text, "rb.toml").problems]
    line = text[: text.index("令牌")].count("\n") + 1
    assert problems == [f"rb.toml:{line}:16: a record field cannot show secret 'token'"]


@pytest.mark.parametrize("plan", ["auto", "manual", "emergency"])
def test_seed_004_template_shapes_its_record(plan: str, tmp_path: Path) -> None:
    out = tmp_path / "record.md"
    done = dry_run(RUNBOOKS / "meiyueart-deploy.toml", tmp_path, ["run", "--plan", plan, "--var", "reason=演练",
                   "--var", "impact=推荐人字段", "--record", str(out)])  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = out.read_text(encoding="utf-8")
    found = headings(record)
    assert len(found) == len(set(found)), found
    for title in ("基本信息", "回滚原因", "回滚过程", "回滚验证", "回滚结果", "后续计划", "备注"):
        assert title in found
    assert "YYYY" not in record and "____" not in record
    assert "| 影响范围 | 推荐人字段 |" in record
    assert "| 原部署版本 | ⚠️ 未知 · unknown (left empty) |" in record


async def test_a_value_is_never_read_again_as_a_template(tmp_path: Path) -> None:
    record = await run(tmp_path, values={"impact": "{{ backup }} and {{ token }}"})
    assert "| 影响范围 | {{ backup }} and {{ token }} |" in record  # what the operator typed, literally
    assert "a-secret-token-value" not in record
