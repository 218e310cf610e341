"""The built-in demo's sandbox: a tiny web service, its git deploy and a backup, all on this machine.

``runbooks/demo.toml`` drives it with ``local`` steps (``python -m tui.demo setup|start|stop|teardown DIR``),
so a newcomer can drill a real rollback (v2 -> v1, verified over HTTP) with nothing but the package
installed: no SSH server, no database, nothing outside the sandbox directory and 127.0.0.1.
"""
