"""The typed runbook: what a validated TOML runbook is, as immutable pydantic models.

Field names are the public runbook keys (see SPEC "Runbook format"); the loader turns a
pydantic error location back into the file's line and column, so every model forbids
unknown keys and says in its field types what a key accepts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Self

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
# The numeric comparisons a metric is held to (the comparison forms of expect_value, SPEC).
METRIC_COMPARISON = r"^\s*(<=|>=|==|!=|<|>)\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$"


class Model(BaseModel):
    # A field's docstring is its description in `rbconsole schema` (what an editor shows on hover).
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=200_000, use_attribute_docstrings=True)
    # Alternatives, checked here for every model: of each group in ONE_OF exactly one field is
    # given, of each in AT_MOST_ONE at most one ("given": not None, not an empty list). NOUN
    # names the model in the message, GLOSS adds a word on a field ("'seconds' (a pause)").
    NOUN: ClassVar[str] = ""
    ONE_OF: ClassVar[tuple[tuple[str, ...], ...]] = ()
    AT_MOST_ONE: ClassVar[tuple[tuple[str, ...], ...]] = ()
    GLOSS: ClassVar[Mapping[str, str]] = {}

    @model_validator(mode="after")
    def _alternatives(self) -> Self:
        for group in self.ONE_OF:
            if self._given(group) != 1:
                raise ValueError(f"{self.NOUN} needs exactly one of {self._named(group)}")
        for group in self.AT_MOST_ONE:
            if self._given(group) > 1:
                raise ValueError(f"{self.NOUN} takes at most one of {self._named(group)}")
        return self

    def _given(self, group: tuple[str, ...]) -> int:
        return sum(getattr(self, name) not in (None, []) for name in group)

    def _named(self, group: tuple[str, ...]) -> str:
        named = [f"'{name}'" + (f" ({self.GLOSS[name]})" if name in self.GLOSS else "") for name in group]
        return ", ".join(named[:-1]) + " or " + named[-1]


# --- incident inputs -------------------------------------------------------------------


class Param(Model):
    prompt: str = ""
    """what the incident form asks (default: the param's name)"""
    type: Literal["string", "int", "bool", "choice", "duration"] = "string"
    """how the value is read: string, int, bool, choice (one of 'choices') or duration ('5m')"""
    choices: list[str] = []
    """the allowed values of a 'choice' param"""
    default: str | int | bool | float | None = None
    """the value when the operator gives none"""
    pattern: str | None = None
    """a regular expression the whole value must match"""
    required: bool = False
    """the incident cannot start without a value"""
    secret: bool = False
    """typed hidden, never shown, journaled or recorded"""
    allow_empty: bool = False
    """an empty value may land in a command (otherwise a step using it stops)"""

    @model_validator(mode="after")
    def _choices_fit(self) -> Param:
        if self.type == "choice" and not self.choices:
            raise ValueError("a param of type 'choice' needs 'choices'")
        if self.type == "choice" and self.default is not None and self.default not in self.choices:
            raise ValueError(f"default {self.default!r} is not one of the choices")
        return self


class Secret(Model):
    NOUN, ONE_OF = "a secret", (("env", "file"),)

    env: str | None = None
    """read the secret from this environment variable"""
    file: str | None = None
    """read the secret from this file (its first line)"""


class Host(Model):
    address: str
    """a hostname, an IP address or an alias from ssh_config"""
    user: str | None = None
    """the ssh login (default: ssh_config's, else the local user)"""
    port: int | None = Field(default=None, ge=1, le=65535)
    """the ssh port (default: ssh_config's, else 22)"""
    jump: str | None = None
    """a host id or address to reach this host through (ProxyJump)"""
    notes: str = ""
    """free text shown with the host"""


class ActionOverride(Model):
    """Where one action (by id, wherever it appears) connects under a profile."""

    NOUN = "an action override"
    AT_MOST_ONE = (("dsn", "dsn_env"), ("check_dsn", "check_dsn_env"), ("webhook", "webhook_env"))

    dsn: str | None = None
    """the sql action's DSN under this profile"""
    dsn_env: str | None = None
    """an environment variable holding the sql action's DSN under this profile"""
    check_dsn: str | None = None
    """the DSN the sql action uses as a check (pre-check, verification) under this profile: a read-only role's"""
    check_dsn_env: str | None = None
    """an environment variable holding the sql action's check DSN under this profile"""
    webhook: str | None = None
    """the notify action's webhook URL under this profile"""
    webhook_env: str | None = None
    """an environment variable holding the notify action's webhook URL under this profile"""


class Profile(Model):
    """An environment: everything that says where the runbook acts (see README "Profiles")."""

    title: str = ""
    """a short name shown where profiles are chosen"""
    description: str = ""
    """what this environment is"""
    kind: Literal["production", "staging", "lab"] = "production"
    """production, or staging / lab (fenced: a target that still comes from the production defaults stops the run)"""
    vars: dict[str, str | int | float | bool] = {}
    """vars replaced under this profile"""
    hosts: dict[str, Host] = {}
    """hosts replaced under this profile"""
    groups: dict[Id, list[Id]] = {}
    """host groups replaced under this profile"""
    ssh: SshSettings | None = None
    """[ssh] settings replaced under this profile"""
    secrets: dict[Id, Secret] = {}
    """secrets read from another env or file under this profile"""
    actions: dict[Id, ActionOverride] = {}
    """per-action connection overrides (dsn, webhook), by action id"""
    env: dict[EnvName, EnvName] = {}
    """environment variables read under another name: DATABASE_URL = 'STAGING_DATABASE_URL' moves every
    dsn_env / webhook_env / secret env of that name, and what local commands see as $DATABASE_URL"""
    shared: list[str] = []
    """vars, hosts or action ids whose production target is used on purpose (e.g. a shared status page)"""

    @property
    def fenced(self) -> bool:
        return self.kind != "production"


class SshSettings(Model):
    config: str | None = None
    """an ssh_config file (default ~/.ssh/config); --ssh-config overrides it"""
    known_hosts: str | None = None
    """a known_hosts file (default ~/.ssh/known_hosts); unknown host keys are refused; --known-hosts overrides it"""
    identity: str | None = None
    """a private key file to log in with"""
    connect_timeout: Seconds = 10.0
    """how long to wait for an ssh connection"""
    keepalive: Seconds = 5.0
    """how often to check that an ssh connection is alive"""


# --- triage ------------------------------------------------------------------------------


class Severity(Model):
    level: str
    """the level's short name, e.g. P0"""
    name: str = ""
    """what the level is called, e.g. Outage"""
    conditions: list[str] = []
    """what makes an incident this level"""
    action: Literal["rollback", "pause", "observe"] = "rollback"
    """what this level calls for: rollback, pause or observe"""
    decider: str = ""
    """who decides at this level"""
    respond_within: str = ""
    """how soon to respond, e.g. '5m' or '<15m'"""
    plan: Id | None = None
    """the plan recommended at this level"""

    @field_validator("respond_within")
    @classmethod
    def _duration_readable(cls, value: str) -> str:
        if value:
            parse_duration(value.lstrip("<≤ "))
        return value


class Risk(Model):
    id: Id
    """the risk's id"""
    level: Literal["high", "medium", "low"]
    """high, medium or low"""
    title: str
    """the risk in a few words"""
    description: str = ""
    """what could go wrong"""
    scope: str = ""
    """what it affects"""
    probability: str = ""
    """how likely it is, in the document's words"""
    impact: str = ""
    """how bad it would be"""
    prevention: list[str] = []
    """what keeps it from happening"""
    plan: Id | None = None
    """the plan that rolls it back"""


class MatrixRow(Model):
    level: str = ""
    """the severity level of this row"""
    scope: str = ""
    """how far the problem reaches"""
    situation: str = ""
    """the situation this row is for (instead of a scope)"""
    strategy: str = ""
    """what to do"""
    within: str = ""
    """how soon"""
    owner: str = ""
    """who does it"""
    plan: Id | None = None
    """the plan this row recommends"""


class FlowOption(Model):
    label: str
    """the answer as shown"""
    next: Id
    """the node this answer leads to"""


class FlowNode(Model):
    NOUN, ONE_OF, GLOSS = "a flow node", (("next", "options", "plan", "action"),), {"options": "with 'ask'"}

    text: str
    """what the node says"""
    next: Id | None = None
    """the node that follows (a node with one way on)"""
    ask: str | None = None
    """the question of a node with options"""
    options: list[FlowOption] = []
    """the answers to 'ask', each leading to a node"""
    plan: Id | None = None
    """a leaf that recommends this plan"""
    action: Literal["observe", "pause", "escalate"] | None = None
    """a leaf that recommends no rollback: observe, pause or escalate"""
    notes: str = ""
    """free text shown with the node"""

    @model_validator(mode="after")
    def _one_way_on(self) -> FlowNode:
        if self.options and not self.ask:
            raise ValueError("a flow node with 'options' needs 'ask' (the question)")
        if self.ask and not self.options:
            raise ValueError("a flow node with 'ask' needs 'options'")
        return self


class Flow(Model):
    start: Id
    """the first node"""
    nodes: dict[Id, FlowNode]
    """the flowchart's nodes by id"""


# --- checks and steps: one family, one model per kind --------------------------------------

Capture = dict[Id, Annotated[str, Field(pattern=r"^(stdout|stderr|json:.+|regex:.+)$")]]


class Action(Model):
    """Fields every check, step and verification shares, whatever its kind."""

    id: Id
    """the id conditions, --with, --override, checklists and the journal name it by"""
    title: str = ""
    """what it does, in a few words"""
    timeout: Seconds | None = None
    """how long it may run before it is stopped and failed"""
    confirm: bool = False
    """destructive: the operator must type the target's name to go on"""
    on_failure: Literal["stop", "continue", "ask"] = "stop"
    """what a failure does: stop the plan, continue, or ask the operator"""
    capture: Capture = {}
    """name -> stdout, stderr, json:PATH or regex:PATTERN: a value from the output for later steps"""
    severity: Literal["blocking", "warning"] = "blocking"
    """for a pre-check: blocking (a failure stops the plan) or warning"""
    notes: str = ""
    """free text shown with it"""
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
    NOUN, ONE_OF = "an ssh action", (("host", "hosts", "group"),)

    kind: Literal["ssh"]
    """runs a command on hosts over ssh"""
    host: Id | None = None
    """the one host to run on"""
    hosts: list[Id] = []
    """the hosts to run on"""
    group: Id | None = None
    """the host group to run on"""
    batch: int = Field(default=0, ge=0)
    """rolling: how many hosts at once (0: all)"""
    run: str
    """the shell command; placeholders are shell-quoted"""
    sudo: bool = False
    """run it with sudo"""
    expect_exit: int = 0
    """the exit status that means success"""


class LocalAction(Action):
    kind: Literal["local"]
    """runs a command on this machine (the bastion)"""
    run: str
    """the shell command; placeholders are shell-quoted"""
    cwd: str | None = None
    """the folder to run it in"""
    expect_exit: int = 0
    """the exit status that means success"""


class HttpAction(Action):
    kind: Literal["http"]
    """sends an HTTP request"""
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    """the HTTP method"""
    url: str
    """the URL; placeholders are percent-encoded in its path and query"""
    headers: dict[str, str] = {}
    """request headers"""
    json_body: Any = Field(default=None, alias="json")
    """a JSON request body"""
    body: str | None = None
    """a text request body"""
    expect_status: int | list[int] | None = 200
    """the status code (or codes) that mean success"""
    expect_json: dict[str, Any] = {}
    """dotted path -> value each must equal, or a comparison such as '< 0.01', '~ ^v1\\.'"""
    expect_max_ms: float | None = Field(default=None, gt=0)
    """the slowest answer that still passes, in milliseconds"""
    verify_tls: bool = True
    """check the server's TLS certificate"""

    model_config = ConfigDict(populate_by_name=True)


class SqlAction(Action):
    NOUN, ONE_OF, AT_MOST_ONE = "a sql action", (("dsn", "dsn_env"),), (("check_dsn", "check_dsn_env"),)

    kind: Literal["sql"]
    """runs a SQL statement on PostgreSQL"""
    dsn: str | None = None
    """the database DSN"""
    dsn_env: str | None = None
    """an environment variable holding the database DSN"""
    check_dsn: str | None = None
    """a read-only role's DSN used when the action runs as a check"""
    check_dsn_env: str | None = None
    """an environment variable holding a read-only role's DSN for checks"""
    query: str
    """the statement; placeholders become bind parameters"""
    expect_rows: int | str | None = None
    """the row count that means success (or a comparison such as '>= 1')"""
    expect_value: Any = None
    """what the first column of the first row must be (or a comparison)"""
    read_only: bool | None = None
    """run read-only (checks always are)"""


class GitAction(Action):
    NOUN, ONE_OF = "a git action", (("ref", "tag"),)

    kind: Literal["git"]
    """checks (or checks out) a ref in a git repository on this machine"""
    repo: str
    """the repository's path"""
    ref: str | None = None
    """a ref that must exist"""
    tag: str | None = None
    """a tag that must exist"""
    checkout: bool = False
    """move the work tree to the ref or tag"""


class ManualAction(Action):
    kind: Literal["manual"]
    """something the operator does by hand and confirms"""
    instruction: str = ""
    """what the operator must do"""


class NotifyAction(Action):
    NOUN, ONE_OF, AT_MOST_ONE = "a notify action", (("template", "message"),), (("webhook", "webhook_env"),)

    kind: Literal["notify"]
    """renders a message and sends it to a webhook (or prints it for the operator to send)"""
    template: Id | None = None
    """the [[templates]] id of the message"""
    message: str | None = None
    """the message text (instead of a template)"""
    webhook: str | None = None
    """the webhook URL to POST to"""
    webhook_env: str | None = None
    """an environment variable holding the webhook URL"""
    format: Literal["json", "slack", "dingtalk", "wecom", "feishu"] = "json"
    """the body to send: json, or the slack / dingtalk / wecom / feishu message"""
    markdown: bool = False
    """send the platform's Markdown message type where it has one"""
    sign_secret: Id | None = None
    """a secret that signs the request (DingTalk / Feishu signed webhooks)"""
    verify_tls: bool = True
    """check the server's TLS certificate"""

    @model_validator(mode="after")
    def _signed(self) -> NotifyAction:
        if self.sign_secret is not None and self.format not in ("dingtalk", "feishu"):
            raise ValueError("'sign_secret' is for format 'dingtalk' or 'feishu' (their signed webhooks)")
        return self


class PrometheusAction(Action):
    kind: Literal["prometheus"]
    """evaluates a PromQL query on a Prometheus server"""
    url: str
    """the Prometheus server, e.g. '{{ prometheus }}'"""
    query: str
    """the PromQL query"""
    expect: Annotated[str, Field(pattern=METRIC_COMPARISON)]
    """a comparison every series must meet, e.g. '< 0.01'; no data is its own outcome, not a pass"""
    for_: Seconds | None = Field(default=None, alias="for", gt=0)
    """a window the condition must hold over (a range query)"""
    step: Seconds | None = Field(default=None, gt=0)
    """the range query's resolution (default: the window / 30)"""
    headers: dict[str, str] = {}
    """request headers"""
    bearer_token: str | None = None
    """sent as Authorization: Bearer, e.g. "{{ prom_token }}" (a secret)"""
    verify_tls: bool = True
    """check the server's TLS certificate"""

    model_config = ConfigDict(populate_by_name=True)

    @model_validator(mode="after")
    def _window(self) -> PrometheusAction:
        if self.step is not None and self.for_ is None:
            raise ValueError("'step' is the resolution of a 'for' window: give 'for' too")
        if self.step is not None and self.for_ is not None and self.step > self.for_:
            raise ValueError("'step' cannot be longer than the 'for' window")
        return self


class WaitAction(Action):
    NOUN, ONE_OF = "a wait", (("seconds", "until"),)
    GLOSS = {"seconds": "a pause", "until": "a check id to poll"}

    kind: Literal["wait"]
    """pauses, or polls a check until it passes"""
    seconds: Seconds | None = None
    """a pause of this long"""
    until: Id | None = None
    """the check id to poll until it passes"""
    interval: Seconds = 5.0
    """how long between polls"""
    deadline: Seconds | None = None
    """how long to poll before failing"""

    @model_validator(mode="after")
    def _deadline(self) -> WaitAction:
        if self.until is not None and self.deadline is None:
            raise ValueError("a wait with 'until' needs a 'deadline'")
        return self


# One model per kind; tui/runbook/kinds.py holds what else each kind means (and checks it
# lists exactly these).
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
    """the plan's name"""
    summary: str = ""
    """what the plan does"""
    when: list[str] = []
    """when to choose this plan"""
    target_minutes: float | None = Field(default=None, gt=0)
    """how long the plan should take (drills are timed against it)"""
    # A plan that turns feature flags off leaves the current version running.
    target_version: str | None = None
    """the version this plan leaves running, when not the runbook's target_version"""
    steps: list[Step] = Field(min_length=1)
    """the steps, in order"""
    verify: list[Step] = []
    """checks run after the steps"""


class ChecklistItem(Model):
    text: str
    """the item"""
    check: Id | None = None
    """a check id that ticks the item when it passes"""


ChecklistEntry = str | ChecklistItem


class Checklists(Model):
    pre: list[ChecklistEntry] = []
    """before the rollback"""
    during: list[ChecklistEntry] = []
    """while it runs"""
    post: list[ChecklistEntry] = []
    """after it"""
    followup: list[ChecklistEntry] = []
    """follow-up work after the incident"""


class Contact(Model):
    role: str
    """what the person is responsible for"""
    name: str = ""
    """who"""
    phone: str = ""
    """a phone number"""
    email: str = ""
    """an email address"""
    chat: str = ""
    """an instant-messaging handle or group link (WeChat, DingTalk, Slack)"""
    duty: str = ""
    """what they do during the incident"""
    order: int | None = Field(default=None, ge=1, description="escalation order: 1 is called first")
    escalate: list[Literal["failed", "overdue"]] = Field(
        default=[],
        description="when this contact is due: 'failed' (a plan step or verification failed), "
        "'overdue' (the plan's target_minutes passed)",
    )


class Template(Model):
    id: Id
    """the id notify steps name it by"""
    title: str = ""
    """what the message is for"""
    body: str
    """the message text, with placeholders"""
    channel: str = ""
    """where it is sent, in the document's words"""


class RecordSection(Model):
    title: str
    """the section's heading"""
    body: str = ""
    """its text (Markdown, with placeholders)"""


class RecordSpec(Model):
    title: str = ""
    """the record's title"""
    sections: list[RecordSection] = []
    """extra sections (one titled like a built-in one replaces it)"""
    fields: dict[str, str] = Field(
        default={},
        description="record field label -> text with placeholders filled from the run, "
        'e.g. "回滚版本" = "{{ backup }}"; a value the run never learnt is marked unknown',
    )
    retrospective: list[RecordSection] = []
    """retrospective sections, left for the post-mortem"""


class Monitor(Model):
    """A signal watched during the incident. With ``kind = "prometheus"``, ``url`` and ``query``
    it is live: evaluated when the incident starts and on triage, and ``condition`` (a comparison
    such as "> 0.05") says when it fires, suggesting its ``severity`` level."""

    id: Id
    """the monitor's id"""
    title: str = ""
    """what is watched"""
    metric: str = ""
    """the metric's name, in the document's words"""
    condition: str = ""
    """when it fires, e.g. '> 0.05'"""
    severity: str = ""
    """the severity level it suggests when it fires"""
    action: str = ""
    """what to do when it fires"""
    check: Id | None = None
    """a check id that reads it"""
    kind: Literal["prometheus"] | None = None
    """prometheus: a live monitor evaluated at the start and on triage"""
    url: str | None = None
    """the Prometheus server of a live monitor"""
    query: str | None = None
    """the PromQL query of a live monitor"""
    timeout: Seconds | None = None
    """how long a live monitor's query may take"""

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
    """the scenario id (rbconsole drill --scenario)"""
    title: str
    """the scenario in a few words"""
    description: str = ""
    """what is rehearsed"""
    profile: Id | None = None
    """the profile the drill runs under"""
    plan: Id
    """the plan rehearsed"""
    target_minutes: float | None = Field(default=None, gt=0)
    """the drill's target time (default: the plan's)"""
    setup: list[Step] = []
    """steps that inject the fault before the pre-checks"""
    teardown: list[Step] = []
    """steps that always run at the end, also after a failure or an abort"""


class Appendix(Model):
    title: str
    """the appendix's heading"""
    body: str
    """its text (Markdown)"""


# --- the runbook ---------------------------------------------------------------------------


class Runbook(Model):
    schema_: Literal[1] = Field(alias="schema")
    """the runbook format's version: 1"""
    id: Id
    """the runbook's id"""
    title: str
    """the runbook's title"""
    service: str
    """the service it rolls back"""
    summary: str = ""
    """what the runbook is for"""
    owner: str = ""
    """who keeps it"""
    current_version: str = ""
    """the version running now (the one rolled back)"""
    target_version: str = ""
    """the version a rollback leaves running"""
    document_version: str = ""
    """the source document's version"""
    updated: str = ""
    """when the document was last updated"""
    principles: list[str] = []
    """the rules every rollback follows"""

    params: dict[Id, Param] = {}
    """values asked when an incident starts, by name"""
    vars: dict[Id, str | int | float | bool] = {}
    """constants (may use params), by name"""
    secrets: dict[Id, Secret] = {}
    """values read from the environment or a file; never shown, journaled or recorded"""
    profiles: dict[Id, Profile] = {}
    """environments (staging, lab, ...) that override where the runbook acts"""
    hosts: dict[Id, Host] = {}
    """ssh hosts, by id"""
    groups: dict[Id, list[Id]] = {}
    """host groups: name -> host ids"""
    ssh: SshSettings = SshSettings()
    """ssh settings"""

    severity: list[Severity] = []
    """severity levels for triage"""
    risks: list[Risk] = []
    """the risk register"""
    matrix: list[MatrixRow] = []
    """the decision matrix shown beside the flowchart"""
    flow: Flow | None = None
    """the decision flowchart that recommends a plan"""
    checks: list[Step] = []
    """pre-checks, run before a plan"""
    plans: dict[Id, Plan] = Field(min_length=1)
    """rollback plans, by id"""
    checklists: Checklists = Checklists()
    """checklists ticked during the incident"""
    monitors: list[Monitor] = []
    """signals watched during the incident"""
    contacts: list[Contact] = []
    """who to call"""
    templates: list[Template] = []
    """notification texts"""
    record: RecordSpec = RecordSpec()
    """the rollback record's title, fields and sections"""
    drills: list[Drill] = []
    """drill scenarios"""
    appendix: list[Appendix] = []
    """reference material shown with the runbook"""

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
