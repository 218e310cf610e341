"""What rbconsole assumes of Textual, asyncssh and tomli, checked against the installed versions:
an upgrade that breaks an assumption fails here, naming it, before it misleads an operator."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import ClassVar

import pytest
import tomli
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable

from tui.executors.ssh_connect import resolve
from tui.runbook.loader import TOML_MESSAGES, load_text
from tui.runbook.model import Host, SshSettings
from tui.widgets.keys import screen_bindings

# --- Textual: the keys the palette and the help screen list ---------------------------------


class _Base(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "base_only", "Base only"),
        Binding("y", "replaced", "Replaced below"),
    ]


class _Steps(_Base):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "run", "Run step"),  # not priority: the focused table's enter wins the key
        Binding("y", "replacing", "Replacing"),
        Binding("z", "hidden", show=False),  # no description: not listed
    ]

    def compose(self) -> ComposeResult:
        yield DataTable()


class _Keys(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+t", "toggle_thing", "Toggle thing")]

    def on_mount(self) -> None:
        self.push_screen(_Steps())


async def test_screen_bindings_are_what_textual_binds() -> None:
    app = _Keys()
    async with app.run_test() as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen.focused, DataTable)
        listed = {(node, b.action) for node, b in screen_bindings(screen)}
        # Everything Textual says is active on the screen or the app, with words, is listed (but
        # the palette's own key: the help screen names ctrl+p itself, the palette needs no entry) ...
        active = {
            (a.node, a.binding.action)
            for a in screen.active_bindings.values()
            if a.node in (screen, app) and a.binding.description and a.binding.action != "command_palette"
        }
        assert active <= listed, f"Textual {version('textual')} binds what the help screen does not list"
        # ... and so is what the focused table hides (its enter), and a subclass replaces its base's key.
        actions = [b.action for _, b in screen_bindings(screen)]
        assert {"run", "base_only", "replacing", "toggle_thing"} <= set(actions)
        assert "replaced" not in actions and "hidden" not in actions


# --- asyncssh: ssh_config resolution ---------------------------------------------------------


def test_ssh_config_resolves_as_openssh_reads_it(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host app\n  HostName 127.0.0.9\n  Port 2200\n  User deploy\n  ProxyJump hop\n"
        "  HostKeyAlias app-key\n  ServerAliveInterval 3\n  ServerAliveCountMax 2\n  Ciphers aes128-ctr\n"
        "Host hop\n  HostName 127.0.0.8\n  User jumper\n"
    )
    try:
        target = resolve("app", {"app": Host(address="app")}, SshSettings(config=str(config)))
    except Exception as exc:  # the message names what moved
        pytest.fail(f"asyncssh {version('asyncssh')}: ssh_config lookup broke: {exc}")
    assert (target.hostname, target.port, target.user) == ("127.0.0.9", 2200, "deploy")
    assert target.host_key_alias == "app-key" and target.config_ciphers
    assert (target.keepalive_interval, target.keepalive_count) == (3.0, 2)
    assert target.jump is not None and target.jump.where == "jumper@127.0.0.8:22"
    # The runbook's own values win over ssh_config's.
    mine = resolve("app", {"app": Host(address="app", user="me", port=2201)}, SshSettings(config=str(config)))
    assert (mine.user, mine.port) == ("me", 2201)


# --- tomli: where a syntax error is and what it says -----------------------------------------

TRIGGERS = {
    "overwrite": ("a = 1\na = 2\n", "duplicate key 'a' (already set above)", (2, 1)),
    "declare": ("[t]\nx = 1\n[t]\n", "table [t] is declared twice", (3, 1)),
    "inline": ("t = { a = 1, a = 2 }\n", "duplicate key", (1, None)),
    "newline": ('a = "x\ny"\n', "unterminated string", (1, None)),
    "unterminated": ('a = 1\nb = """never closed\n', "a multi-line string opened here is never closed", (2, 5)),
}


def test_every_toml_message_has_a_trigger() -> None:
    assert set(TRIGGERS) == set(TOML_MESSAGES)


@pytest.mark.parametrize("name", sorted(TOML_MESSAGES))
def test_tomli_still_says_what_the_loader_rewords(name: str) -> None:
    text, reworded, (line, col) = TRIGGERS[name]
    with pytest.raises(tomli.TOMLDecodeError) as caught:
        tomli.loads(text)
    assert caught.value.msg.startswith(TOML_MESSAGES[name]), (
        f"tomli {version('tomli')} words this error {caught.value.msg!r}: "
        f"update TOML_MESSAGES[{name!r}] in tui/runbook/loader.py"
    )
    (problem,) = load_text(text, "r.toml").problems
    assert reworded in problem.message and problem.line == line
    assert col is None or problem.col == col


def test_a_syntax_error_mid_file_is_where_tomli_says() -> None:
    (problem,) = load_text('schema = 1\nid = "r"\ntitle = = "t"\n', "r.toml").problems
    assert (problem.line, problem.col) == (3, 9)
    assert problem.message.startswith("TOML syntax error: invalid value")
