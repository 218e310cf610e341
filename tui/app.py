"""The console: a Textual app that presents a session and sends it the operator's intent.

Build it with :func:`create_app` (tests, ``rbconsole``, ``open``, ``drill`` and ``resume`` all do):
on a runbook's overview, on a session to resume, or on the picker, with the session's
:class:`~tui.engine.api.StartOptions` (the type the CLI fills from its flags), plus ``clock`` (what
stopwatches read; tests pass a fixed one). ``textual run tui.app:RbConsoleApp`` opens the picker.

The app never runs a command itself: every engine call runs in a worker (``App.engine``) and
engine events reach the screens as batched :class:`EngineEvents` messages, ~20 a second,
however fast the output comes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.worker import Worker

from screens.console import ConsoleOptions
from tui.engine.api import StartOptions
from tui.engine.events import ESCALATION_DUE
from tui.runbook.loader import Loaded, load
from tui.widgets.keys import screen_bindings
from tui.widgets.messages import EngineEvents

if TYPE_CHECKING:
    from tui.drill.live import ScenarioGuard
    from tui.engine.events import Event
    from tui.engine.session import Question, Session

FLUSH_HZ = 20

# name -> "module:Class" of the screens a started session offers; built lazily when first shown.
SESSION_SCREENS: dict[str, str] = {
    "triage": "screens.triage:TriageScreen",
    "prechecks": "screens.prechecks:PrechecksScreen",
    "plan": "screens.plan:PlanScreen",
    "checklists": "screens.checklists:ChecklistsScreen",
    "timeline": "screens.timeline:TimelineScreen",
    "record": "screens.record:RecordScreen",
    "contacts": "screens.contacts:ContactsScreen",
}


class RbConsoleApp(App[int]):
    CSS_PATH: ClassVar[str] = "app.tcss"
    TITLE = "rbconsole"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (110, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit_console", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("f2", "show('triage')", "Triage", show=False, id="nav.triage"),
        Binding("f3", "show('prechecks')", "Pre-checks", show=False, id="nav.prechecks"),
        Binding("f4", "show('plan')", "Plan", show=False, id="nav.plan"),
        Binding("f5", "show('checklists')", "Checklists", show=False, id="nav.checklists"),
        Binding("f6", "show('timeline')", "Timeline", show=False, id="nav.timeline"),
        Binding("f7", "show('record')", "Record", show=False, id="nav.record"),
        Binding("f8", "show('contacts')", "Contacts", show=False, id="nav.contacts"),
    ]

    def __init__(self, options: ConsoleOptions | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.options = options or ConsoleOptions()  # none: the picker (as `textual run tui.app:RbConsoleApp`)
        self.clock = clock
        self.loaded: Loaded | None = None
        self._log_mask: Callable[[str], str] | None = None
        self.session: Session | None = None
        self._pending: deque[Event] = deque()
        self._listeners: set[Screen[Any]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self.drill_guard: ScenarioGuard | None = None

    # --- theme ------------------------------------------------------------------------------

    def get_css_variables(self) -> dict[str, str]:
        # $danger and $drill follow the theme's own error and warning colours unless a theme sets them.
        variables = super().get_css_variables()
        variables.setdefault("danger", variables["error"])
        variables.setdefault("drill", variables["warning"])
        variables.setdefault("drill-text", variables["background"])
        return variables

    # --- start-up ---------------------------------------------------------------------------

    def on_mount(self) -> None:
        from tui import logs

        # Made again for each runbook the console opens, only when something is logged.
        self._log_mask = logs.LazyMask(self._runbook_secrets, key=lambda: self.loaded)
        logs.mask(self._log_mask)
        self.set_interval(1 / FLUSH_HZ, self.flush_events, name="engine-events")
        if self.options.theme:
            self.theme = self.options.theme
        if self.options.drill:
            self.sub_title = "DRILL"
        if self.options.resume:
            self.resume_session(self.options.resume)
        elif self.options.runbook:
            self.open_runbook(self.options.runbook)
        else:
            from screens.picker import PickerScreen

            self.push_screen(PickerScreen())

    def open_runbook(self, path: str | Path) -> None:
        """Show a runbook's overview; an invalid runbook shows its problems instead."""
        from screens.overview import OverviewScreen

        self.loaded = load(path)
        if not self.loaded.ok:
            problem = self.loaded.problems[0] if self.loaded.problems else None
            more = len(self.loaded.problems) - 1
            self.notify(
                f"{problem}" + (f" (and {more} more)" if more > 0 else ""),
                title="Invalid runbook",
                severity="error",
                timeout=15,
            )
            if not self.screen_stack or len(self.screen_stack) <= 1:
                from screens.picker import PickerScreen

                self.push_screen(PickerScreen())
            return
        self.push_screen(OverviewScreen(self.loaded))
        if self.options.start.plan and self.options.start.reason:
            from screens.incident_start import IncidentStartScreen

            self.push_screen(IncidentStartScreen(submit=True))

    # --- the session --------------------------------------------------------------------------

    def start_session(self, options: StartOptions) -> Worker[None]:
        """Start a session from the incident form (in a worker: it creates files and fsyncs)."""

        async def start() -> None:
            from tui.drill.drift import plan_baselines
            from tui.engine.session import Session

            assert self.loaded is not None and self.loaded.runbook is not None
            runbook, path = self.loaded.runbook, self.loaded.path
            session = await asyncio.to_thread(
                lambda: Session.start(runbook, path, options, self.ask, baselines=plan_baselines)
            )
            # Setup first: the pre-checks screen runs the checks as it opens, and they check what setup made.
            await self.drill_setup(session)
            if options.plan is not None and session.state.plan is None:  # drill/open --plan: no triage
                recommended = session.recommended_plan
                reason = "" if recommended in (None, options.plan) else "chosen with --plan"
                await session.choose_plan(options.plan, reason)
            self.attach(session)
            if session.has_live_monitors:
                # Journaled as the readings at the incident's start; the triage screen shows them.
                self.engine(session.read_monitors("start"), "Read the monitors", group="monitors")

        return self.engine(start(), "Start the incident")

    def attach(self, session: Session) -> None:
        self.session = session
        self._unsubscribe = session.subscribe(self._pending.append)
        for name, target in SESSION_SCREENS.items():
            if name in self._installed_screens:
                self.uninstall_screen(name)
            module, _, cls = target.partition(":")
            screen_class = getattr(__import__(module, fromlist=[cls]), cls)
            self.install_screen(screen_class(), name)
        self.show_first()

    def show_first(self) -> None:
        """Where the session stands: triage, then the pre-checks, then the plan once a step ran."""
        assert self.session is not None
        state = self.session.state
        if state.plan is not None and state.in_phase("step"):
            self.action_show("plan")
        elif self.session.runbook.flow is not None and self.options.start.plan is None and state.plan is None:
            self.action_show("triage")
        else:
            self.action_show("prechecks")

    def run_plan(self) -> None:
        """The plan screen, running every pending step (then the verification, by itself)."""
        self.action_show("plan")
        plan_screen = self.get_screen("plan")
        self.call_after_refresh(plan_screen.run_action, "run_all")

    def resume_session(self, ref: str) -> Worker[None]:
        """Reopen a recorded session (read-only if another process holds it) where it stopped."""

        async def resume() -> None:
            from tui.drill.drift import plan_baselines
            from tui.engine.session import Session, SessionError

            try:
                session = await asyncio.to_thread(
                    Session.open, ref, ask=self.ask, baselines=plan_baselines, **self.options.start.reopening()
                )
            except SessionError:
                if len(self.screen_stack) <= 1:  # started on this session: land somewhere useful
                    from screens.picker import PickerScreen

                    self.push_screen(PickerScreen())
                raise
            self.loaded = Loaded(session.runbook_path, session.runbook)
            if session.read_only and session.state.result:
                self.notify(f"Ended ({session.state.result}): read-only; F7 shows the record.", timeout=10)
            elif session.read_only:
                self.notify(f"Read-only: locked by {session.locked_by}", severity="warning", timeout=10)
            self.attach(session)
            if not session.read_only and session.unknown_steps():
                # Asked before anything else can run, as headless resume asks.
                await session.resolve_unknown()
            if not session.read_only and not session.state.result:
                session.resume_clock()
                for due in session.state.escalations:
                    if due.get("answer") is None:  # shown before the console stopped, never answered
                        self.show_escalation(due)

        return self.engine(resume(), "Resume the session")

    def listen(self, screen: Screen[Any]) -> None:
        self._listeners.add(screen)

    def unlisten(self, screen: Screen[Any]) -> None:
        self._listeners.discard(screen)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Notifications carry runbook, command and operator text ("[docker]", "[/x]"): never markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def flush_events(self) -> None:
        if not self._pending:
            return
        batch: list[Event] = []
        pending = self._pending
        while pending:
            batch.append(pending.popleft())
        message_events = tuple(batch)
        for screen in list(self._listeners):
            screen.post_message(EngineEvents(message_events))
        for event in batch:
            if event.type == ESCALATION_DUE:
                self.show_escalation(event.data)

    def show_escalation(self, due: dict[str, Any]) -> None:
        """Whom to call; the operator's answer is journaled (calling, or not now)."""
        from screens.escalation import EscalationScreen

        session = self.session
        reason = str(due.get("reason"))

        def answered(answer: str | None) -> None:
            if session is not None and answer:
                self.engine(session.answer_escalation(reason, answer), "Record the escalation answer")

        self.push_screen(EscalationScreen(due), callback=answered)

    async def ask(self, question: Question) -> str:
        """The engine's question to the operator: a modal; the engine waits for its answer."""
        from screens.confirm import ConfirmScreen
        from screens.question import QuestionScreen

        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def answered(answer: str | None) -> None:
            if not future.done():
                # Escape on a lost outcome is no answer (it stays unknown), never "skip".
                future.set_result(answer or ("" if question.kind == "unknown" else question.options[-1]))

        modal = ConfirmScreen(question) if question.kind == "destructive" else QuestionScreen(question)
        self.push_screen(modal, callback=answered)
        return await future

    def engine(self, work: Coroutine[Any, Any, Any], what: str, *, group: str = "engine") -> Worker[Any]:
        """Run engine work in a worker; an error becomes a one-line notification, never a traceback."""

        async def guarded() -> Any:
            from tui.engine.fence import Refused
            from tui.engine.session import SessionError

            try:
                return await work
            except Refused as exc:
                from screens.fence import FenceScreen

                self.push_screen(FenceScreen(exc))  # the whole list, not a toast cut at its edge
            except SessionError as exc:
                self.notify(str(exc), title=what, severity="error", timeout=10)
            except Exception as exc:
                # The edge of the UI: a one-line message; the traceback goes to the log it names.
                from tui.logs import masked, report

                session_dir = self.session.dir if self.session is not None else None
                log = await asyncio.to_thread(report, what, exc, session_dir)
                # The same masks as the log: an exception's text may quote a secret.
                self.notify(
                    f"{type(exc).__name__}: {masked(str(exc))} (the cause is in {log})",
                    title=what,
                    severity="error",
                    timeout=10,
                )
            return None

        return self.run_worker(guarded(), group=group, exit_on_error=False, description=what)

    def _runbook_secrets(self) -> Callable[[str], str] | None:
        """What the log masks before a session exists (its redactor masks the log from then on):
        the secrets the runbook on screen has by now."""
        if self.loaded is None or self.loaded.runbook is None:
            return None
        from tui.engine.known_secrets import known_secrets
        from tui.engine.redact import Redactor

        return Redactor(known_secrets(self.loaded.runbook, self.options.start.values), logged=False)

    @property
    def is_drill(self) -> bool:
        if self.options.drill:
            return True
        events = self.session.events if self.session is not None else []
        return bool(events) and events[0].data.get("mode") == "drill"

    @property
    def busy(self) -> bool:
        return any(w.group in ("engine", "step") and w.is_running for w in self.workers)

    # --- navigation, help, quit ----------------------------------------------------------------

    def action_show(self, name: str) -> None:
        if self.session is None:
            self.notify("Start an incident first (enter on the overview).", severity="warning")
            return
        if isinstance(self.screen, ModalScreen):
            return
        target = self.get_screen(name)
        if self.screen is target:
            return
        if self.is_session_screen(self.screen):
            self.switch_screen(name)
        else:
            self.push_screen(name)

    def is_session_screen(self, screen: Screen[Any]) -> bool:
        return any(n in self._installed_screens and self._installed_screens[n] is screen for n in SESSION_SCREENS)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_quit_console(self) -> None:
        """Quit at once only when nothing would be lost; else ask, saying what state it leaves."""
        from screens.question import ask_yes_no

        if not self.busy and self._verified_drill_open():
            assert self.session is not None
            result = self.session.result()

            def end_it(yes: bool | None) -> None:
                if yes:
                    self.run_worker(self._end_and_exit(), group="quit", exit_on_error=False)
                else:
                    self.exit(0)

            text = f"Every verification passed. End the drill now (result: {result})? No quits and leaves it resumable."
            self.push_screen(ask_yes_no("End the drill?", text), callback=end_it)
            return

        lost = self.what_quit_loses()
        if lost is None:
            self.exit(0)
            return
        title, text = lost

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if self.busy:
                self.run_worker(self._abort_and_exit(), group="quit", exit_on_error=False)
            else:
                self.exit(0)

        self.push_screen(ask_yes_no(title, text), callback=answered)

    def what_quit_loses(self) -> tuple[str, str] | None:
        """(title, what happens) when quitting now loses work or leaves a session open; None when not."""
        session = self.session
        resume = (
            f"The session stays interrupted; resume it with: rbconsole resume {session.id}"
            if session is not None
            else ""
        )
        if self.busy:
            # Aborting is the operator's decision: the session ends aborted, not interrupted.
            return "A step is running", "Abort it and quit? The session ends aborted."
        if session is not None and not session.read_only and session.state.result is None:
            return "Quit with the session open?", f"{resume} (to end it instead: F7, then x)."
        form = getattr(self.screen, "unsaved", None)
        if session is None and callable(form) and form():
            return "Quit and lose the incident form?", "Nothing is recorded until the incident starts."
        return None

    def _verified_drill_open(self) -> bool:
        """A drill still open whose plan ran and whose every verification passed."""
        session = self.session
        if session is None or session.read_only or session.state.result or not self.is_drill:
            return False
        plan = session.plan
        if plan is None or not plan.verify or session.pending_steps():
            return False
        return all((a := session.state.action("verify", c.id)) is not None and a.done for c in plan.verify)

    async def _end_and_exit(self) -> None:
        if self.session is not None:
            if self.drill_guard is not None:
                await self.drill_guard.teardown()
            await self.session.end()
        self.exit(0)

    async def _abort_and_exit(self) -> None:
        # Let the aborted step journal its end before the app (and its workers) go away.
        # Pre-checks too: one that ended after the session did would write past its end.
        running = [w for w in self.workers if w.group in ("engine", "step", "checks") and w.is_running]
        session = self.session
        if session is not None:
            session.abort("the operator quit the console")
        try:
            await asyncio.wait_for(self.workers.wait_for_complete(running), timeout=15)
        except TimeoutError:
            self.log.warning("quit: the running step did not stop within 15 s")
        if session is not None and not session.read_only and not session.state.result:
            # "Abort it and quit" is the operator's decision: the session ended aborted, not
            # interrupted (that is for a process that died or a console closed mid-way).
            with contextlib.suppress(Exception):
                await session.end("aborted", "the operator aborted the running step and quit the console")
        self.exit(1)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for node, binding in screen_bindings(screen):

            def run(action: str = binding.action, node: Any = node) -> None:
                self.call_later(self.run_action, action, node)

            title = binding.tooltip or binding.description  # the longer form where there is room
            yield SystemCommand(title, f"key: {binding.key_display or binding.key}", run)

    async def drill_setup(self, session: Session) -> None:
        """A drill scenario's setup runs as the session starts; its teardown on the way out (on_unmount)."""
        from tui.drill.live import ScenarioGuard

        self.drill_guard = ScenarioGuard.for_session(session)
        scenario = self.drill_guard.scenario
        if scenario is None or not scenario.setup:
            return
        self.notify(f"Setting up the drill scenario {scenario.id}: {scenario.title}", title="DRILL")
        if await self.drill_guard.setup():
            self.notify("Scenario ready: run the pre-checks.", title="DRILL")
            return
        # A drill whose fault was never injected rehearses nothing: it ends failed, as headless
        # does, rather than time a plan against a healthy staging and call it a drill.
        await self.drill_guard.teardown()
        await session.end("failed", "the drill scenario's setup failed")
        self.notify(
            "The scenario's setup failed, so the drill ended (failed) and its teardown ran: see the timeline.",
            title="DRILL",
            severity="error",
            timeout=15,
        )

    async def drill_finish(self) -> None:
        """Tear the scenario down (once) and keep a drill in the history with its report."""
        if self.drill_guard is None:
            return
        await self.drill_guard.teardown()
        session = self.drill_guard.session
        if session.events and session.events[0].data.get("mode") == "drill" and not session.read_only:
            from tui.drill.finish import finish

            with contextlib.suppress(OSError):
                await asyncio.to_thread(finish, session.runbook, session.events, session.dir)
        if session is not self.session:  # quit while the setup ran, before the session was attached
            await session.close()

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.drill_finish()
        if self.session is not None:
            await self.session.close()
        if self._log_mask is not None:
            from tui import logs

            logs.unmask(self._log_mask)


def create_app(
    runbook: str | Path | None = None,
    *,
    start: StartOptions | None = None,
    resume: str | None = None,
    runbook_dirs: Iterable[str] = (),
    theme: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RbConsoleApp:
    options = ConsoleOptions(
        runbook=str(runbook) if runbook is not None else None,
        resume=resume,
        runbook_dirs=tuple(runbook_dirs),
        theme=theme,
        start=start or StartOptions(),
    )
    return RbConsoleApp(options, clock=clock)
