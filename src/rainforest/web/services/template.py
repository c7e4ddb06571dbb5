"""The spreadsheet template (:mod:`rainforest.io.template`): blank, or holding an
ecosystem's entries, as the bytes of an ``.xlsx`` workbook."""

from __future__ import annotations

import io

from fastapi import HTTPException

from rainforest.io.template import write_template
from rainforest.store import StoreError
from rainforest.web.context import Workbench

__all__ = ["MEDIA", "blank", "filled"]

MEDIA = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def blank() -> bytes:
    """The blank template: every sheet and header with notes, drop-downs and example rows."""
    out = io.BytesIO()
    write_template(out)
    return out.getvalue()


def filled(wb: Workbench, slug: str, version: int | None) -> tuple[bytes, str]:
    """The ecosystem's document (the latest version, or ``version``) in the template's
    layout, and its file name. For those who see all of it (the route checks)."""
    try:
        eco = wb.store.load(slug, version)
    except StoreError as exc:
        raise HTTPException(404, str(exc)) from None
    number = version or wb.store.head(slug)
    out = io.BytesIO()
    write_template(out, eco)
    return out.getvalue(), f"{slug}-v{number}-template.xlsx"
