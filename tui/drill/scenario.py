"""Which plan a drill practises, with which scenario, profile and target time."""

from __future__ import annotations

from dataclasses import dataclass

from tui.runbook.model import Drill, Runbook


class DrillChoiceError(ValueError):
    """The plan or scenario asked for does not fit the runbook; one line for the operator."""


@dataclass(frozen=True)
class DrillChoice:
    plan: str
    scenario: Drill | None
    profile: str | None
    target_minutes: float | None

    @property
    def scenario_id(self) -> str | None:
        return self.scenario.id if self.scenario else None


def choose(
    runbook: Runbook, plan: str | None = None, scenario: str | None = None, profile: str | None = None
) -> DrillChoice:
    """The drill to run.

    A named scenario brings its plan and profile (``plan``/``profile`` may only agree or
    override the profile). Without one, the first scenario practising ``plan`` is used, or the
    runbook's first scenario when no plan is named: a drill rehearses a failure, and the
    scenario is what sets that failure up. With no scenarios at all, the plan is drilled alone:
    ``plan``, else the first severity level's plan, else the first plan.
    """
    if plan is not None and plan not in runbook.plans:
        raise DrillChoiceError(f"plan {plan!r} is not defined (known: {', '.join(runbook.plans)})")
    if profile is not None and profile not in runbook.profiles:
        known = ", ".join(runbook.profiles) or "none"
        raise DrillChoiceError(f"profile {profile!r} is not defined (known: {known})")
    chosen: Drill | None
    if scenario is not None:
        chosen = runbook.drill(scenario)
        if chosen is None:
            known = ", ".join(d.id for d in runbook.drills) or "none"
            raise DrillChoiceError(f"scenario {scenario!r} is not defined (known: {known})")
        if plan is not None and plan != chosen.plan:
            raise DrillChoiceError(f"scenario {scenario!r} practises plan {chosen.plan!r}, not {plan!r}")
    elif plan is not None:
        chosen = next((d for d in runbook.drills if d.plan == plan), None)
    else:
        chosen = runbook.drills[0] if runbook.drills else None
    plan_id = chosen.plan if chosen else plan or _default_plan(runbook)
    target = (chosen.target_minutes if chosen else None) or runbook.plans[plan_id].target_minutes
    return DrillChoice(plan_id, chosen, profile or (chosen.profile if chosen else None), target)


def _default_plan(runbook: Runbook) -> str:
    return next((s.plan for s in runbook.severity if s.plan), None) or next(iter(runbook.plans))
