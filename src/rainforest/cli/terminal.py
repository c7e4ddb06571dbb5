"""Text from a document, made safe to print in a terminal.

A document is untrusted: its names, ids and messages may hold terminal control sequences
(``ESC ] 0 ; title BEL`` sets the window title, others move the cursor or clear the
screen) and Rich markup (``[red]``, ``[link=...]``). Every CLI command passes document
text through :func:`shown` before it reaches the console.
"""

from __future__ import annotations

import re

from rich.markup import escape

__all__ = ["shown"]

# C0 and C1 control characters (line breaks too: a name must not forge a line of output)
# and the bidirectional overrides that reorder what is displayed
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: object) -> str:
    """``value`` as text for the console: control characters written as ``\\xNN``
    escapes and Rich markup escaped, so it prints as the characters it holds.

    Examples
    --------
    >>> shown("park \\x1b]0;owned\\x07 [red]x[/]")
    'park \\\\x1b]0;owned\\\\x07 \\\\[red]x\\\\[/]'
    """
    return escape(_CONTROL.sub(_escaped, str(value)))
