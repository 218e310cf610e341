"""Git checks and steps on a repository on this machine (GitPython, in a worker thread).

A check proves the target exists: ``git rev-parse --verify --end-of-options REF^{commit}``.
A step with ``checkout = true`` moves the work tree there. Either way the output lists the
commits between the current HEAD and the target, which is what the rollback takes out (or
puts back), for the record. The ref is validated by ``render_ref`` (no options, no ranges,
no ``ext::``), then passed after ``--end-of-options`` or as a commit id, so it can only ever
name a ref. Cancelling stops the wait but lets a running git command finish: a checkout cut
off halfway would leave the work tree worse than either version.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui.executors.base import ExecContext, Outcome, OutputSink, ResolvingExecutor
from tui.executors.capture import CaptureError, capture_values
from tui.executors.text import printable
from tui.runbook.model import GitAction
from tui.runbook.placeholders import render_ref, render_text

if TYPE_CHECKING:
    import git

HOST = "local"
SHOW_COMMITS = 30


class _Failed(Exception):
    """An operational failure inside the worker thread, already worded for the operator."""


@dataclass
class _Plan:
    repo: str
    ref: str
    is_tag: bool
    checkout: bool

    @property
    def spec(self) -> str:
        return f"refs/tags/{self.ref}^{{commit}}" if self.is_tag else f"{self.ref}^{{commit}}"

    @property
    def what(self) -> str:
        return f"tag {self.ref}" if self.is_tag else f"ref {self.ref}"


@dataclass
class _Result:
    lines: list[str] = field(default_factory=list)
    target: str = ""
    head: str = ""


def _plan(action: GitAction, ctx: ExecContext) -> _Plan:
    repo = os.path.expanduser(render_text(action.repo, ctx.scope))
    name = action.tag if action.tag is not None else action.ref
    assert name is not None  # the model requires one of them
    checkout = action.checkout and not ctx.check_mode
    return _Plan(repo, render_ref(name, ctx.scope), action.tag is not None, checkout)


class GitExecutor(ResolvingExecutor[GitAction, _Plan]):
    dry_run_detail = "dry run: nothing changed"

    def resolve(self, action: GitAction, ctx: ExecContext) -> _Plan:
        return _plan(action, ctx)

    cannot_resolve = "git {action.id}: cannot resolve: {why}"

    def describe_resolved(self, action: GitAction, plan: _Plan, ctx: ExecContext) -> list[str]:
        lines = [f"git -C {plan.repo} rev-parse --verify --end-of-options {plan.spec}"]
        lines.append(f"git -C {plan.repo} log --oneline TARGET..HEAD  (the commits the rollback takes out)")
        if plan.checkout:
            lines.append(f"git -C {plan.repo} checkout --quiet {plan.ref}  (refuses if local changes would be lost)")
        return [ctx.redact(line) for line in lines]

    async def run_resolved(self, action: GitAction, plan: _Plan, ctx: ExecContext, sink: OutputSink) -> Outcome:
        where = f"git {action.id} in {plan.repo}"
        timeout = action.timeout or ctx.default_timeout
        started = time.perf_counter()
        try:
            # GitPython blocks: it runs in a thread, and each git command is killed at the deadline.
            async with asyncio.timeout(timeout + 5):
                result = await asyncio.to_thread(_work, plan, timeout)
        except TimeoutError:
            return Outcome(
                "timeout",
                detail=ctx.redact(f"{where}: git did not finish within {timeout:g}s"),
                duration=_since(started),
            )
        except _Failed as exc:
            return Outcome("failed", detail=printable(ctx.redact(f"{where}: {exc}")), duration=_since(started))
        output = "\n".join(result.lines) + "\n"
        sink(HOST, "stdout", printable(ctx.redact(output)))
        summary = f"{plan.what} = {result.target[:12]}" + (" (checked out)" if plan.checkout else "")
        captured: dict[str, str] = {}
        if action.capture:
            try:
                captured = capture_values(action.capture, output)
            except CaptureError as exc:
                return Outcome("failed", detail=printable(ctx.redact(f"{where}: {exc}")), duration=_since(started))
        return Outcome(
            "ok", detail=ctx.redact(f"{where}: {summary}"), duration=_since(started), captured=captured, summary=summary
        )


def _work(plan: _Plan, timeout: float) -> _Result:
    import git

    try:
        repo = git.Repo(plan.repo)
    except git.NoSuchPathError:
        raise _Failed("no such directory") from None
    except git.InvalidGitRepositoryError:
        raise _Failed("not a git repository") from None
    with repo:
        result = _Result()
        target = _rev_parse(repo, plan, timeout)
        if target is None:
            raise _Failed(f"{plan.what} does not exist")
        result.target = target
        result.head = repo.head.commit.hexsha if repo.head.is_valid() else ""
        where = "detached" if repo.head.is_detached else repo.active_branch.name
        result.lines.append(f"{plan.what} -> {target[:12]}")
        result.lines.append(f"HEAD ({where}) -> {result.head[:12] or 'none'}")
        if result.head and result.head != target:
            result.lines += _between(repo, result.head, target, timeout)
        if plan.checkout and result.head != target:
            _checkout(repo, plan, target, timeout)
            result.lines.append(f"checked out {plan.ref}: HEAD is now {target[:12]}")
        elif plan.checkout:
            result.lines.append(f"already at {plan.ref}: nothing to check out")
        return result


def _rev_parse(repo: git.Repo, plan: _Plan, timeout: float) -> str | None:
    import git

    try:
        out = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", plan.spec, kill_after_timeout=timeout)
    except git.GitCommandError as exc:
        _refused(plan, exc)
        return None
    return str(out).strip() or None


def _refused(plan: _Plan, exc: git.GitCommandError) -> None:
    """Raise when git refused the repository itself; a missing ref is not this.

    ``rev-parse --quiet`` says nothing when a ref is missing, so anything on stderr is git refusing
    to work here. Git words its refusal in the operator's language, but the config key it asks for
    (safe.directory) is never translated: that is how a repository owned by another user is told.
    """
    stderr = str(exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'").strip()
    if "safe.directory" in stderr:
        raise _Failed(
            f"git refuses the repository: it is owned by another user (git's safe.directory check), "
            f"so whether {plan.what} exists is unknown; if the repository is trusted: "
            f"git config --global --add safe.directory {shlex.quote(plan.repo)}"
        )
    if stderr:
        first = next((line for line in stderr.splitlines() if line.strip()), stderr)
        raise _Failed(f"git refused: {first.strip()[:300]}")


def _between(repo: git.Repo, head: str, target: str, timeout: float) -> list[str]:
    """The commits HEAD has that the target lacks (rolled back) and the reverse (brought in)."""
    lines = []
    for title, spec in (("rolled back", f"{target}..{head}"), ("brought in", f"{head}..{target}")):
        out = str(repo.git.log("--no-decorate", "--format=%h %s", spec, "--", kill_after_timeout=timeout))
        commits = [line for line in out.splitlines() if line.strip()]
        if not commits:
            continue
        lines.append(f"{len(commits)} commit{'s' if len(commits) != 1 else ''} {title}:")
        lines += [f"  {commit}" for commit in commits[:SHOW_COMMITS]]
        if len(commits) > SHOW_COMMITS:
            lines.append(f"  … {len(commits) - SHOW_COMMITS} more")
    return lines


def _checkout(repo: git.Repo, plan: _Plan, target: str, timeout: float) -> None:
    import git

    # A local branch is checked out by name (HEAD stays on it); anything else by commit id,
    # which leaves HEAD detached at the tag as `git checkout TAG` would.
    branch = not plan.is_tag and f"refs/heads/{plan.ref}" in {ref.path for ref in repo.branches}
    try:
        repo.git.checkout("--quiet", plan.ref if branch else target, "--", kill_after_timeout=timeout)
    except git.GitCommandError as exc:
        stderr = " ".join(str(exc.stderr).split()).removeprefix("stderr: ").strip("' ")
        raise _Failed(f"checkout of {plan.ref} refused: {stderr[:300]}") from None
    if repo.head.commit.hexsha != target:
        raise _Failed(f"checkout of {plan.ref} left HEAD at {repo.head.commit.hexsha[:12]}")


def _since(started: float) -> float:
    return time.perf_counter() - started
