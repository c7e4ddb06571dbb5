"""Reading a file's text: encodings, byte-order marks, and places in the text."""

from __future__ import annotations

import bisect
from pathlib import Path

from rainforest.errors import Issue

_BOMS = {
    b"\xff\xfe\x00\x00": "UTF-32 (little-endian)",
    b"\x00\x00\xfe\xff": "UTF-32 (big-endian)",
    b"\xff\xfe": "UTF-16 (little-endian)",
    b"\xfe\xff": "UTF-16 (big-endian)",
}


def foreign_bom(head: bytes) -> str | None:
    """The encoding a non-UTF-8 byte-order mark announces, if ``head`` starts with one."""
    for bom, name in _BOMS.items():
        if head.startswith(bom):
            return name
    return None


def read_text(path: Path, label: str) -> tuple[str | None, Issue | None]:
    """The UTF-8 text of ``path`` (a UTF-8 byte-order mark is accepted and dropped).

    Returns ``(text, None)`` or ``(None, issue)`` for an unreadable encoding.
    """
    data = path.read_bytes()
    encoding = foreign_bom(data[:4])
    if encoding:
        return None, Issue(
            path="",
            message=f"the file is encoded as {encoding}",
            expected="UTF-8 text",
            hint="Save the file as UTF-8 (in Excel: 'CSV UTF-8'; in editors: encoding UTF-8).",
            file=label,
            line=1,
        )
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, Issue(
            path="",
            message=f"the file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            expected="UTF-8 text",
            hint="Save the file as UTF-8.",
            file=label,
            line=line,
            column=column,
        )


class LineIndex:
    """Offsets to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        pos = text.find("\n")
        while pos != -1:
            self.starts.append(pos + 1)
            pos = text.find("\n", pos + 1)

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1
