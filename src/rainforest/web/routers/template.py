"""The spreadsheet template: blank (for a new ecosystem) and an ecosystem's entries in
the template's layout (to edit with its drop-down lists and import back)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from rainforest.web.deps import WB, ApiRole, ApiUser, Caller
from rainforest.web.services import template

router = APIRouter()


@router.get("/api/template.xlsx", tags=["ecosystems"])
def api_blank(user: ApiUser) -> Response:
    """The blank spreadsheet template (any signed-in user): a README sheet, every sheet and
    header with notes, drop-down lists and one example row per sheet (never loaded)."""
    return Response(
        template.blank(),
        media_type=template.MEDIA,
        headers={"Content-Disposition": 'attachment; filename="rainforest-template.xlsx"'},
    )


@router.get("/api/ecosystems/{slug}/template.xlsx", tags=["ecosystems"])
def api_filled(
    slug: str,
    wb: WB,
    c: Annotated[Caller, Depends(ApiRole("sees_all", "exporting"))],
    version: int | None = None,
) -> Response:
    """The ecosystem's document in the template's layout, for managers and observers (as
    every export): edit it with the drop-down lists and import it back."""
    data, filename = template.filled(wb, slug, version)
    return Response(
        data, media_type=template.MEDIA, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
