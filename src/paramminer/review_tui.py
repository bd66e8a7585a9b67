"""The interactive review session: one item at a time, single keys, short warehouse writes.

Rendering is rich; keys are read with termios/tty in cbreak mode (no curses), or line by line
when stdin is not a terminal (`printf 'a\\nv 1.5B\\nq\\n' | paramminer review`). The warehouse
is opened only to read the next item and to write each decision, then closed again, so two
reviewers' sessions interleave instead of locking each other out.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import tty
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from paramminer.errors import WarehouseBusyError
from paramminer.numbers import humanize
from paramminer.review import (
    Candidate,
    Decision,
    FlagInfo,
    ItemFilter,
    ReviewError,
    ReviewItem,
    candidates_for,
    decide,
    flags_for,
    get_item,
    list_items,
    parse_value,
    undo_decision,
)
from paramminer.warehouse import Warehouse

KEY_HELP = ("[a] accept  [1-9] pick candidate  [v] type value  [n] not stated in paper  "
            "[s] skip  [u] undo  [q] quit")
PROMPT = "key> "
EVIDENCE_WIDTH = 240  # characters of evidence shown around the number


class KeySource(Protocol):
    """Where the session's keys come from."""

    def read_key(self) -> str:
        """One key ('' at end of input)."""

    def read_line(self, prompt: str) -> str:
        """A line of text (for a typed value)."""


class TerminalKeys:
    """Single keys from a terminal in cbreak mode (Ctrl-C still interrupts)."""

    def __init__(self, console: Console, fd: int | None = None) -> None:
        self.console = console
        self.fd = sys.stdin.fileno() if fd is None else fd

    def read_key(self) -> str:
        """One key press; escape sequences (arrow keys) come back as one ignored key."""
        old = termios.tcgetattr(self.fd)
        try:
            tty.setcbreak(self.fd)
            data = os.read(self.fd, 1)
            if data == b"\x1b":
                while select.select([self.fd], [], [], 0.05)[0]:
                    data += os.read(self.fd, 8)
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
        if data in (b"", b"\x04"):
            return ""
        return data.decode("utf-8", errors="replace")

    def read_line(self, prompt: str) -> str:
        """A line typed in the terminal's normal (cooked) mode."""
        try:
            return self.console.input(prompt)
        except EOFError:
            return ""


class LineKeys:
    """Keys from lines of text (stdin not a terminal): `a`, `3`, `v 1.5B` or `v` then `1.5B`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdin
        self.pending = ""

    def _line(self) -> str | None:
        line = self.stream.readline()
        return None if not line else line.strip()

    def read_key(self) -> str:
        """The first character of the next non-empty line; the rest is kept for read_line."""
        while True:
            line = self._line()
            if line is None:
                return ""
            if line:
                self.pending = line[1:].strip()
                return line[0]

    def read_line(self, prompt: str) -> str:
        """The rest of the key's line, else the next line."""
        if self.pending:
            text, self.pending = self.pending, ""
            return text
        return self._line() or ""


@dataclass
class SessionSummary:
    """What one session did."""

    decisions: list[Decision] = field(default_factory=list)
    undone: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class _Screen:
    item: ReviewItem
    candidates: list[Candidate]
    flags: list[FlagInfo]
    remaining: int


def _highlight(evidence: str, mention: str | None) -> Text:
    """The evidence sentence, trimmed around the number, with the number highlighted."""
    position = evidence.find(mention) if mention else -1
    if position < 0:
        return Text(evidence[:EVIDENCE_WIDTH] + ("…" if len(evidence) > EVIDENCE_WIDTH else ""))
    assert mention is not None
    start = max(0, position - EVIDENCE_WIDTH // 2)
    end = min(len(evidence), position + len(mention) + EVIDENCE_WIDTH // 2)
    text = Text("…" if start else "")
    text.append(evidence[start:position])
    text.append(mention, style="bold reverse")
    text.append(evidence[position + len(mention):end])
    if end < len(evidence):
        text.append("…")
    return text


def _value(value: int | None, active: int | None = None) -> str:
    if value is None:
        return "none"
    shown = f"{humanize(value)} ({value:,})"
    return f"{shown}, active {humanize(active)}" if active is not None else shown


def render_item(console: Console, item: ReviewItem, candidates: list[Candidate],
                flags: list[FlagInfo], status: str = "") -> None:
    """Draw one item: paper, suggestion, decision in force, reasons, numbered candidates."""
    head = Text()
    head.append(f"item {item.item_key}", style="bold")
    head.append(f"   {status}\n")
    head.append(f"paper {item.paper_id}: ", style="bold")
    head.append(item.title or "(no title)")
    head.append(f"\n{item.publication_date or 'date unknown'} · {item.domain or 'domain unknown'}")
    console.print(Panel(head, expand=True))
    kind = "headline" if item.is_headline else "other system"
    console.print(Text.assemble(
        ("suggested: ", "bold"), _value(item.suggested, item.suggested_active),
        f"   system {item.system or '(unnamed)'!s} ({kind})",
        f"   confidence {item.confidence:.2f}" if item.confidence is not None else "",
    ))
    if item.decision_id is not None:
        console.print(Text.assemble(
            ("decision in force: ", "bold"),
            f"{item.decided_action} {_value(item.decided_value, item.decided_active)} "
            f"by {item.decided_by} at {item.decided_at:%Y-%m-%d %H:%M}"
            + (f" ({item.decided_note})" if item.decided_note else ""),
        ))
    console.print(Text("reasons: ", style="bold") + Text(", ".join(item.reasons) or "none"))
    for flag in flags:
        console.print(Text(f"  - {flag.reason}: {flag.detail or ''}"))
    table = Table(show_header=True, header_style="bold", expand=True, box=None)
    for name, justify in (("#", "right"), ("value", "right"), ("page", "right"),
                          ("kind", "left"), ("scope", "left"), ("evidence", "left")):
        table.add_column(name, justify=justify, overflow="fold",  # type: ignore[arg-type]
                         ratio=6 if name == "evidence" else None)
    for number, candidate in enumerate(candidates, 1):
        marker = "*" if candidate.candidate_id == item.candidate_id else ""
        table.add_row(f"{number}{marker}", humanize(candidate.parameters),
                      f"p{candidate.page}", candidate.kind,
                      f"{candidate.scope} {candidate.score:.2f}",
                      _highlight(candidate.evidence, candidate.mention))
    if candidates:
        console.print(table)
    else:
        console.print("no candidates in this paper's text")


class ReviewSession:
    """One reviewer working through the queue of one warehouse."""

    def __init__(self, warehouse_path: Path, reviewer: str, where: ItemFilter | None = None,
                 console: Console | None = None, keys: KeySource | None = None) -> None:
        self.path = warehouse_path
        self.reviewer = reviewer
        self.where = where or ItemFilter()
        self.console = console or Console(highlight=False)
        if keys is None:
            keys = TerminalKeys(self.console) if sys.stdin.isatty() else LineKeys()
        self.keys = keys
        self.summary = SessionSummary()
        self.skipped: set[str] = set()
        self.made: list[Decision] = []  # this session's decisions, newest last, for undo
        self.forced: str | None = None  # the item to show next (after an undo)

    def _next_screen(self) -> _Screen | None:
        with Warehouse.open(self.path) as warehouse:
            con = warehouse.con
            queue = [i for i in list_items(con, self.where) if i.item_key not in self.skipped]
            item: ReviewItem | None = None
            if self.forced is not None:
                item = get_item(con, self.forced)
                self.forced = None
            elif queue:
                item = queue[0]
            if item is None:
                return None
            return _Screen(item, candidates_for(con, item), flags_for(con, item.item_key),
                           len(queue))

    def render(self, screen: _Screen) -> None:
        """Draw the item (clearing the terminal first)."""
        if self.console.is_terminal:
            self.console.clear()
        render_item(self.console, screen.item, screen.candidates, screen.flags,
                    f"({screen.remaining} waiting)   reviewer {self.reviewer}")
        self.console.print(escape(KEY_HELP))

    def _write(self, item: ReviewItem, action: str, **kwargs: object) -> bool:
        """One decision in its own short open-write-close; False (and a message) if refused."""
        try:
            with Warehouse.open(self.path) as warehouse:
                decision = decide(warehouse, item.item_key, action, reviewer=self.reviewer,
                                  origin="session", **kwargs)  # type: ignore[arg-type]
        except WarehouseBusyError as exc:
            self.console.print(f"[red]not saved:[/red] {escape(str(exc))}")
            return False
        except ReviewError as exc:
            self.console.print(f"[red]{escape(str(exc))}[/red]")
            return False
        self.made.append(decision)
        self.summary.decisions.append(decision)
        if decision.replaced is not None and decision.replaced != item.decision_id:
            self.console.print(f"note: {decision.replaced_by_reviewer} decided this item "
                               "meanwhile; your decision is now in force")
        self.console.print(f"saved: {action} {_value(decision.new_value, decision.new_active)}"
                           if decision.new_value is not None else "saved: not stated in paper")
        return True

    def _undo(self) -> None:
        if not self.made:
            self.console.print("nothing to undo in this session")
            return
        last = self.made[-1]
        try:
            with Warehouse.open(self.path) as warehouse:
                undo_decision(warehouse, last.decision_id, reviewer=self.reviewer,
                              origin="session")
        except (ReviewError, WarehouseBusyError) as exc:
            self.console.print(f"[red]{escape(str(exc))}[/red]")
            return
        self.made.pop()
        self.summary.undone += 1
        self.skipped.discard(last.item_key)
        self.forced = last.item_key
        self.console.print(f"undone: decision {last.decision_id} on {last.item_key}")

    def _handle(self, key: str, screen: _Screen) -> bool | None:
        """Act on one key: True next item, False quit, None stay on this item."""
        item = screen.item
        if key in ("", "q", "Q"):
            return False
        if key == "a":
            return True if self._write(item, "accept") else None
        if key.isdigit() and key != "0":
            number = int(key)
            if number > len(screen.candidates):
                self.console.print(f"no candidate {number}")
                return None
            return True if self._write(item, "choose", candidate_number=number) else None
        if key == "v":
            text = self.keys.read_line("value (e.g. 1.5B, or 47B/13B for MoE total/active)> ")
            if not text.strip():
                self.console.print("no value typed")
                return None
            try:
                value, active = parse_value(text)
            except ValueError as exc:
                self.console.print(f"[red]{escape(str(exc))}[/red]")
                return None
            return True if self._write(item, "set", value=value, active=active) else None
        if key == "n":
            return True if self._write(item, "reject") else None
        if key == "s":
            self.skipped.add(item.item_key)
            self.summary.skipped += 1
            return True
        if key == "u":
            self._undo()
            return True
        if key not in ("\n", "\r", " "):
            self.console.print(f"unknown key {key!r}: {escape(KEY_HELP)}")
        return None

    def run(self) -> SessionSummary:
        """Review until the queue is empty or the reviewer quits."""
        while True:
            screen = self._next_screen()
            if screen is None:
                self.console.print("review queue is empty")
                break
            self.render(screen)
            outcome: bool | None = None
            while outcome is None:
                self.console.print(PROMPT, end="")
                self.console.file.flush()
                key = self.keys.read_key()
                self.console.print(key if key.isprintable() else "")
                outcome = self._handle(key, screen)
            if outcome is False:
                break
        self.console.print(f"{len(self.summary.decisions)} decided, {self.summary.undone} "
                           f"undone, {self.summary.skipped} skipped")
        return self.summary
