"""``rbconsole schema``: the JSON Schema of the runbook format."""

from __future__ import annotations

import argparse
import json

from tui.runbook.schema import runbook_schema


def main(args: argparse.Namespace) -> int:
    print(json.dumps(runbook_schema(), indent=2, ensure_ascii=False))
    return 0
