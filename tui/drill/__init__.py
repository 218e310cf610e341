"""Guided drills: what a drill took (from its journal), its history, per-step baselines, the report.

``summary`` folds journal events into a :class:`~tui.drill.summary.DrillRun`, the journaled drift
included; ``history`` keeps one per drill under ``tui.paths.history_dir()``; ``drift`` computes
per-step baselines from it (:func:`~tui.drill.drift.plan_baselines` is what the console and the
headless runner hand a session, which journals them and each step's drift through
``tui.engine.drift``; the record, the printer, the plan screen and the report show that);
``report`` renders the Markdown drill report; ``finish`` ties them together at the end of a drill (command and
console alike); ``live`` pairs a scenario's setup and teardown around a console session;
``scenario`` picks the plan, scenario, profile and target. None of this imports Textual.
"""
