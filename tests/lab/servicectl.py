"""Lab stand-ins for the service managers the seed runbooks call, on the lab host only.

The lab host (an sshd on 127.0.0.1, see :mod:`tests.lab.hostlab`) has no systemd, no supervisor,
no pm2, no Docker and no Kubernetes. Its sessions get ``SetEnv PATH=<lab>/bin:...`` so that these
names resolve to small wrappers around this script, never to anything in the machine's /usr/bin.
Each one **really** starts, stops and restarts a lab service process (``tests/lab/seed_app.py``, an
HTTP server on its own port), so a health check after ``restart`` proves the restart happened and
one after ``stop`` fails. What each stands in for, and all it accepts:

- ``systemctl start|stop|restart|status|is-active UNIT`` — systemd units (``manager = "systemd"``)
- ``supervisorctl start|stop|restart|status|tail PROGRAM [stderr]`` — supervisor programs
- ``pm2 start|stop|restart|status NAME [--update-env]`` — pm2 apps
- ``docker-compose up -d|down|ps|restart [SERVICE...]`` — the services of the project in the
  current directory (``project`` in the definition)
- ``kubectl --context CTX get service|deployment NAME``, ``scale deployment NAME --replicas=N``,
  ``rollout status deployment/NAME`` — deployments and services of one lab context; any other
  context, or none, is refused (no current-context is guessed)
- ``mongo [--quiet] [DB] --eval "db.adminCommand('ping').ok"`` — pings the lab ``mongodb`` service
- ``redis-cli ping`` — pings the lab ``redis`` service
- ``crontab -l`` — prints ``<lab>/crontab``
- ``sudo [-n] [--] CMD...`` — the real /usr/bin/sudo, with the lab PATH carried through its
  environment reset (sudo's ``secure_path`` would otherwise find the machine's own tools)

Anything else fails with a one-line message naming the stand-in, exit 2. Service definitions are
JSON files in ``<lab>/services/NAME.json`` written by the fixture: ``argv``, ``cwd``, ``port``,
``manager`` and, per manager, ``project`` (docker-compose) or ``context`` (kubectl).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

START_DEADLINE = 10.0
STOP_DEADLINE = 5.0
TOOLS = ("systemctl", "supervisorctl", "pm2", "docker-compose", "kubectl", "mongo", "redis-cli", "crontab", "sudo")


class Refused(Exception):
    """A one-line error and the exit status the real tool would give."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class Lab:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.services = root / "services"
        self.run = root / "run"
        self.logs = root / "log"

    def definition(self, name: str) -> dict[str, object] | None:
        path = self.services / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def definitions(self) -> dict[str, dict[str, object]]:
        return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(self.services.glob("*.json"))}

    def managed(self, name: str, manager: str) -> dict[str, object] | None:
        found = self.definition(name)
        return found if found is not None and found.get("manager") == manager else None

    def pid(self, name: str) -> int | None:
        path = self.run / f"{name}.pid"
        if not path.exists():
            return None
        pid = int(path.read_text().strip() or 0)
        return pid if pid and _alive(pid) else None

    def started_at(self, name: str) -> float:
        path = self.run / f"{name}.pid"
        return path.stat().st_mtime if path.exists() else 0.0

    def start(self, name: str) -> int:
        if (pid := self.pid(name)) is not None:
            return pid
        spec = self.definition(name)
        assert spec is not None
        self.run.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        out = (self.logs / f"{name}.out").open("ab")
        err = (self.logs / f"{name}.err").open("ab")
        proc = subprocess.Popen(
            [str(a) for a in spec["argv"]],  # type: ignore[union-attr]
            cwd=str(spec.get("cwd") or self.root),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # outlives the ssh session that started it, like a daemon
        )
        out.close()
        err.close()
        (self.run / f"{name}.pid").write_text(f"{proc.pid}\n")
        port = int(spec["port"])  # type: ignore[arg-type]
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (self.logs / f"{name}.err").read_text(errors="replace").strip().splitlines()[-1:]
                raise Refused(f"{name} exited at start (status {proc.returncode}): {' '.join(tail)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return proc.pid
            except OSError:
                time.sleep(0.05)
        raise Refused(f"{name} did not listen on port {port} within {START_DEADLINE:.0f} s")

    def stop(self, name: str) -> bool:
        """Stop the process; False when it was not running."""
        pid = self.pid(name)
        (self.run / f"{name}.pid").unlink(missing_ok=True)
        if pid is None:
            return False
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_DEADLINE
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
        return True

    def restart(self, name: str) -> int:
        self.stop(name)
        return self.start(name)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)  # the service leads its own session and process group


def _uptime(lab: Lab, name: str) -> str:
    seconds = int(time.time() - lab.started_at(name))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


# --- the tools -------------------------------------------------------------------------------


def systemctl(lab: Lab, args: list[str]) -> int:
    words = [a for a in args if a not in ("--no-pager", "-q", "--quiet")]
    if len(words) != 2 or words[0] not in ("start", "stop", "restart", "status", "is-active"):
        raise Refused(f"unsupported: systemctl {' '.join(args)}", 2)
    verb, unit = words[0], words[1].removesuffix(".service")
    if lab.managed(unit, "systemd") is None:
        if verb == "is-active":
            print("inactive")
            return 4
        raise Refused(f"Unit {unit}.service could not be found." if verb == "status" else
                      f"Failed to {verb} {unit}.service: Unit {unit}.service not found.", 4 if verb == "status" else 5)  # fmt: skip
    if verb in ("start", "restart"):
        (lab.start if verb == "start" else lab.restart)(unit)
        return 0
    if verb == "stop":
        lab.stop(unit)
        return 0
    pid = lab.pid(unit)
    if verb == "is-active":
        print("active" if pid else "inactive")
        return 0 if pid else 3
    print(f"● {unit}.service - {unit} (rbconsole lab stand-in)")
    print(f"     Active: active (running) for {_uptime(lab, unit)}" if pid else "     Active: inactive (dead)")
    if pid:
        print(f"   Main PID: {pid}")
    return 0 if pid else 3


def supervisorctl(lab: Lab, args: list[str]) -> int:
    if len(args) < 2 or args[0] not in ("start", "stop", "restart", "status", "tail"):
        raise Refused(f"unsupported: supervisorctl {' '.join(args)}", 2)
    verb, program = args[0], args[1]
    if lab.managed(program, "supervisor") is None:
        raise Refused(f"{program}: ERROR (no such process)", 4 if verb == "status" else 1)
    if verb == "tail":
        stream = args[2] if len(args) > 2 else "stdout"
        if stream not in ("stdout", "stderr") or len(args) > 3:
            raise Refused(f"unsupported: supervisorctl {' '.join(args)}", 2)
        path = lab.logs / f"{program}.{'err' if stream == 'stderr' else 'out'}"
        data = path.read_bytes()[-1600:] if path.exists() else b""
        sys.stdout.write(data.decode("utf-8", "replace"))
        return 0
    if len(args) != 2:
        raise Refused(f"unsupported: supervisorctl {' '.join(args)}", 2)
    if verb == "status":
        pid = lab.pid(program)
        state = f"RUNNING   pid {pid}, uptime {_uptime(lab, program)}" if pid else "STOPPED"
        print(f"{program:<33}{state}")
        return 0 if pid else 3
    if verb == "stop":
        print(f"{program}: stopped" if lab.stop(program) else f"{program}: ERROR (not running)")
        return 0
    if verb == "start" and lab.pid(program):
        print(f"{program}: ERROR (already started)")
        return 1
    if verb == "restart" and lab.stop(program):
        print(f"{program}: stopped")
    lab.start(program)
    print(f"{program}: started")
    return 0


def pm2(lab: Lab, args: list[str]) -> int:
    words = [a for a in args if a != "--update-env"]
    if not words or words[0] not in ("start", "stop", "restart", "status") or len(words) > 2:
        raise Refused(f"unsupported: pm2 {' '.join(args)}", 2)
    verb = words[0]
    names = [words[1]] if len(words) == 2 else [n for n, d in lab.definitions().items() if d.get("manager") == "pm2"]
    for name in names:
        if lab.managed(name, "pm2") is None:
            raise Refused(f"[PM2][ERROR] Process or Namespace {name} not found")
    if verb == "status":
        print(f"│ {'name':<16}│ {'pid':<8}│ {'uptime':<9}│ {'status':<9}│")
        for name in names:
            pid = lab.pid(name)
            shown = (str(pid), _uptime(lab, name), "online") if pid else ("0", "0", "stopped")
            print(f"│ {name:<16}│ {shown[0]:<8}│ {shown[1]:<9}│ {shown[2]:<9}│")
        return 0
    for name in names:
        if verb == "stop":
            lab.stop(name)
        elif verb == "start":
            lab.start(name)
        else:
            lab.restart(name)
        print(f"[PM2] {name} {'stopped' if verb == 'stop' else 'online'} ✓")
    return 0


def docker_compose(lab: Lab, args: list[str]) -> int:
    here = os.path.realpath(os.getcwd())
    project = {n: d for n, d in lab.definitions().items()
               if d.get("manager") == "compose" and os.path.realpath(str(d.get("project"))) == here}  # fmt: skip
    if not project:
        raise Refused(f"no docker-compose project in {here} (the lab defines none here)", 14)
    if not args or args[0] not in ("up", "down", "ps", "restart"):
        raise Refused(f"unsupported: docker-compose {' '.join(args)}", 2)
    verb, rest = args[0], args[1:]
    if verb == "up":
        if "-d" not in rest:
            raise Refused("the lab stand-in runs `docker-compose up` detached only (-d)", 2)
        rest = [a for a in rest if a != "-d"]
    if verb in ("down", "ps") and rest:
        raise Refused(f"unsupported: docker-compose {' '.join(args)}", 2)
    unknown = sorted(set(rest) - set(project))
    if unknown:
        raise Refused(f"no such service: {unknown[0]}", 1)
    chosen = rest or list(project)
    if verb == "ps":
        print(f"{'NAME':<24}{'SERVICE':<14}STATUS")
        for name in chosen:
            print(f"{name:<24}{name:<14}{'Up ' + _uptime(lab, name) if lab.pid(name) else 'Exited'}")
        return 0
    for name in chosen:
        if verb == "down":
            lab.stop(name)
            print(f"Container {name}  Removed")
        elif verb == "up":
            lab.start(name)
            print(f"Container {name}  Started")
        else:
            lab.restart(name)
            print(f"Container {name}  Restarted")
    return 0


def kubectl(lab: Lab, args: list[str]) -> int:
    context, rest = None, []
    it = iter(args)
    for arg in it:
        if arg == "--context":
            context = next(it, None)
        elif arg.startswith("--context="):
            context = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    if context is None:
        raise Refused("error: current-context is not set (the lab stand-in never guesses one: pass --context)")
    objects = {n: d for n, d in lab.definitions().items() if d.get("manager") == "kube"}
    if context not in {d.get("context") for d in objects.values()}:
        raise Refused(f'error: context "{context}" does not exist')
    objects = {n: d for n, d in objects.items() if d.get("context") == context}

    def deployment(name: str) -> str:
        if name not in objects:
            raise Refused(f'Error from server (NotFound): deployments.apps "{name}" not found')
        return name

    if len(rest) == 3 and rest[0] == "get" and rest[1] in ("service", "svc", "deployment", "deploy"):
        name = rest[2]
        spec = objects.get(name)
        if rest[1] in ("service", "svc"):
            spec = next((d for d in objects.values() if d.get("service") == name), None)
            if spec is None:
                raise Refused(f'Error from server (NotFound): services "{name}" not found')
            print(f"NAME{'':<20}TYPE        PORT(S)\n{name:<24}ClusterIP   {spec['port']}/TCP")
            return 0
        pid = lab.pid(deployment(name))
        print(f"NAME{'':<24}READY\n{name:<28}{'1/1' if pid else '0/0'}")
        return 0
    if len(rest) == 4 and rest[0] == "scale" and rest[1] == "deployment" and rest[3].startswith("--replicas="):
        name, replicas = deployment(rest[2]), int(rest[3].split("=", 1)[1])
        if replicas == 0:
            lab.stop(name)
        else:
            lab.start(name)  # one lab process stands for every replica
        print(f"deployment.apps/{name} scaled")
        return 0
    if len(rest) >= 3 and rest[:2] == ["rollout", "status"] and rest[2].startswith("deployment/"):
        if any(not a.startswith("--timeout=") for a in rest[3:]):
            raise Refused(f"unsupported: kubectl {' '.join(args)}", 2)
        name = deployment(rest[2].split("/", 1)[1])
        if lab.pid(name) is None:
            raise Refused(f'error: deployment "{name}" exceeded its progress deadline (0 replicas available)')
        print(f'deployment "{name}" successfully rolled out')
        return 0
    raise Refused(f"unsupported: kubectl {' '.join(args)}", 2)


def _ping(lab: Lab, name: str, refused: str) -> object:
    spec = lab.definition(name)
    if spec is None or lab.pid(name) is None:
        raise Refused(refused)
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{spec['port']}/ping", timeout=5) as answer:
        return json.loads(answer.read())["ok"]


def redis_cli(lab: Lab, args: list[str]) -> int:
    if args != ["ping"]:
        raise Refused(f"unsupported: redis-cli {' '.join(args)} (the lab stand-in only pings)", 2)
    _ping(lab, "redis", "Could not connect to Redis at 127.0.0.1:6379: Connection refused")
    print("PONG")
    return 0


def mongo(lab: Lab, args: list[str]) -> int:
    words = [a for a in args if a != "--quiet"]
    if "--eval" not in words or words.index("--eval") + 1 >= len(words):
        raise Refused(f"unsupported: mongo {' '.join(args)}", 2)
    expression = words[words.index("--eval") + 1]
    if expression.replace('"', "'") != "db.adminCommand('ping').ok":
        raise Refused(f"the lab mongo stand-in only pings (db.adminCommand('ping').ok), not: {expression}", 2)
    print(_ping(lab, "mongodb", "Error: couldn't connect to server 127.0.0.1:27017, connection attempt failed"))
    return 0


def crontab(lab: Lab, args: list[str]) -> int:
    if args != ["-l"]:
        raise Refused(f"unsupported: crontab {' '.join(args)} (the lab stand-in only lists: -l)", 2)
    table = lab.root / "crontab"
    if not table.exists():
        raise Refused(f"no crontab for {os.environ.get('USER', 'root')}")
    sys.stdout.write(table.read_text(encoding="utf-8"))
    return 0


def sudo(lab: Lab, args: list[str]) -> int:
    options: list[str] = []
    while args and args[0].startswith("-") and args[0] != "--":
        if args[0] != "-n":
            raise Refused(f"unsupported: sudo {args[0]} (the lab stand-in passes only -n)", 2)
        options.append(args.pop(0))
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        raise Refused("usage: sudo [-n] [--] COMMAND...", 2)
    os.execv("/usr/bin/sudo", ["sudo", *options, "--", "env", f"PATH={os.environ.get('PATH', '')}", *args])
    return 127  # not reached


def main(argv: list[str]) -> int:
    root, tool, args = Path(argv[1]), argv[2], argv[3:]
    handler = {"docker-compose": docker_compose, "redis-cli": redis_cli}.get(tool) or globals().get(tool)
    if tool not in TOOLS or handler is None:
        print(f"{tool}: not a lab stand-in", file=sys.stderr)
        return 2
    try:
        return handler(Lab(root), args)
    except Refused as refused:
        print(f"{refused} [rbconsole lab stand-in for {tool}]", file=sys.stderr)
        return refused.status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
