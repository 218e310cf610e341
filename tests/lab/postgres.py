"""Lab fixture: postgres (filled in by the engine work)."""
