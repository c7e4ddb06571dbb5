"""The one tree of rainforest errors.

::

    RainforestError                      every error the library raises on purpose
    ├── DocumentError (ValueError)       a document (file, folder, records) has problems;
    │   │                                ``.issues`` lists every one with its place
    │   └── LimitError                   a document is past a reading limit (file size,
    │                                    nesting depth, ...); names the limit and how to
    │                                    raise it
    ├── UnknownIdError (KeyError)        an id lookup found nothing; names the nearest ids
    ├── UnitError (ValueError)           a unit is unknown or does not convert
    ├── CurrencyError (ValueError)       a flow matrix cannot be built in the asked currency
    ├── FormatError (ValueError)         a form cannot hold what is asked of it
    ├── SteadyStateError (ValueError)    a model is out of balance beyond the tolerance
    └── SizeLimitError (ValueError)      a dense result would not fit; names the limit and
                                         the option that forces it

Messages say what, where, expected, got and what to do::

    flows[12].to: unknown actor 'mil'. Expected an actor id, 'world' or 'environment'.
    Did you mean 'mill'?
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "CurrencyError",
    "DocumentError",
    "FormatError",
    "Issue",
    "LimitError",
    "RainforestError",
    "RainforestWarning",
    "SizeLimitError",
    "SteadyStateError",
    "UnitError",
    "UnknownIdError",
    "nearest",
]


def nearest(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates closest to ``name`` (best first).

    Case differences count as close: ``'Mill'`` suggests ``'mill'``.
    """
    pool = list(candidates)
    if not pool:
        return []
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered and lowered[name.lower()] != name:
        return [lowered[name.lower()]]
    if len(pool) > 20_000:
        # difflib is quadratic-ish; restrict to candidates sharing the first letter.
        head = name[:1].lower()
        pool = [c for c in pool if c[:1].lower() == head][:20_000]
    return difflib.get_close_matches(name, pool, n=n, cutoff=0.6)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return ``"Did you mean 'x'?"`` (or ``'x' or 'y'``) or ``None``."""
    close = nearest(name, candidates)
    if not close:
        return None
    return "Did you mean " + " or ".join(repr(c) for c in close) + "?"


def _natural(path: str) -> tuple[object, ...]:
    """Sort key that puts ``flows[2]`` before ``flows[10]``."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", path))


class RainforestError(Exception):
    """Base of every error rainforest raises on purpose."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a document, with its place.

    Attributes
    ----------
    path:
        The field path, such as ``flows[12].to`` (empty for the whole document).
    message:
        What is wrong, in a few words (``unknown actor 'mil'``).
    expected, got:
        What the field should hold, and what it holds.
    hint:
        What to do (``Did you mean 'mill'?``).
    file:
        The file (or sheet, as ``book.xlsx[flows]``) the problem is in.
    line, column:
        1-based place in a YAML, JSON or SCOR text.
    row:
        1-based row of a CSV file or Excel sheet (the header is row 1).
    """

    path: str
    message: str
    expected: str | None = None
    got: str | None = None
    hint: str | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    row: int | None = None

    @property
    def place(self) -> str:
        """``file:line:column`` or ``file row N``, as far as known."""
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        if self.row is not None:
            parts.append(f"row {self.row}")
        return ", ".join(parts)

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if not text.endswith((".", "?")):
            text += "."
        if self.expected:
            text += f" Expected {self.expected}"
            text += f", got {self.got}." if self.got else "."
        elif self.got:
            text += f" Got {self.got}."
        if self.hint:
            text += f" {self.hint}"
        place = self.place
        return f"{place}: {text}" if place else text

    def to_dict(self) -> dict[str, object]:
        """The issue as a JSON-ready mapping (absent parts left out)."""
        out: dict[str, object] = {"path": self.path, "message": self.message}
        for key in ("expected", "got", "hint", "file", "line", "column", "row"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out["text"] = str(self)
        return out


class DocumentError(RainforestError, ValueError):
    """A document has one or more problems; nothing of it was loaded.

    ``issues`` holds every problem found, each with its place.
    """

    def __init__(self, issues: Sequence[Issue], source: str | None = None) -> None:
        # in reading order: by file, then line or row
        self.issues: tuple[Issue, ...] = tuple(
            sorted(issues, key=lambda i: (i.file or "", i.line or 0, i.row or 0, i.column or 0, _natural(i.path)))
        )
        self.source = source
        count = len(self.issues)
        head = f"{source}: " if source else ""
        noun = "problem" if count == 1 else "problems"
        shown = "\n".join(f"  - {issue}" for issue in self.issues[:50])
        more = f"\n  ... and {count - 50} more" if count > 50 else ""
        super().__init__(f"{head}{count} {noun} found; nothing was loaded.\n{shown}{more}")


class LimitError(DocumentError):
    """A document is past one of the reading limits (:class:`rainforest.io.Limits`): too
    large a file, too deep a nesting, too long a text, too many rows, a zip that unpacks
    too large, YAML anchors. Nothing was loaded; the message names the limit and how to
    raise it.

    ``limit`` is the name of the setting (``max_depth``, ...), ``found`` what the
    document holds and ``allowed`` the setting's value.
    """

    def __init__(self, issue: Issue, *, limit: str, found: float, allowed: float, source: str | None = None) -> None:
        self.limit = limit
        self.found = found
        self.allowed = allowed
        super().__init__([issue], source=source)


class UnknownIdError(RainforestError, KeyError):
    """An id lookup found no such entry; the message names the nearest known ids."""

    def __init__(self, what: str, key: str, known: Iterable[str]) -> None:
        self.what = what
        self.key = key
        self.suggestions = nearest(key, known)
        hint = " Did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?" if self.suggestions else ""
        self.text = f"unknown {what} {key!r}.{hint}"
        super().__init__(self.text)

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.text


class UnitError(RainforestError, ValueError):
    """A unit is not understood, or does not convert to the unit asked for."""


class CurrencyError(RainforestError, ValueError):
    """A flow matrix cannot be built in the asked currency (no flows, mixed dimensions)."""


class FormatError(RainforestError, ValueError):
    """A file form cannot hold what is asked of it (e.g. SCOR with two resources)."""


class SteadyStateError(RainforestError, ValueError):
    """A network model is not at steady state within the tolerance (the analysis assumes it)."""


class SizeLimitError(RainforestError, ValueError):
    """A result needs all n-by-n entries of a matrix and the network is above the size
    limit for that; the message names the limit and the option that forces it."""


class RainforestWarning(UserWarning):
    """A result is computed but rests on an assumption the user should know about
    (e.g. no revenues given, so every sale is assumed to stay inside the network)."""
