"""The import constructs the first round left out: ``import -`` from standard input, box-drawn
decision trees as flowchart questions, literal vars wherever a literal lands (and never a changed
command), ``watch`` with no window, captured names that never collide, MySQL's manual steps."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

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
