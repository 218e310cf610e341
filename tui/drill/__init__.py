"""Guided drills: what a drill took (from its journal), its history, per-step baselines, drift, the report.

None of this imports Textual: the plan screen asks :func:`tui.drill.drift.drift` for a running
step's drift, the drill command writes the report after the session ends.
"""
