"""A Markdown document as a tree of headed sections, read from markdown-it-py's CommonMark token
stream (with GitHub tables): paragraphs, list items (bullets, numbered, task-list items), tables and
code (fenced with its info string, or indented), each with the source line it came from.

CommonMark does the hard parts a hand-written reader gets wrong (setext headings, tables without
leading pipes, escaped pipes, list items over several lines, indented code); this module only turns
the flat token stream into sections and blocks, and never raises on odd input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from tui.runbook.placeholders import PLACEHOLDER

# a "Label: value" line: a paragraph of them is read line by line
_LABEL_LINE = re.compile(r"^\s*[^:：\s][^:：]{0,29}[:：]")


@dataclass
class Block:
    kind: str  # paragraph | bullet | numbered | check | table | code
    line: int
    text: str = ""
    lang: str = ""
    depth: int = 0
    rows: list[list[str]] = field(default_factory=list)
    done: bool = False
    fenced: bool = True  # code only: False for an indented block, which has no info string


@dataclass
class Section:
    title: str
    level: int
    line: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    parent: Section | None = field(default=None, repr=False)

    def walk(self) -> list[Section]:
        """This section and every section under it, in document order."""
        found = [self]
        for child in self.children:
            found.extend(child.walk())
        return found

    def all_blocks(self) -> list[Block]:
        return [block for section in self.walk() for block in section.blocks]

    def ancestors(self) -> list[Section]:
        found = []
        node = self.parent
        while node is not None:
            found.append(node)
            node = node.parent
        return found


_MD = MarkdownIt("commonmark", {"html": True}).enable("table")
_TASK = re.compile(r"^\[( |x|X)\]\s+")


def parse(text: str) -> Section:
    """The document as a root section (level 0) holding everything before the first heading."""
    return _Reader(_MD.parse(text.replace("\r\n", "\n"))).root


class _Reader:
    def __init__(self, tokens: list[Token]) -> None:
        self.root = Section("", 0, 1)
        self.current = self.root
        self.tokens = tokens
        self.lists: list[str] = []  # open lists, innermost last: "bullet" | "numbered"
        self.item: Block | None = None  # the list item whose first paragraph is still to come
        i = 0
        while i < len(tokens):
            i = self._step(i)

    def _add(self, block: Block) -> None:
        self.current.blocks.append(block)

    def _step(self, i: int) -> int:
        token = self.tokens[i]
        line = token.map[0] + 1 if token.map else 0
        kind = token.type
        if kind == "heading_open":
            self._heading(int(token.tag[1]), line, self.tokens[i + 1])
            return i + 3
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.lists.append("numbered" if kind == "ordered_list_open" else "bullet")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "list_item_open":
            self.item = Block(self.lists[-1], line, depth=len(self.lists) - 1)
            self._add(self.item)
        elif kind == "paragraph_open":
            text = inline_text(self.tokens[i + 1])
            if self.item is not None:
                self._item_text(self.item, text)
                self.item = None
            elif self.lists and self.current.blocks and self.current.blocks[-1].kind in ("bullet", "numbered", "check"):
                self.current.blocks[-1].text += " " + clean(text)  # a later paragraph of the same list item
            elif any(_LABEL_LINE.match(part) for part in text.split("\n")):
                # one block per source line: documents write "**Label**: value" lines one under another
                for n, part in enumerate(text.split("\n")):
                    if part.strip():
                        self._add(Block("paragraph", line + n, clean(part)))
            else:  # prose wrapped over several lines: one paragraph
                self._add(Block("paragraph", line, clean(" ".join(text.split("\n")))))
            return i + 3
        elif kind in ("fence", "code_block", "table_open", "html_block"):
            self.item = None
        if kind == "fence":
            self._add(Block("code", line + 1, token.content.rstrip("\n"), lang=_lang(token.info)))
        elif kind == "code_block":
            self._add(Block("code", line, token.content.rstrip("\n"), fenced=False))
        elif kind == "html_block" and token.content.strip() and not token.content.lstrip().startswith("<!--"):
            self._add(Block("paragraph", line, token.content.strip()))
        elif kind == "table_open":
            return self._table(i, line)
        return i + 1

    def _heading(self, level: int, line: int, inline: Token) -> None:
        parent = self.current
        while parent.level >= level and parent.parent is not None:
            parent = parent.parent
        self.current = Section(clean(inline_text(inline)), level, line, parent=parent)
        parent.children.append(self.current)

    def _item_text(self, item: Block, text: str) -> None:
        task = _TASK.match(text) if item.kind == "bullet" else None
        if task:
            item.kind, item.done, text = "check", task.group(1) != " ", text[task.end() :]
        item.text = clean(text)

    def _table(self, i: int, line: int) -> int:
        rows: list[list[str]] = []
        while self.tokens[i].type != "table_close":
            token = self.tokens[i]
            if token.type == "tr_open":
                rows.append([])
            elif token.type == "inline":
                rows[-1].append(clean(inline_text(token)))
            i += 1
        self._add(Block("table", line, rows=rows))
        return i + 1


def inline_text(token: Token) -> str:
    """An inline token as text: emphasis and link markup dropped, code spans kept in backticks."""
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "html_inline"):
            parts.append(child.content)
        elif child.type == "code_inline":
            parts.append(f"`{child.content}`")
        elif child.type == "softbreak" or child.type == "hardbreak":
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)


def _lang(info: str) -> str:
    return (info.strip().split() or [""])[0].lower().strip("{}.")


_EMOJI = re.compile("[\u2600-\u27bf\U0001f000-\U0001faff\ufe0f\u200d]")


def clean(text: str) -> str:
    """Text without emoji, line breaks and surrounding space (emphasis is gone already)."""
    text = _EMOJI.sub("", text)
    return re.sub(r"[ \t]*\n[ \t]*", " ", text).strip()


def inline_code(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def field_value(text: str, *labels: str) -> str | None:
    """The value of ``label: value`` (full- or half-width colon) when ``text`` starts with a label."""
    for label in labels:
        match = re.match(rf"^\s*{re.escape(label)}\s*[:：]\s*(.*)$", clean(text))
        if match:
            return match.group(1).strip()
    return None


def labelled(section: Section, *labels: str) -> list[Block]:
    """Items that follow a ``**label**:`` paragraph in ``section``, up to the next paragraph."""
    items: list[Block] = []
    taking = False
    for block in section.blocks:
        if block.kind == "paragraph":
            taking = any(re.match(rf"^{label}\s*[:：]?\s*$", block.text, re.I) for label in labels)
        elif taking and block.kind in ("bullet", "numbered"):
            items.append(block)
    return items


def safe(text: str) -> str:
    """Imported text never holds a ``{{ placeholder }}`` (the format has no escape for one)."""
    return PLACEHOLDER.sub(lambda m: "{ {" + m.group(1) + "} }", text)
