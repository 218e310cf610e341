"""``python -m tui.demo setup|start|stop|status|teardown DIR``: what the demo runbook's local steps call."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tui.demo import sandbox


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tui.demo", description="the rbconsole demo sandbox")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="create the sandbox deployed at v2").add_argument("dir", type=Path)
    p = sub.add_parser("start", help="start demo-web detached on 127.0.0.1:PORT")
    p.add_argument("dir", type=Path)
    p.add_argument("--port", type=int, required=True)
    sub.add_parser("stop", help="stop demo-web").add_argument("dir", type=Path)
    sub.add_parser("status", help="say what runs").add_argument("dir", type=Path)
    sub.add_parser("teardown", help="stop demo-web and remove the sandbox").add_argument("dir", type=Path)
    p = sub.add_parser("serve", help="run demo-web in the foreground (what start detaches)")
    p.add_argument("dir", type=Path)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ready-fd", type=int)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except sandbox.SandboxError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"demo: {exc.filename or args.dir}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "serve":
        from tui.demo.service import serve

        return serve(args.dir.absolute(), args.port, args.ready_fd)
    if args.command == "setup":
        box = sandbox.setup(args.dir)
        print(f"sandbox {box.root}: repo at v2 (tags v1, v2), backup {box.backup_file.name}")
    elif args.command == "start":
        if not 1 <= args.port <= 65535:
            raise sandbox.SandboxError(f"port {args.port} is not a TCP port")
        pid = sandbox.start(args.dir, args.port)
        version = sandbox.deployed_version(args.dir)
        print(f"demo-web {version} listening on http://127.0.0.1:{args.port} (pid {pid})")
    elif args.command == "stop":
        pid = sandbox.stop(args.dir)
        print(f"demo-web stopped (pid {pid})" if pid else "demo-web was not running")
    elif args.command == "status":
        box = sandbox.Sandbox(args.dir.absolute())
        if not box.is_sandbox:
            print(f"no sandbox at {box.root}")
            return 1
        pid = sandbox.running_pid(box)
        state = f"running (pid {pid})" if pid else "stopped"
        print(f"demo-web {sandbox.deployed_version(box.root)} deployed, {state}")
    elif args.command == "teardown":
        removed = sandbox.teardown(args.dir)
        print(f"sandbox {args.dir.absolute()} removed" if removed else f"no sandbox at {args.dir.absolute()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
