"""rbconsole: a terminal runbook console for production rollbacks and drills."""

__version__ = "0.1.0"
