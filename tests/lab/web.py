"""Lab fixture: web (filled in by the engine work)."""
