"""The lab host's service-manager stand-ins really start, stop and restart the seeds' services,
over the same sshd the seed runbooks use, and refuse what they do not stand in for."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.lab.hostlab import SeedHost

pytestmark = pytest.mark.lab


def ssh(host: SeedHost, command: str, alias: str = "rbconsole-lab") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ssh", "-F", str(host.ssh.config), alias, command], capture_output=True, text=True, timeout=60, check=False
    )


def test_restart_is_a_new_process_and_stop_makes_the_service_unreachable(seed_host: SeedHost, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "VERSION").write_text("v1\n")
    seed_host.define("lingzhi_admin_backend", "credit", "supervisor", app_dir=app)
    assert seed_host.process("lingzhi_admin_backend") is None
    started = ssh(seed_host, "sudo -n -- sh -c 'supervisorctl start lingzhi_admin_backend'")
    assert started.returncode == 0, started.stderr
    first = seed_host.process("lingzhi_admin_backend")
    assert first is not None and first["version"] == "v1"
    (app / "VERSION").write_text("v2\n")
    assert seed_host.process("lingzhi_admin_backend")["version"] == "v1"  # type: ignore[index]  # loaded at start
    status = ssh(seed_host, "supervisorctl status lingzhi_admin_backend")
    assert status.returncode == 0 and "RUNNING" in status.stdout
    restarted = ssh(seed_host, "supervisorctl restart lingzhi_admin_backend")
    assert restarted.returncode == 0, restarted.stderr
    second = seed_host.process("lingzhi_admin_backend")
    assert second is not None and second["pid"] != first["pid"] and second["version"] == "v2"
    assert ssh(seed_host, "supervisorctl stop lingzhi_admin_backend").returncode == 0
    assert seed_host.process("lingzhi_admin_backend") is None
    stopped = ssh(seed_host, "supervisorctl status lingzhi_admin_backend")
    assert stopped.returncode == 3 and "STOPPED" in stopped.stdout


def test_each_manager_controls_only_its_own_services(seed_host: SeedHost, tmp_path: Path) -> None:
    seed_host.define("wechat-backend", "credit", "systemd")
    seed_host.define("shop-backend", "credit", "pm2")
    seed_host.define("backend", "credit", "compose", project=str(tmp_path))
    seed_host.define("watermark-remover-lab", "credit", "kube", context="rbconsole-lab", service="wm")
    assert ssh(seed_host, "systemctl start wechat-backend && systemctl is-active wechat-backend").stdout == "active\n"
    assert ssh(seed_host, "pm2 start shop-backend && pm2 status shop-backend | grep -q online").returncode == 0
    up = ssh(seed_host, f"cd {tmp_path} && docker-compose up -d && docker-compose ps")
    assert up.returncode == 0 and "Up " in up.stdout, up.stderr
    missing = ssh(seed_host, "systemctl restart shop-backend")  # a pm2 app is no systemd unit
    assert missing.returncode == 5 and "Unit shop-backend.service not found" in missing.stderr
    elsewhere = ssh(seed_host, "cd / && docker-compose down")
    assert elsewhere.returncode != 0 and "no docker-compose project in /" in elsewhere.stderr
    assert seed_host.process("backend") is not None
    kube = subprocess.run(["kubectl", "--context", "watermark-remover-prod", "get", "deployment", "x"],
                          capture_output=True, text=True, env=seed_host.env(), timeout=30)  # fmt: skip
    assert kube.returncode == 1 and 'context "watermark-remover-prod" does not exist' in kube.stderr
    scale = subprocess.run(["kubectl", "--context", "rbconsole-lab", "scale", "deployment", "watermark-remover-lab",
                            "--replicas=1"], capture_output=True, text=True, env=seed_host.env(), timeout=30)  # fmt: skip
    assert scale.returncode == 0, scale.stderr
    assert seed_host.process("watermark-remover-lab") is not None


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("systemctl reload wechat-backend", "unsupported: systemctl reload wechat-backend"),
        ("pm2 delete shop-backend", "unsupported: pm2 delete shop-backend"),
        ("supervisorctl reread", "unsupported: supervisorctl reread"),
        ("kubectl get pods", "current-context is not set"),
        ("mongo --eval 'db.products.drop()'", "only pings"),
        ("crontab -r", "only lists"),
    ],
)
def test_what_a_stand_in_does_not_do_fails_with_a_message(seed_host: SeedHost, command: str, message: str) -> None:
    done = ssh(seed_host, command)
    assert done.returncode != 0
    assert message in done.stderr and "rbconsole lab stand-in" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_sudo_keeps_the_lab_path_and_is_the_real_sudo(seed_host: SeedHost) -> None:
    done = ssh(seed_host, "sudo -n -- sh -c 'command -v systemctl; id -u'")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(seed_host.bin / "systemctl"), "0"]
    refused = ssh(seed_host, "sudo -u nobody true")
    assert refused.returncode == 2 and "passes only -n" in refused.stderr
