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
    "in_words_of",
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
    """Return ``"Did you mean 'x'?"`` (or ``'x' or 'y'``) or ``None``.

    Only candidates about as close as the best are named: ``quantiy`` suggests
    ``quantity``, not also ``quantified``.
    """
    close = nearest(name, candidates)
    if not close:
        return None
    score = [difflib.SequenceMatcher(None, name, c).ratio() for c in close]
    close = [c for c, s in zip(close, score, strict=True) if s >= max(score) - 0.1]
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


# -- the words of each interface ---------------------------------------------------------------
#: Library messages name options as Python takes them (``valued=True``); a shell shows each
#: message in its own words: the CLI's flags, or on a page (the report, the workbench) the
#: choice in plain words. ``(python pattern, CLI words, page words)``; an empty replacement
#: drops a remedy that interface does not offer.
_WORDS: tuple[tuple[str, str, str], ...] = (
    (r"\s*\(CLI:? --[\w-]+\)", "", ""),
    (r"\b[Pp]ass valued=True to value", "add --valued to value", "value"),
    (
        r"\(valued=True counts it at its price\)",
        "(--valued counts it at its price)",
        "(counted when flows are valued at their prices)",
    ),
    (r"\bdamping=False\b", "--no-damping", "switching damping off"),
    (r"\bstop='reference'", "--stop reference", "the reference stop rule"),
    (
        r"\b[Pp]ass force_dense=True to compute it anyway, or raise dense_limit\.",
        "Add --force-dense to compute it anyway.",
        "It is not computed at this size.",
    ),
    (r"\(force_dense=True\s+computes (them|it)\)", r"(--force-dense computes \1)", "(not computed at this size)"),
    (r"\s*[Pp]ass eigen_check=False to compute M anyway\.", "", ""),
    (
        r"\b[Pp]ass balance='input' or 'output' to balance the model first, or a larger tolerance",
        "add --balance input (or output, or boundary) to balance the model first, or a larger --tolerance",
        "balance the model first",
    ),
    (
        r"give only one of currency=, resource= or kind=",
        "give only one of --currency, --resource or --kind",
        "choose only one of a currency, a resource or a kind",
    ),
    (
        r"choose a currency \('mass', 'energy', 'water', 'money'\), a resource= or a kind=",
        "choose --currency (mass, energy, water or money), --resource or --kind",
        "choose a currency (mass, energy, water or money), a resource or a kind",
    ),
    (r"\b[Pp]ass property=", "add --property", "choose the quality property"),
)
_COMPILED = tuple((re.compile(p), cli, page) for p, cli, page in _WORDS)


def in_words_of(message: str, interface: str) -> str:
    """A library message in the words of an interface: ``'cli'`` (its flags) or ``'page'``
    (the report and the workbench, which have no keyword arguments to pass).

    >>> in_words_of("no resource of kind money; pass valued=True to value flows at prices", "cli")
    'no resource of kind money; add --valued to value flows at prices'
    >>> in_words_of("give only one of currency=, resource= or kind=", "page")
    'choose only one of a currency, a resource or a kind'
    """
    if interface not in ("cli", "page"):
        raise ValueError(
            f"The 'interface' parameter of in_words_of must be 'cli' or 'page'. Got {interface!r} instead."
        )
    for pattern, cli, page in _COMPILED:
        message = pattern.sub(cli if interface == "cli" else page, message)
    return message


# -- the store's errors (kept at the end of the file; the tree above should list them) ------
class StoreError(RainforestError, ValueError):
    """A request the store cannot carry out, with what to do instead."""


class ConflictError(StoreError):
    """Someone saved the ecosystem since the version the change was made on."""

    def __init__(self, slug: str, expected: int, head: int) -> None:
        super().__init__(
            f"ecosystem {slug!r} is now at version {head}, but the change was made on version {expected}: "
            "load the current version, apply the change again and save"
        )
        self.slug = slug
        self.expected = expected
        self.head = head


class StaleError(StoreError):
    """The proposal moved since it was read."""


__all__ += ["ConflictError", "StaleError", "StoreError"]
