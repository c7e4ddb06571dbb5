"""The one tree of rainforest errors.

::

    RainforestError                      every error the library raises on purpose
    ├── DocumentError (ValueError)       a document (file, folder, records) has problems;
    │   │                                ``.issues`` lists every one with its place
    │   └── LimitError                   a document is past a reading limit (file size,
    │                                    nesting depth, ...); names the limit and how to
    │                                    raise it
    ├── ParameterError (ValueError)      a function was given a value it does not take;
    │   │                                names the parameter, lists its choices
    │   └── ExecutorError                an executor that cannot be used (unknown name,
    │                                    Dask not installed)
    ├── UnknownIdError (KeyError)        an id lookup found nothing; names the nearest ids
    ├── UnitError (ValueError)           a unit is unknown or does not convert
    ├── CurrencyError (ValueError)       a flow matrix cannot be built in the asked currency
    ├── FormatError (ValueError)         a form cannot hold what is asked of it
    ├── SteadyStateError (ValueError)    a model is out of balance beyond the tolerance
    ├── SizeLimitError (ValueError)      a dense result would not fit; names the limit and
    │                                    the option that forces it
    ├── PlanError (ValueError)           no exchange plan meets every need; names them
    ├── TargetingError (ValueError)      a targeting problem is ill-posed
    ├── SimulationError (ValueError)     a scenario the simulator cannot run
    ├── SolverError (RuntimeError)       an optimisation engine could not solve a problem
    └── StoreError (ValueError)          a request the store cannot carry out
        ├── ConflictError                the ecosystem was saved since the change's version
        └── StaleError                   the proposal moved since it was read

Messages say what, where, expected, got and what to do::

    flows[12].to: unknown actor 'mil'. Expected an actor id, 'world' or 'environment'.
    Did you mean 'mill'?

A parameter that takes one of a few words is typed with a ``Literal`` (the vocabularies
are in :mod:`rainforest.choices`) and checked by :func:`check_choice`, whose message lists
the choices from the type itself::

    The 'method' parameter of target must be 'cascade' or 'lp'. Got 'lpp' instead.
    Did you mean 'lp'?
"""

from __future__ import annotations

import difflib
import importlib
import re
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

__all__ = [
    "CurrencyError",
    "DocumentError",
    "FormatError",
    "Interface",
    "Issue",
    "LimitError",
    "ParameterError",
    "PlanError",
    "RainforestError",
    "RainforestWarning",
    "SimulationError",
    "SizeLimitError",
    "SolverError",
    "SteadyStateError",
    "TargetingError",
    "UnitError",
    "UnknownIdError",
    "check_choice",
    "choices_of",
    "in_words_of",
    "moved",
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


def column_letters(column: int) -> str:
    """A 1-based column number as a spreadsheet names it (1 = A, 27 = AA)."""
    letters = ""
    while column > 0:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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
        1-based place in a YAML, JSON or SCOR text; ``column`` with ``row`` is the
        1-based column of a CSV file or sheet, shown as a spreadsheet's letter (3 = C).
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
            parts.append(f"row {self.row}" + (f", column {column_letters(self.column)}" if self.column else ""))
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


class PlanError(RainforestError, ValueError):
    """An exchange plan cannot be made; the message names the needs and why."""


class TargetingError(RainforestError, ValueError):
    """A targeting problem is ill-posed (no quality to target, an infeasible need...)."""


class SimulationError(RainforestError, ValueError):
    """A scenario or parameter the simulator cannot run, with what to change."""


class SolverError(RainforestError, RuntimeError):
    """The solver could not solve a problem (infeasible, unbounded, failed)."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class ParameterError(RainforestError, ValueError):
    """A function was given a parameter value it does not take: a word outside the
    parameter's choices, a number out of its range, an array of the wrong shape.

    ``parameter`` names the parameter (when one is to blame) and ``choices`` lists the
    words it takes (empty when it is not a choice). Raised by :func:`check_choice` for
    parameters typed with a ``Literal``; a ``ValueError``, so ``except ValueError`` keeps
    catching it.
    """

    def __init__(self, message: str, *, parameter: str | None = None, choices: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.choices = tuple(choices)

    def __reduce__(self) -> tuple[Any, ...]:  # keep the keywords across processes (an executor's workers)
        return (_parameter_error, (type(self), str(self), self.parameter, self.choices))


def _parameter_error(
    cls: type[ParameterError], message: str, parameter: str | None, choices: tuple[str, ...]
) -> ParameterError:
    return cls(message, parameter=parameter, choices=choices)


def choices_of(choices: Any) -> tuple[str, ...]:
    """The words a ``Literal`` type allows, in their declared order (nested ``Literal``s
    and ``Optional`` flattened, ``None`` left out); an iterable of words is returned as a
    tuple.

    >>> from typing import Literal
    >>> choices_of(Literal["cascade", "lp"] | None)
    ('cascade', 'lp')
    """
    args = get_args(choices)
    if not args and get_origin(choices) is None:
        if isinstance(choices, str) or not isinstance(choices, Iterable):
            raise TypeError(f"choices_of needs a Literal type or words, got {choices!r}")
        return tuple(str(c) for c in choices)
    words: list[str] = []
    for arg in args:
        if arg is None or arg is type(None):
            continue
        if isinstance(arg, str):
            words.append(arg)
        elif get_args(arg):
            words += [w for w in choices_of(arg) if w not in words]
    return tuple(dict.fromkeys(words))


def _either(words: Sequence[str]) -> str:
    quoted = [repr(w) for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def check_choice(
    name: str,
    value: object,
    choices: Any,
    *,
    where: str,
    error: type[RainforestError] = ParameterError,
) -> None:
    """Raise :class:`ParameterError` unless ``value`` is one of ``choices``.

    ``choices`` is the parameter's ``Literal`` type (the one in its signature), so the
    message always lists what the type allows; ``where`` names the function. A close
    miss is suggested, as for ids. ``error`` keeps an older, more specific error class
    where callers already catch one (a flow matrix's unknown currency is a
    :class:`CurrencyError`).

    >>> from typing import Literal
    >>> check_choice("method", "lpp", Literal["cascade", "lp"], where="target")
    Traceback (most recent call last):
    ...
    rainforest.errors.ParameterError: The 'method' parameter of target must be 'cascade' or 'lp'. Got 'lpp' instead. Did you mean 'lp'?
    """
    words = choices_of(choices)
    if not words:
        raise TypeError(f"check_choice needs at least one choice for {name!r}, got {choices!r}")
    if isinstance(value, str) and value in words:
        return
    message = f"The {name!r} parameter of {where} must be {_either(words)}. Got {value!r} instead."
    hint = did_you_mean(value, words) if isinstance(value, str) else None
    if hint:
        message += f" {hint}"
    if issubclass(error, ParameterError):
        raise error(message, parameter=name, choices=words)
    raise error(message)


class RainforestWarning(UserWarning):
    """A result is computed but rests on an assumption the user should know about
    (e.g. no revenues given, so every sale is assumed to stay inside the network)."""


def moved(module: str, names: Mapping[str, tuple[str, str, str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for public names that moved or were renamed: ``names`` maps
    each old name to ``(home module, new name, why)``. The old name still answers, with a
    DeprecationWarning saying where it lives now; the home is imported by name when asked
    for, so a shim never makes an import circle. Use it as::

        if not TYPE_CHECKING:  # type checkers see only the new names
            __getattr__ = moved(__name__, {"Balance": (__name__, "BalanceMethod", "...")})
    """

    def lookup(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        home, new, why = names[name]
        warnings.warn(
            f"{module}.{name} is deprecated: import it from {home} ({home}.{new}{'; ' + why if why else ''}); "
            "the old name will be removed in a future release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(home), new)

    return lookup


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
    (
        r"give preference_gap= and returns_per_adopter=",
        "give --preference-gap and --returns",
        "the command line's platform command takes them (--preference-gap, --returns)",
    ),
)
_COMPILED = tuple((re.compile(p), cli, page) for p, cli, page in _WORDS)


#: The interfaces a message can be put in the words of.
Interface = Literal["cli", "page"]


def in_words_of(message: str, interface: Interface) -> str:
    """A library message in the words of an interface: ``'cli'`` (its flags) or ``'page'``
    (the report and the workbench, which have no keyword arguments to pass).

    >>> in_words_of("no resource of kind money; pass valued=True to value flows at prices", "cli")
    'no resource of kind money; add --valued to value flows at prices'
    >>> in_words_of("give only one of currency=, resource= or kind=", "page")
    'choose only one of a currency, a resource or a kind'
    """
    check_choice("interface", interface, Interface, where="in_words_of")
    for pattern, cli, page in _COMPILED:
        message = pattern.sub(cli if interface == "cli" else page, message)
    return message


# -- the store's errors ----------------------------------------------------------------------
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


class ExecutorError(ParameterError):
    """An executor that cannot be used (an unknown name, Dask not installed)."""


__all__ += ["ConflictError", "ExecutorError", "StaleError", "StoreError"]
