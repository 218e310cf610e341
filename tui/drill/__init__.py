"""Guided drills: what a drill took (from its journal), its history, per-step baselines, drift, the report.

``summary`` folds journal events into a :class:`~tui.drill.summary.DrillRun`; ``history`` keeps one
per drill under ``tui.paths.history_dir()``; ``drift`` compares steps with their baselines (the plan
screen uses :func:`~tui.drill.drift.plan_baselines` and :func:`~tui.drill.drift.drifts`; a live
session journals them through ``tui.engine.drift`` so its record lists them); ``report``
renders the Markdown drill report; ``finish`` ties them together at the end of a drill (command and
console alike); ``live`` pairs a scenario's setup and teardown around a console session;
``scenario`` picks the plan, scenario, profile and target. None of this imports Textual.
"""
