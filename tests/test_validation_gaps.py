"""Bad runbooks are stopped at load time with file:line:col, not at 3 a.m.; a --severity the
runbook does not define is a usage error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tui.runbook.loader import load_text

HEAD = """schema = 1
id = "gaps"
title = "Validation gaps"
service = "svc"

[[severity]]
level = "P1"
name = "major"
action = "rollback"
plan = "A"
"""
PLAN = """
[plans.A]
title = "A"

[[plans.A.steps]]
id = "one"
kind = "local"
run = "true"
"""


def problems(body: str) -> list[str]:
    loaded = load_text(HEAD + body + PLAN, "rb.toml")
    return [str(p) for p in loaded.problems]


def test_an_invalid_param_pattern_is_a_load_error() -> None:
    found = problems('[params.v]\nprompt = "v"\npattern = "v[0-9"\n')
    assert len(found) == 1 and found[0].startswith("rb.toml:13:1:"), found
    assert "invalid regular expression 'v[0-9'" in found[0]


def test_an_invalid_capture_regex_is_a_load_error() -> None:
    body = '[[checks]]\nid = "c"\nkind = "local"\nrun = "echo rows=1"\ncapture = { n = "regex:rows=(\\\\d+" }\n'
    found = problems(body)
    assert len(found) == 1 and found[0].startswith("rb.toml:15:13:"), found
    assert "invalid regular expression 'rows=(\\\\d+': missing ), unterminated subpattern" in found[0]


def test_a_malformed_placeholder_is_a_load_error_at_its_column() -> None:
    body = '[params.x]\nprompt = "x"\n\n[[checks]]\nid = "c"\nkind = "local"\nrun = "echo {{ x | upper }}"\n'
    found = problems(body)
    assert found == [
        "rb.toml:17:13: malformed placeholder '{{ x |': a placeholder is one name, {{ name }}, with no filters,"
        " calls or indexes"
    ]
    for bad in ("{{ x }", "{{ upper(x) }}", "{{ x[0] }}", "{{x:-a}}"):
        assert any("malformed placeholder" in p for p in problems(f'[params.x]\nprompt = "x"\n[vars]\ny = "{bad}"\n'))
    # Go templates are text, and a well-formed placeholder is fine.
    assert problems('[params.x]\nprompt = "x"\n[vars]\ny = "docker ps --format {{.Names}} {{ x }}"\n') == []


def test_an_empty_url_is_a_load_error() -> None:
    found = problems('[[checks]]\nid = "c"\nkind = "http"\nurl = ""\n')
    assert found == ["rb.toml:14:1: url is empty"]


def test_duplicate_risk_ids_are_a_load_error() -> None:
    risk = '[[risks]]\nid = "R1"\nlevel = "high"\ntitle = "t"\nplan = "A"\n'
    found = problems(risk + risk)
    assert len(found) == 1 and "duplicate risk id 'R1'" in found[0] and found[0].startswith("rb.toml:17:"), found


def test_an_undefined_severity_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "rb.toml"
    path.write_text(HEAD + PLAN, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "tui", "run", str(path), "--plan", "A", "--severity", "P9"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RBCONSOLE_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"rbconsole: {path}: severity 'P9' is not defined (known: P1)"
    assert not (tmp_path / "home" / "sessions").exists() or not list((tmp_path / "home" / "sessions").iterdir())
