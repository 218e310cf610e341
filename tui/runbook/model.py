"""The typed runbook: what a validated TOML runbook is, as immutable pydantic models.

Field names are the public runbook keys (see SPEC "Runbook format"); the loader turns a
pydantic error location back into the file's line and column, so every model forbids
unknown keys and says in its field types what a key accepts.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from tui.runbook.durations import parse_duration

SCHEMA_VERSION = 1
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]

Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]
Seconds = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*(ms|s|m|h|d)?\s*)+$"},
            ],
            "description": "seconds, or a duration such as '90s', '5m', '1h30m'",
        }
    ),
]
Kind = Literal["ssh", "local", "http", "sql", "git", "manual", "notify", "wait", "prometheus"]
KINDS: tuple[str, ...] = ("ssh", "local", "http", "sql", "git", "manual", "notify", "wait", "prometheus")
# The numeric comparisons a metric is held to (the comparison forms of expect_value, SPEC).
METRIC_COMPARISON = r"^\s*(<=|>=|==|!=|<|>)\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"
NOTIFY_FORMATS = ("json", "slack", "dingtalk", "wecom", "feishu")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=200_000)


# --- incident inputs -------------------------------------------------------------------


class Param(Model):
    prompt: str = ""
    type: Literal["string", "int", "bool", "choice", "duration"] = "string"
    choices: list[str] = []
    default: str | int | bool | float | None = None
    pattern: str | None = None
    required: bool = False
    secret: bool = False
    allow_empty: bool = False  # an empty value may land in a command (otherwise it stops the step)

    @model_validator(mode="after")
    def _choices_fit(self) -> Param:
        if self.type == "choice" and not self.choices:
            raise ValueError("a param of type 'choice' needs 'choices'")
        if self.type == "choice" and self.default is not None and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not one of the choices")
        return self


class Secret(Model):
    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret needs exactly one of 'env' or 'file'")
        return self


class Host(Model):
    address: str
    user: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    jump: str | None = None
    notes: str = ""


class ActionOverride(Model):
    """Where one action (by id, wherever it appears) connects under a profile."""

    dsn: str | None = None
    dsn_env: str | None = None
    webhook: str | None = None
    webhook_env: str | None = None

    @model_validator(mode="after")
    def _one_each(self) -> ActionOverride:
        if self.dsn is not None and self.dsn_env is not None:
            raise ValueError("give either 'dsn' or 'dsn_env', not both")
        if self.webhook is not None and self.webhook_env is not None:
            raise ValueError("give either 'webhook' or 'webhook_env', not both")
        return self


class Profile(Model):
    """An environment: everything that says where the runbook acts (see README "Profiles")."""

    title: str = ""
    description: str = ""
    # staging and lab are fenced: a target that comes from the runbook's own (production)
    # values rather than from this profile or --var stops the run before it starts.
    kind: Literal["production", "staging", "lab"] = "production"
    vars: dict[str, str | int | float | bool] = {}
    hosts: dict[str, Host] = {}
    groups: dict[Id, list[Id]] = {}
    ssh: SshSettings | None = None
    secrets: dict[Id, Secret] = {}
    actions: dict[Id, ActionOverride] = {}
    # Environment variables read under another name: DATABASE_URL = "STAGING_DATABASE_URL" moves
    # every dsn_env / webhook_env / secret env of that name, and what local commands see as $DATABASE_URL.
    env: dict[EnvName, EnvName] = {}
    # Vars, hosts or action ids whose target is the production one on purpose (a shared status page).
    shared: list[str] = []

    @property
    def fenced(self) -> bool:
        return self.kind != "production"


class SshSettings(Model):
    config: str | None = None
    known_hosts: str | None = None
    identity: str | None = None
    connect_timeout: Seconds = 10.0
    keepalive: Seconds = 5.0


# --- triage ------------------------------------------------------------------------------


class Severity(Model):
    level: str
    name: str = ""
    conditions: list[str] = []
    action: Literal["rollback", "pause", "observe"] = "rollback"
    decider: str = ""
    respond_within: str = ""
    plan: Id | None = None

    @field_validator("respond_within")
    @classmethod
    def _duration_readable(cls, value: str) -> str:
        if value:
            parse_duration(value.lstrip("<≤ "))
        return value


class Risk(Model):
    id: Id
    level: Literal["high", "medium", "low"]
    title: str
    description: str = ""
    scope: str = ""
    probability: str = ""
    impact: str = ""
    prevention: list[str] = []
    plan: Id | None = None


class MatrixRow(Model):
    level: str = ""
    scope: str = ""
    situation: str = ""
    strategy: str = ""
    within: str = ""
    owner: str = ""
    plan: Id | None = None


class FlowOption(Model):
    label: str
    next: Id


class FlowNode(Model):
    text: str
    next: Id | None = None
    ask: str | None = None
    options: list[FlowOption] = []
    plan: Id | None = None
    action: Literal["observe", "pause", "escalate"] | None = None
    notes: str = ""

    @model_validator(mode="after")
    def _one_way_on(self) -> FlowNode:
        ways = [self.next is not None, bool(self.options), self.plan is not None, self.action is not None]
        if sum(ways) != 1:
            raise ValueError("a flow node needs exactly one of 'next', 'options' (with 'ask'), 'plan' or 'action'")
        if self.options and not self.ask:
            raise ValueError("a flow node with 'options' needs 'ask' (the question)")
        if self.ask and not self.options:
            raise ValueError("a flow node with 'ask' needs 'options'")
        return self


class Flow(Model):
    start: Id
    nodes: dict[Id, FlowNode]


# --- checks and steps: one family, one model per kind --------------------------------------

Capture = dict[Id, Annotated[str, Field(pattern=r"^(stdout|stderr|json:.+|regex:.+)$")]]


class Action(Model):
    """Fields every check, step and verification shares, whatever its kind."""

    id: Id
    title: str = ""
    timeout: Seconds | None = None
    confirm: bool = False
    on_failure: Literal["stop", "continue", "ask"] = "stop"
    capture: Capture = {}
    severity: Literal["blocking", "warning"] = "blocking"
    notes: str = ""
    when: str | None = Field(
        default=None,
        description="a plan step or verification runs only if this condition holds, e.g. "
        '"steps.restore_script.failed", "captured.error_rate > 0.05" (see README: Conditions)',
    )
    optional: bool = Field(
        default=False,
        description="a plan step the operator decides on: the console asks run/skip; headless skips it "
        "unless --with ID; --yes never answers it",
    )
    ask: str = Field(default="", description="an optional step's question, in the document's words ('if necessary')")

    @model_validator(mode="after")
    def _ask_is_for_optional(self) -> Action:
        if self.ask and not self.optional:
            raise ValueError("'ask' is the question of an optional step: add 'optional = true'")
        return self


class SshAction(Action):
    kind: Literal["ssh"]
    host: Id | None = None
    hosts: list[Id] = []
    group: Id | None = None
    batch: int = Field(default=0, ge=0)
    run: str
    sudo: bool = False
    expect_exit: int = 0

    @model_validator(mode="after")
    def _one_target(self) -> SshAction:
        if sum([self.host is not None, bool(self.hosts), self.group is not None]) != 1:
            raise ValueError("an ssh action needs exactly one of 'host', 'hosts' or 'group'")
        return self


class LocalAction(Action):
    kind: Literal["local"]
    run: str
    cwd: str | None = None
    expect_exit: int = 0


class HttpAction(Action):
    kind: Literal["http"]
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    url: str
    headers: dict[str, str] = {}
    json_body: Any = Field(default=None, alias="json")
    body: str | None = None
    expect_status: int | list[int] | None = 200
    expect_json: dict[str, Any] = {}
    expect_max_ms: float | None = Field(default=None, gt=0)
    verify_tls: bool = True

    model_config = ConfigDict(populate_by_name=True)


class SqlAction(Action):
    kind: Literal["sql"]
    dsn: str | None = None
    dsn_env: str | None = None
    # A read-only role's DSN for when the action runs as a check (pre-check or verification).
    check_dsn: str | None = None
    check_dsn_env: str | None = None
    query: str
    expect_rows: int | str | None = None
    expect_value: Any = None
    read_only: bool | None = None

    @model_validator(mode="after")
    def _one_dsn(self) -> SqlAction:
        if (self.dsn is None) == (self.dsn_env is None):
            raise ValueError("a sql action needs exactly one of 'dsn' or 'dsn_env'")
        if self.check_dsn is not None and self.check_dsn_env is not None:
            raise ValueError("a sql action takes at most one of 'check_dsn' or 'check_dsn_env'")
        return self


class GitAction(Action):
    kind: Literal["git"]
    repo: str
    ref: str | None = None
    tag: str | None = None
    checkout: bool = False

    @model_validator(mode="after")
    def _one_ref(self) -> GitAction:
        if (self.ref is None) == (self.tag is None):
            raise ValueError("a git action needs exactly one of 'ref' or 'tag'")
        return self


class ManualAction(Action):
    kind: Literal["manual"]
    instruction: str = ""


class NotifyAction(Action):
    kind: Literal["notify"]
    template: Id | None = None
    message: str | None = None
    webhook: str | None = None
    webhook_env: str | None = None
    format: Literal["json", "slack", "dingtalk", "wecom", "feishu"] = "json"
    markdown: bool = False  # send the platform's Markdown message type where it has one
    sign_secret: Id | None = None  # a secret: DingTalk / Feishu signed webhooks
    verify_tls: bool = True

    @model_validator(mode="after")
    def _has_text(self) -> NotifyAction:
        if (self.template is None) == (self.message is None):
            raise ValueError("a notify action needs exactly one of 'template' or 'message'")
        if self.webhook is not None and self.webhook_env is not None:
            raise ValueError("a notify action takes 'webhook' or 'webhook_env', not both")
        if self.sign_secret is not None and self.format not in ("dingtalk", "feishu"):
            raise ValueError("'sign_secret' is for format 'dingtalk' or 'feishu' (their signed webhooks)")
        return self


class PrometheusAction(Action):
    kind: Literal["prometheus"]
    url: str  # the Prometheus server, e.g. "{{ prometheus }}"
    query: str  # PromQL
    expect: Annotated[str, Field(pattern=METRIC_COMPARISON)]  # "< 0.01", ">= 3": every series must meet it
    for_: Seconds | None = Field(default=None, alias="for", gt=0)  # held over this window (a range query)
    step: Seconds | None = Field(default=None, gt=0)  # the range query's resolution (default: for / 30)
    headers: dict[str, str] = {}
    bearer_token: str | None = None  # e.g. "{{ prom_token }}" (a secret): sent as Authorization: Bearer
    verify_tls: bool = True

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _window(self) -> PrometheusAction:
        if self.step is not None and self.for_ is None:
            raise ValueError("'step' is the resolution of a 'for' window: give 'for' too")
        if self.step is not None and self.for_ is not None and self.step > self.for_:
            raise ValueError("'step' cannot be longer than the 'for' window")
        return self


class WaitAction(Action):
    kind: Literal["wait"]
    seconds: Seconds | None = None
    until: Id | None = None
    interval: Seconds = 5.0
    deadline: Seconds | None = None

    @model_validator(mode="after")
    def _sleep_or_poll(self) -> WaitAction:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("a wait needs exactly one of 'seconds' (a pause) or 'until' (a check id to poll)")
        if self.until is not None and self.deadline is None:
            raise ValueError("a wait with 'until' needs a 'deadline'")
        return self


Step = Annotated[
    SshAction
    | LocalAction
    | HttpAction
    | SqlAction
    | GitAction
    | ManualAction
    | NotifyAction
    | WaitAction
    | PrometheusAction,
    Field(discriminator="kind"),
]


# --- plans, checklists, people, words ------------------------------------------------------


class Plan(Model):
    title: str
    summary: str = ""
    when: list[str] = []
    target_minutes: float | None = Field(default=None, gt=0)
    # The version this plan leaves running, when it is not the runbook's target_version (a plan
    # that turns feature flags off leaves the current version running).
    target_version: str | None = None
    steps: list[Step] = Field(min_length=1)
    verify: list[Step] = []


class ChecklistItem(Model):
    text: str
    check: Id | None = None


ChecklistEntry = str | ChecklistItem


class Checklists(Model):
    pre: list[ChecklistEntry] = []
    during: list[ChecklistEntry] = []
    post: list[ChecklistEntry] = []
    followup: list[ChecklistEntry] = []


class Contact(Model):
    role: str
    name: str = ""
    phone: str = ""
    email: str = ""
    chat: str = ""  # an instant-messaging handle or group link (WeChat, DingTalk, Slack)
    duty: str = ""
    order: int | None = Field(default=None, ge=1, description="escalation order: 1 is called first")
    escalate: list[Literal["failed", "overdue"]] = Field(
        default=[],
        description="when this contact is due: 'failed' (a plan step or verification failed), "
        "'overdue' (the plan's target_minutes passed)",
    )


class Template(Model):
    id: Id
    title: str = ""
    body: str
    channel: str = ""


class RecordSection(Model):
    title: str
    body: str = ""


class RecordSpec(Model):
    title: str = ""
    sections: list[RecordSection] = []
    fields: dict[str, str] = Field(
        default={},
        description="record field label -> text with placeholders filled from the run, "
        'e.g. "回滚版本" = "{{ backup }}"; a value the run never learnt is marked unknown',
    )
    retrospective: list[RecordSection] = []


class Monitor(Model):
    """A signal watched during the incident. With ``kind = "prometheus"``, ``url`` and ``query``
    it is live: evaluated when the incident starts and on triage, and ``condition`` (a comparison
    such as "> 0.05") says when it fires, suggesting its ``severity`` level."""

    id: Id
    title: str = ""
    metric: str = ""
    condition: str = ""
    severity: str = ""
    action: str = ""
    check: Id | None = None
    kind: Literal["prometheus"] | None = None
    url: str | None = None
    query: str | None = None
    timeout: Seconds | None = None

    @model_validator(mode="after")
    def _live_needs_all(self) -> Monitor:
        live = [self.kind is not None, self.url is not None, self.query is not None]
        if any(live) and not all(live):
            raise ValueError("a live monitor needs 'kind = \"prometheus\"', 'url' and 'query' together")
        if all(live) and not re.match(METRIC_COMPARISON, self.condition):
            raise ValueError(
                f"a live monitor's 'condition' must be a comparison such as '> 0.05', not {self.condition!r}"
            )
        return self

    @property
    def live(self) -> bool:
        return self.kind is not None


class Drill(Model):
    id: Id
    title: str
    description: str = ""
    profile: Id | None = None
    plan: Id
    target_minutes: float | None = Field(default=None, gt=0)
    setup: list[Step] = []
    teardown: list[Step] = []


class Appendix(Model):
    title: str
    body: str


# --- the runbook ---------------------------------------------------------------------------


class Runbook(Model):
    schema_: Literal[1] = Field(alias="schema")
    id: Id
    title: str
    service: str
    summary: str = ""
    owner: str = ""
    current_version: str = ""
    target_version: str = ""
    document_version: str = ""
    updated: str = ""
    principles: list[str] = []

    params: dict[Id, Param] = {}
    vars: dict[Id, str | int | float | bool] = {}
    secrets: dict[Id, Secret] = {}
    profiles: dict[Id, Profile] = {}
    hosts: dict[Id, Host] = {}
    groups: dict[Id, list[Id]] = {}
    ssh: SshSettings = SshSettings()

    severity: list[Severity] = []
    risks: list[Risk] = []
    matrix: list[MatrixRow] = []
    flow: Flow | None = None
    checks: list[Step] = []
    plans: dict[Id, Plan] = Field(min_length=1)
    checklists: Checklists = Checklists()
    monitors: list[Monitor] = []
    contacts: list[Contact] = []
    templates: list[Template] = []
    record: RecordSpec = RecordSpec()
    drills: list[Drill] = []
    appendix: list[Appendix] = []

    model_config = ConfigDict(populate_by_name=True)

    def check(self, check_id: str) -> Step | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def template(self, template_id: str) -> Template | None:
        return next((t for t in self.templates if t.id == template_id), None)

    def drill(self, drill_id: str) -> Drill | None:
        return next((d for d in self.drills if d.id == drill_id), None)

    def group_hosts(self, group: str) -> list[str]:
        return list(self.groups.get(group, []))


Profile.model_rebuild()
