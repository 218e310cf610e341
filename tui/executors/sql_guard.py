"""What a read-only SQL check may send: one statement that only reads.

A READ ONLY transaction stops ordinary writes, but not everything: transaction control ends
it (``COMMIT; UPDATE ...``), ``SET`` / ``set_config`` turn it off for what follows, and some
statements and functions act outside the database's tables altogether (``COPY ... TO
PROGRAM`` runs a shell on the server, large objects read and write server files,
``pg_terminate_backend`` kills sessions, ``dblink`` opens a connection of its own). So a
check's query is read as PostgreSQL lexes it (comments, string literals, dollar quotes and
quoted identifiers set aside) and refused unless it is one statement starting with SELECT,
WITH, VALUES, TABLE, SHOW or EXPLAIN that names none of those. The executor also sends it
with the extended protocol (a second statement is a syntax error there) in a session whose
default is read-only: the guard is one of three walls, not the only one.

A function the database's owner wrote may still do anything it is allowed to; that is why
a check's DSN should be a role that can only read (``check_dsn``).
"""

from __future__ import annotations

import re

STARTS = frozenset({"select", "with", "values", "table", "show", "explain"})
# Words that write or end the transaction inside an otherwise reading statement (a CTE that
# deletes, SELECT ... INTO, FOR UPDATE); a statement that starts with anything but a read is
# refused by its first word, and a second statement by its ';'.
WRITING = frozenset(
    {
        "insert", "update", "delete", "merge", "into", "truncate", "copy", "create", "drop", "alter",
        "grant", "revoke", "call", "commit", "rollback", "savepoint", "prepare", "execute", "notify",
    }
)  # fmt: skip
# Functions that act outside a read-only transaction's reach, or run SQL text of their own.
FUNCTIONS = frozenset(
    {
        "set_config", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile",
        "pg_promote", "pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop",
        "pg_start_backup", "pg_stop_backup", "pg_wal_replay_pause", "pg_wal_replay_resume",
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_file_write",
        "pg_file_rename", "pg_file_unlink", "pg_file_sync", "pg_logdir_ls", "pg_notify",
        "pg_log_backend_memory_contexts", "pg_import_system_collations", "pg_logical_emit_message",
        "pg_export_snapshot", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
        "cursor_to_xml", "cursor_to_xmlschema", "nextval", "setval", "loread", "lowrite",
        "txid_current", "pg_current_xact_id",
    }
)  # fmt: skip
FUNCTION_PREFIXES = ("lo_", "dblink", "pg_advisory", "pg_try_advisory", "pg_stat_reset", "pg_replication_")
FUNCTION_PARTS = ("replication_slot",)

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line>--[^\n]*)
  | (?P<block>/\*)
  | (?P<estring>[eE]'(?:[^'\\]|\\.|'')*')
  | (?P<ustring>[uU]&['"])
  | (?P<string>'(?:[^']|'')*')
  | (?P<dollar>\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$)
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_$\u0080-\U0010ffff]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


class ReadOnlyRefused(ValueError):
    """The query is not one statement that only reads."""


def check_read_only(query: str) -> None:
    """Raise ReadOnlyRefused, saying why, unless ``query`` is one reading statement."""
    words = list(_words(query))
    if not words:
        raise ReadOnlyRefused("the query is empty")
    first = words[0][0]
    if first not in STARTS:
        raise ReadOnlyRefused(
            f"a read-only check must start with SELECT, WITH, VALUES, TABLE, SHOW or EXPLAIN, not {first.upper()}"
        )
    for word, quoted in words:
        if word == ";":
            raise ReadOnlyRefused("a read-only check is one statement; remove what follows the ';'")
        if not quoted and word in WRITING:
            raise ReadOnlyRefused(
                f"{word.upper()} is not allowed in a read-only check (it writes or ends the transaction)"
            )
        if _escapes(word):
            raise ReadOnlyRefused(f"{word}() is not allowed in a read-only check (it acts outside the transaction)")


def _escapes(name: str) -> bool:
    return name in FUNCTIONS or name.startswith(FUNCTION_PREFIXES) or any(part in name for part in FUNCTION_PARTS)


def _words(query: str) -> list[tuple[str, bool]]:
    """The query's identifiers and keywords (lower-cased; quoted identifiers unquoted, marked)
    and each ``;`` that a statement follows, with comments and literals skipped."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(query)
    while i < n:
        match = _TOKEN.match(query, i)
        assert match is not None  # "other" matches any character
        kind, text = match.lastgroup, match.group()
        i = match.end()
        if kind == "block":
            i = _block_end(query, i)
        elif kind == "dollar":
            end = query.find(text, i)
            if end < 0:
                raise ReadOnlyRefused("the query has an unterminated dollar-quoted string")
            i = end + len(text)
        elif kind == "ustring":
            raise ReadOnlyRefused("U& escapes are not allowed in a read-only check (they can spell any name)")
        elif kind == "string" or kind == "estring":
            continue
        elif kind == "quoted":
            out.append((text[1:-1].replace('""', '"').lower(), True))
        elif kind == "word":
            out.append((text.lower(), False))
        elif text == "'" or text == '"':
            raise ReadOnlyRefused("the query has an unterminated quote")
        elif text == ";":
            out.append((";", False))
    while out and out[-1][0] == ";":
        out.pop()  # a trailing ; ends the one statement
    return out


def _block_end(query: str, i: int) -> int:
    """The end of a /* */ comment opened before ``i`` (they nest in PostgreSQL)."""
    depth = 1
    while depth:
        opening, closing = query.find("/*", i), query.find("*/", i)
        if closing < 0:
            raise ReadOnlyRefused("the query has an unterminated /* comment")
        if 0 <= opening < closing:
            depth, i = depth + 1, opening + 2
        else:
            depth, i = depth - 1, closing + 2
    return i
