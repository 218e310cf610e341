"""Lab fixture: gitrepo (filled in by the engine work)."""
