"""Validate and split arXiv identifiers before they touch a path or a URL.

Two schemes exist (https://info.arxiv.org/help/arxiv_identifier.html):

* new style, from April 2007: ``YYMM.NNNN`` (to 2014-12) or ``YYMM.NNNNN`` (from
  2015-01), e.g. ``1706.03762`` or ``2401.90001v2``;
* old style, 1991-08 to 2007-03: ``archive(.SUBJ)/YYMMNNN``, e.g. ``hep-th/9901001``
  or ``math.GT/0309136v1``.

Either may carry a version suffix ``vN`` (N >= 1) and an ``arXiv:`` prefix.
Anything else (path traversal, whitespace, a month 13, a version v0...) raises
:class:`paramminer.errors.InputError` with a one-line reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paramminer.errors import InputError

__all__ = ["ArxivId", "looks_like_arxiv_id", "parse_arxiv_id"]

_VERSION = r"(?:v(?P<version>[0-9]+))?"
_NEW_STYLE = re.compile(r"(?P<yymm>[0-9]{4})\.(?P<number>[0-9]{4,5})" + _VERSION)
# Archives are lowercase words joined by '-' (hep-th, cond-mat, q-bio); the optional
# subject class is two capitals (math.GT, cs.AI) or a lowercase word (physics.acc-ph).
_OLD_STYLE = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)"
    r"(?:\.(?P<subject>[A-Z]{2}|[a-z]+(?:-[a-z]+)?))?"
    r"/(?P<yymm>[0-9]{4})(?P<number>[0-9]{3})" + _VERSION
)
_PREFIX = re.compile(r"arxiv:", re.IGNORECASE)
# The format check arXiv's own API applies to id_list items: it answers 400
# "incorrect id format" for `abc` but an empty feed for `0000.0000`.
_LOOSE = re.compile(
    r"(?:[0-9]{4}\.[0-9]{4,5}|[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z-]+)?/[0-9]{7})(?:v[0-9]+)?"
)
_MAX_SHOWN = 60


def _year_of(yy: int, *, old_style: bool) -> int:
    if old_style:
        return 1900 + yy if yy >= 91 else 2000 + yy
    return 2000 + yy


@dataclass(frozen=True, order=True)
class ArxivId:
    """A validated arXiv identifier: ``id`` without version, ``version`` or None."""

    id: str
    version: int | None = None

    def __str__(self) -> str:
        return self.versioned

    @property
    def versioned(self) -> str:
        """``id`` with its ``vN`` suffix when a version is known."""
        return self.id if self.version is None else f"{self.id}v{self.version}"

    @property
    def is_old_style(self) -> bool:
        """True for pre-2007 identifiers such as ``hep-th/9901001``."""
        return "/" in self.id

    @property
    def yymm(self) -> str:
        """The four YYMM digits of the identifier."""
        return self.id.rsplit("/", 1)[-1][:4]

    @property
    def month_of_v1(self) -> str:
        """``YYYY-MM`` of the first version's submission, read from the identifier."""
        yy, mm = int(self.yymm[:2]), self.yymm[2:]
        return f"{_year_of(yy, old_style=self.is_old_style):04d}-{mm}"

    @property
    def key(self) -> str:
        """A filesystem-safe name for the paper (no version): ``/`` becomes ``_``."""
        return self.id.replace("/", "_")

    @property
    def versioned_key(self) -> str:
        """A filesystem-safe name including the version when known."""
        return self.versioned.replace("/", "_")

    def with_version(self, version: int | None) -> ArxivId:
        """The same paper at another version (None for "latest")."""
        if version is not None and version < 1:
            raise InputError(self.id, f"version must be >= 1, got {version}")
        return ArxivId(self.id, version)


def _reject(text: str, reason: str) -> InputError:
    shown = text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."
    # repr() keeps control characters and newlines from breaking the one-line message.
    return InputError(repr(shown), f"not an arXiv identifier: {reason}")


def _check_version(text: str, raw: str | None) -> int | None:
    if raw is None:
        return None
    if raw.startswith("0"):
        raise _reject(text, "version must be v1 or later, without leading zeros")
    return int(raw)


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse ``text`` into an :class:`ArxivId`, or raise ``InputError`` saying why not.

    Accepts an optional ``arXiv:`` prefix; rejects whitespace anywhere, unknown
    months, numbers of the wrong width for their month, and anything that could
    traverse a path (``..``, ``\\``, extra ``/``).
    """
    if not isinstance(text, str):
        raise InputError(repr(text), "not an arXiv identifier: expected a string")
    if not text:
        raise _reject(text, "empty")
    if any(ch.isspace() for ch in text):
        raise _reject(text, "contains whitespace")
    body = text[len("arxiv:") :] if _PREFIX.match(text) else text
    if ".." in body or "\\" in body or body.startswith("/") or body.count("/") > 1:
        raise _reject(text, "looks like a path")

    match = _NEW_STYLE.fullmatch(body)
    if match is not None:
        yymm, number = match["yymm"], match["number"]
        yy, mm = int(yymm[:2]), int(yymm[2:])
        if not 1 <= mm <= 12:
            raise _reject(text, f"month {mm:02d} does not exist")
        if (yy, mm) < (7, 4):
            raise _reject(text, "new-style identifiers start in 0704 (April 2007)")
        if (yy, mm) <= (14, 12) and len(number) != 4:
            raise _reject(text, "identifiers before 1501 have a 4-digit number")
        if (yy, mm) >= (15, 1) and len(number) != 5:
            raise _reject(text, "identifiers from 1501 on have a 5-digit number")
        return ArxivId(f"{yymm}.{number}", _check_version(text, match["version"]))

    match = _OLD_STYLE.fullmatch(body)
    if match is not None:
        yymm = match["yymm"]
        yy, mm = int(yymm[:2]), int(yymm[2:])
        if not 1 <= mm <= 12:
            raise _reject(text, f"month {mm:02d} does not exist")
        year = _year_of(yy, old_style=True)
        if not (1991, 8) <= (year, mm) <= (2007, 3):
            raise _reject(text, "old-style identifiers run from 9108 to 0703")
        archive = match["archive"]
        if match["subject"]:
            archive += "." + match["subject"]
        version = _check_version(text, match["version"])
        return ArxivId(f"{archive}/{yymm}{match['number']}", version)

    raise _reject(text, "expected YYMM.NNNNN[vN] or archive/YYMMNNN[vN]")


def looks_like_arxiv_id(text: str) -> bool:
    """True when ``text`` has the *shape* of an identifier (arXiv's own API check).

    Looser than :func:`parse_arxiv_id`: ``0000.0000`` passes (arXiv answers it
    with an empty feed), ``abc`` does not (arXiv answers HTTP 400).
    """
    return _LOOSE.fullmatch(text) is not None
