"""Reusable console widgets (no screen logic): output pane, flowchart, stopwatch, drill banner."""
