"""``rbconsole schema [--record]``: the JSON Schema of the runbook format, or of the JSON record."""

from __future__ import annotations

import argparse
import json


def main(args: argparse.Namespace) -> int:
    if getattr(args, "record", False):
        from tui.record.schema import record_schema

        schema = record_schema()
    else:
        from tui.runbook.schema import runbook_schema

        schema = runbook_schema()
    print(json.dumps(schema, indent=2, ensure_ascii=False))
    return 0
