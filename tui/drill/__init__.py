"""Guided drills: what a drill took (from its journal), its history, per-step baselines, the report.

``summary`` folds journal events into a :class:`~tui.drill.summary.DrillRun`; ``history`` keeps one
per drill under ``tui.paths.history_dir()``; ``drift`` computes per-step baselines from it
(:func:`~tui.drill.drift.plan_baselines` is what the console and the headless runner hand a
session, which journals each step's drift through ``tui.engine.drift``; the record, the printer
and the plan screen show that) and a finished drill's drifts for its report; ``report``
renders the Markdown drill report; ``finish`` ties them together at the end of a drill (command and
console alike); ``live`` pairs a scenario's setup and teardown around a console session;
``scenario`` picks the plan, scenario, profile and target. None of this imports Textual.
"""
