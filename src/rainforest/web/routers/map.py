"""The map: its data as JSON (the overview, actor pages and the board draw it), placing an
actor on it, and the vendored Leaflet files it is drawn with."""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from rainforest.errors import DocumentError
from rainforest.store import ConflictError, StoreError
from rainforest.web.deps import WB, ApiRole, Caller, json_csrf
from rainforest.web.services import map as maps
from rainforest.web.uploads import issue_dict

router = APIRouter()

Viewer = Annotated[Caller, Depends(ApiRole())]
JsonCsrf = Annotated[None, Depends(json_csrf)]

#: The vendored Leaflet files (``tools/vendor_leaflet.sh``) and their media types.
LEAFLET = {
    "leaflet.js": "text/javascript",
    "leaflet.css": "text/css",
    "LICENSE": "text/plain; charset=utf-8",
    "images/layers.png": "image/png",
    "images/layers-2x.png": "image/png",
    "images/marker-icon.png": "image/png",
    "images/marker-icon-2x.png": "image/png",
    "images/marker-shadow.png": "image/png",
}


def tiles(request: Request) -> maps.TileServer | None:
    """The tile server the application was created with (``rainforest serve --tiles``)."""
    server: maps.TileServer | None = getattr(request.app.state, "tiles", None)
    return server


@router.get("/api/ecosystems/{slug}/map", tags=["map"])
def api_map(slug: str, request: Request, wb: WB, c: Viewer, actor: str | None = None) -> dict[str, Any]:
    """What the map draws, as the caller may see it: ``actors`` with their positions,
    ``unplaced`` (no location, or, for members, one not shared), today's exchanges
    (``flows``), the board's candidate exchanges (``candidates``, those of the optimised
    plan with ``planned``), the cluster ``radius`` (km, centre, what it means; managers and
    observers), the ``tiles`` server (null: none configured) and the actors the caller may
    place (``may_place``). ``actor``: centre the circle on this actor (its page)."""
    return maps.map_data(wb, c, slug, focus=actor, tiles=tiles(request))


@router.post("/api/ecosystems/{slug}/actors/{aid}/location", tags=["map"])
def api_locate(slug: str, aid: str, wb: WB, c: Viewer, _: JsonCsrf, body: dict[str, Any]) -> JSONResponse:
    """Place actor ``aid`` on the map ``{lat, lon, expected?, message?}`` (degrees; managers
    every actor, a member its own): a new version with the caller as author. 409 when
    ``expected`` (the version the map was drawn on) is no longer the latest."""
    try:
        v = maps.set_location(
            wb,
            c,
            slug,
            aid,
            body.get("lat"),
            body.get("lon"),
            expected=body.get("expected"),
            message=str(body.get("message") or ""),
        )
    except DocumentError as exc:
        return JSONResponse({"error": str(exc).splitlines()[0], "problems": [issue_dict(i) for i in exc.issues]}, 422)
    except ConflictError as exc:
        return JSONResponse({"error": str(exc), "version": exc.head}, status_code=409)
    except (StoreError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    return JSONResponse(v.to_dict())


@router.get("/static/leaflet/{name:path}", include_in_schema=False)
def leaflet(name: str) -> Response:
    """One of the vendored Leaflet files (public, cached like the other static files)."""
    if name not in LEAFLET:
        raise HTTPException(404, f"no file {name[:80]!r}")
    data = (resources.files("rainforest.web") / "static" / "leaflet" / name).read_bytes()
    return Response(data, media_type=LEAFLET[name], headers={"Cache-Control": "max-age=3600"})
