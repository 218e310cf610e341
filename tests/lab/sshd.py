"""Lab fixture: sshd (filled in by the engine work)."""
