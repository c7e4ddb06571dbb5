"""The workbench beyond sign-in: actors with their offers and needs (edited by their own
members), waste and sector code search, import and export, the analyses, and long work run
by the worker with its progress."""

from __future__ import annotations

import math
import tempfile
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from fastapi import FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from rainforest.errors import DocumentError, Issue, UnknownIdError
from rainforest.model.ecosystem import Ecosystem
from rainforest.model.schema import SECTIONS
from rainforest.store import JOB_KINDS, ConflictError, StaleError, Store, StoreError, crash_point

PAGE = 100  # actors per page
EXPORTS = {
    "yaml": ("document.yaml", "application/yaml"),
    "json": ("document.json", "application/json"),
    "excel": ("document.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("document.zip", "application/zip"),
}
ANALYSES = {  # report section -> page title
    "profile": "Rainforest profile",
    "network": "Network",
    "metabolism": "Metabolism",
    "ena": "Ecological network analysis",
    "io": "Money layer",
    "risk": "Positioning and risk",
    "exchanges": "New exchanges",
    "cluster": "Cluster and ecosystem",
    "unknowns": "What was unknown",
}
#: Supply patterns of offers and needs, the document's default first.
PATTERNS: tuple[str, ...] = next(f.choices for f in SECTIONS["offers"].fields if f.name == "supply_pattern") or ()

#: Above this many actors or flows the overview's key numbers come from the analyses job only
#: (computing them in the request takes about 1 s at 500 actors, 7 s at 2,000).
SYNC_LIMIT = (500, 5000)


@lru_cache(maxsize=4)
def _static(name: str) -> bytes:
    if name == "plotly.min.js":
        return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    return (resources.files("rainforest.web") / "static" / name).read_bytes()


def _number(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    from rainforest.report import format_number

    return format_number(v) if isinstance(v, float) else str(v)


def add_workbench(app: FastAPI, store: Store, **hooks: Any) -> None:
    from rainforest.web._pages import _page
    from rainforest.web.app import Access, _issue, visible_document

    require, access, csrf_token, check_csrf = (
        hooks["require"],
        hooks["access"],
        hooks["csrf_token"],
        hooks["check_csrf"],
    )
    worker = hooks["worker"]  # callable returning the Worker (started on first use)
    directory_cache: dict[tuple[str, str], list[dict[str, Any]]] = {}

    signed_in, viewer, acting = hooks["signed_in"], hooks["viewer"], hooks["form"]

    def sees_all(a: Access, what: str) -> None:
        if not a.sees_all:
            raise HTTPException(403, f"{what} is for the ecosystem's managers and observers")

    def manages(a: Access, what: str) -> None:
        if not a.manages:
            raise HTTPException(403, f"only the ecosystem's managers {what}")

    def may_edit(a: Access, aid: str) -> bool:
        return a.manages or (a.role == "member" and a.actor == aid)

    # -- static files (served from the package: no CDN) -----------------------------------------
    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        kinds = {"plotly.min.js": "text/javascript", "workbench.js": "text/javascript"}
        if name not in kinds:
            raise HTTPException(404, f"no file {name!r}")
        return Response(_static(name), media_type=kinds[name], headers={"Cache-Control": "max-age=3600"})

    # -- codes ---------------------------------------------------------------------------------
    @app.get("/api/codes", tags=["codes"])
    def api_codes(request: Request, kind: str = "waste", q: str = "", limit: int = 12) -> list[dict[str, Any]]:
        """Search the shipped European Waste Catalogue (``kind=waste``) or NACE rev. 2
        (``kind=sector``) by code or words; best matches first."""
        from rainforest.optimize import taxonomy

        require(request)
        if kind not in ("waste", "sector"):
            raise HTTPException(422, f"kind must be 'waste' or 'sector', got {kind!r}")
        if not 1 <= limit <= 100:
            raise HTTPException(422, f"limit must be from 1 to 100, got {limit}")
        search = taxonomy.search_waste if kind == "waste" else taxonomy.search_sector
        return (
            [{"code": c.code, "description": c.description, "hazardous": c.hazardous} for c in search(q, limit)]
            if q.strip()
            else []
        )

    # -- actors --------------------------------------------------------------------------------
    def directory(slug: str, eco: Ecosystem, a: Access) -> list[dict[str, Any]]:
        """One row per actor as the caller may see it (cached per version and role)."""
        key = (f"{slug}:{eco.content_hash()}", "all" if a.sees_all else "member")
        if key not in directory_cache:
            t = eco.table("actors")
            ids, names, sectors = t.texts("id"), t.texts("name"), t.texts("sector")
            strata, stages = t.texts("stratum"), t.texts("stage")
            offers: dict[str, int] = {}
            for x in eco.table("offers").texts("actor"):
                offers[str(x)] = offers.get(str(x), 0) + 1
            needs: dict[str, int] = {}
            for x in eco.table("needs").texts("actor"):
                needs[str(x)] = needs.get(str(x), 0) + 1
            rows = []
            for i, aid in enumerate(ids):
                row: dict[str, Any] = {"id": aid, "name": names[i] or "", "sector": sectors[i] or ""}
                if a.sees_all:
                    row.update(stratum=strata[i] or "", stage=stages[i] or "")
                row.update(offers=offers.get(str(aid), 0), needs=needs.get(str(aid), 0))
                row["_hay"] = f"{aid} {names[i] or ''} {sectors[i] or ''}".lower()
                rows.append(row)
            if len(directory_cache) > 16:
                directory_cache.clear()
            directory_cache[key] = rows
        return directory_cache[key]

    @app.get("/e/{slug}/actors", response_class=HTMLResponse, include_in_schema=False)
    def actors_page(slug: str, request: Request, q: str = "", page: int = 1) -> Response:
        user, a = viewer(slug, request)
        eco = store.load(slug)
        rows = directory(slug, eco, a)
        words = q.lower().split()
        if words:
            rows = [r for r in rows if all(w in r["_hay"] for w in words)]
        pages = max(1, math.ceil(len(rows) / PAGE))
        page = min(max(page, 1), pages)
        return _page(
            "actors.html",
            user=user,
            nav=a.nav("actors"),
            name=eco.name,
            rows=rows[(page - 1) * PAGE : page * PAGE],
            total=len(rows),
            q=q,
            page=page,
            pages=pages,
            csrf=csrf_token(request),
        )

    def actor_view(eco: Ecosystem, a: Access, aid: str) -> dict[str, Any]:
        eco.actor(aid)  # 404 for an unknown actor
        doc = visible_document(eco, a) if not a.sees_all else None
        if doc is None:
            from rainforest.model.entities import entity_to_record
            from rainforest.model.validation import _thaw

            record = _thaw(entity_to_record("actors", eco.actor(aid)))
            offers = [_thaw(entity_to_record("offers", o)) for o in eco.offers if o.actor == aid]
            needs = [_thaw(entity_to_record("needs", n)) for n in eco.needs if n.actor == aid]
            flows = [_thaw(entity_to_record("flows", f)) for f in eco.flows if aid in (f.source, f.target)]
        else:
            record = next(r for r in doc["actors"] if r["id"] == aid)
            offers = [o for o in doc.get("offers", []) if o["actor"] == aid]
            needs = [n for n in doc.get("needs", []) if n["actor"] == aid]
            flows = [f for f in doc.get("flows", []) if aid in (f["from"], f["to"])]
        return {"actor": record, "offers": offers, "needs": needs, "flows": flows}

    @app.get("/api/ecosystems/{slug}/actors/{aid}", tags=["actors"])
    def api_actor(slug: str, aid: str, request: Request) -> dict[str, Any]:
        """One actor with its offers, needs and flows, as the caller may see them."""
        a = access(require(request), slug)
        return {"version": store.head(slug), **actor_view(store.load(slug), a, aid)}

    def save_edit(slug: str, aid: str, user: Any, base: int, message: str, *, merge: bool, **parts: Any) -> Any:
        """Save an edit of ``aid``'s ``parts`` made on version ``base``, by a compare-and-set
        on that version. When someone saved meanwhile: with ``merge`` (the caller named no
        version), the edit is made again on the new version if nobody changed the parts it
        replaces, else (or without ``merge``) :class:`ConflictError`: nobody's change is
        ever reverted."""
        from rainforest.store._edit import edit_actor

        eco = store.load(slug, base)
        for _ in range(MERGES):
            try:
                return store.commit(
                    slug, edit_actor(eco, aid, **parts), author=user.username, message=message, expected=base
                )
            except ConflictError as exc:
                newer = store.load(slug, exc.head)
                if not merge or any(_part(eco, k, aid) != _part(newer, k, aid) for k in parts):
                    raise
                eco, base = newer, exc.head
        raise ConflictError(slug, base, store.head(slug))

    @app.post("/api/ecosystems/{slug}/actors/{aid}", tags=["actors"])
    def api_edit_actor(slug: str, aid: str, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Replace an actor's ``record``, ``offers``, ``needs`` or ``flows`` (those it is a
        party to) with the given ``rainforest/1`` records; parts left out stay. Members edit
        only their own actor, managers every one. ``expected``: the version the edit starts
        from (409 when someone saved meanwhile). Without it, the edit is made on the latest
        version and, when someone saves meanwhile, made again on theirs if they changed none
        of the parts it replaces (else 409): nobody's change is reverted. 422 with every
        problem and its place."""
        user = require(request)
        a = access(user, slug)
        check_csrf(request, body.get("csrf") or request.headers.get("x-csrf-token"))
        if not may_edit(a, aid):
            raise HTTPException(403, "a member edits only its own actor; observers edit nothing")
        parts = {k: body[k] for k in ("record", "offers", "needs", "flows") if body.get(k) is not None}
        for k, v in parts.items():
            if not isinstance(v, dict if k == "record" else list):
                return JSONResponse({"error": f"{k} must be {'an object' if k == 'record' else 'a list'}"}, 422)
        expected = body.get("expected")
        if expected is not None and (not isinstance(expected, int) or isinstance(expected, bool)):
            return JSONResponse({"error": f"expected must be a version number, got {str(expected)[:40]!r}"}, 422)
        base = store.head(slug) if expected is None else expected
        message = str(body.get("message") or f"edited {aid}")
        try:
            version = save_edit(slug, aid, user, base, message, merge=expected is None, **parts)
        except DocumentError as exc:
            return JSONResponse({"error": str(exc).splitlines()[0], "problems": [_issue(i) for i in exc.issues]}, 422)
        except ConflictError as exc:
            return JSONResponse({"error": str(exc), "version": exc.head}, 409)
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, 422)
        return JSONResponse(version.to_dict())

    @app.get("/e/{slug}/actors/{aid}", response_class=HTMLResponse, include_in_schema=False)
    def actor_page(slug: str, aid: str, request: Request, error: str = "", status: int = 200) -> Response:
        user, a = viewer(slug, request)
        eco = store.load(slug)
        view = actor_view(eco, a, aid)
        return _page(
            "actor.html",
            status,
            user=user,
            nav=a.nav("actors"),
            name=eco.name,
            aid=aid,
            view=view,
            editable=may_edit(a, aid),
            version=store.head(slug),
            resources=[{"id": r.id, "unit": r.unit, "kind": r.kind} for r in eco.resources],
            actor_ids=[x for x in eco.actor_ids if x != aid] if may_edit(a, aid) else [],
            patterns=PATTERNS,
            error=error,
            number=_number,
            csrf=csrf_token(request),
        )

    def based(slug: str, expected: str) -> tuple[Ecosystem, int, bool]:
        """The version a form was filled in on (its hidden ``expected``), else the latest, and
        whether the edit may be merged into a newer version (only without ``expected``)."""
        head = store.head(slug)
        if not expected:
            return store.load(slug, head), head, True
        if not (expected.isascii() and expected.isdigit()) or not 1 <= int(expected) <= head:
            raise HTTPException(422, f"expected must be a version number from 1 to {head}, got {expected[:40]!r}")
        return store.load(slug, int(expected)), int(expected), False

    def edit_form(slug: str, aid: str, request: Request, csrf: str, base: int, merge: bool, **parts: Any) -> Response:
        user, a = acting(slug, request, csrf)
        if not may_edit(a, aid):
            raise HTTPException(403, "a member edits only its own actor; observers edit nothing")
        try:
            save_edit(slug, aid, user, base, f"edited {aid}", merge=merge, **parts)
        except DocumentError as exc:
            return actor_page(slug, aid, request, error="; ".join(str(i) for i in exc.issues), status=422)
        except ConflictError as exc:
            error = f"{exc} Your change was not saved; here is the latest version."
            return actor_page(slug, aid, request, error=error, status=409)
        return RedirectResponse(f"/e/{slug}/actors/{aid}", status_code=303)

    @app.post("/e/{slug}/actors/{aid}", include_in_schema=False)
    def edit_record(
        slug: str,
        aid: str,
        request: Request,
        name: str = Form(""),
        sector: str = Form(""),
        public: str = Form(""),
        expected: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        from rainforest.model.entities import entity_to_record
        from rainforest.model.validation import _thaw

        _, a = acting(slug, request, csrf)
        if not may_edit(a, aid):
            raise HTTPException(403, "a member edits only its own actor; observers edit nothing")
        eco, version, merge = based(slug, expected)
        record = _thaw(entity_to_record("actors", eco.actor(aid)))
        for key, value in (("name", name.strip()), ("sector", sector.strip())):
            if value:
                record[key] = value
            else:
                record.pop(key, None)
        shown = [p.strip() for p in public.split(",") if p.strip()]
        if shown:
            record["x_public"] = shown
        else:
            record.pop("x_public", None)
        return edit_form(slug, aid, request, csrf, version, merge, record=record)

    def part_records(eco: Ecosystem, section: str, aid: str) -> list[dict[str, Any]]:
        from rainforest.model.entities import entity_to_record
        from rainforest.model.validation import _thaw

        if section == "flows":
            return [_thaw(entity_to_record("flows", f)) for f in eco.flows if aid in (f.source, f.target)]
        items = eco.offers if section == "offers" else eco.needs
        return [_thaw(entity_to_record(section, x)) for x in items if x.actor == aid]

    @app.post("/e/{slug}/actors/{aid}/{section}", include_in_schema=False)
    def add_part(
        slug: str,
        aid: str,
        section: str,
        request: Request,
        resource: str = Form(""),
        quantity: str = Form(""),
        supply_pattern: str = Form(""),
        price: str = Form(""),
        confidential: str = Form("true"),
        direction: str = Form("out"),
        other: str = Form(""),
        remove: str = Form(""),
        expected: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        if section not in ("offers", "needs", "flows"):
            raise HTTPException(404, f"no part {section!r}: offers, needs or flows")
        _, a = acting(slug, request, csrf)
        if not may_edit(a, aid):
            raise HTTPException(403, "a member edits only its own actor; observers edit nothing")
        eco, version, merge = based(slug, expected)
        eco.actor(aid)
        records = part_records(eco, section, aid)
        if remove:
            if not remove.isdigit() or int(remove) >= len(records):
                raise HTTPException(422, f"no {section[:-1]} {remove!r} to remove")
            del records[int(remove)]
        elif section == "flows":
            ends = (aid, other.strip()) if direction != "in" else (other.strip(), aid)
            records.append({"from": ends[0], "to": ends[1], "resource": resource, "quantity": _float(quantity)})
        else:
            new: dict[str, Any] = {"actor": aid, "resource": resource, "quantity": _float(quantity)}
            if supply_pattern:
                new["supply_pattern"] = supply_pattern
            if price.strip():
                new["price" if section == "needs" else "disposal_cost"] = _float(price)
            new["confidential"] = confidential != "false"
            records.append(new)
        return edit_form(slug, aid, request, csrf, version, merge, **{section: records})

    # -- new ecosystems (administrators) and the people of an ecosystem (managers) ---------------
    def create_ecosystem(slug: str, path: Path, user: Any) -> Any:
        if slug in {e.slug for e in store.ecosystems()}:
            raise StoreError(f"ecosystem {slug!r} exists already: import into it from its Import and export page")
        eco = _load(path)  # every problem first; nothing is written
        return store.create(slug, eco, author=user.username, message=f"created from {path.name}")

    @app.post("/api/ecosystems", tags=["ecosystems"])
    async def api_create(
        request: Request,
        slug: str = Form(...),
        file: UploadFile = File(...),  # noqa: B008 - FastAPI's declaration style
        csrf: str | None = Form(None),
    ) -> JSONResponse:
        """A new ecosystem from a document (administrators). 422 with every problem and its
        place (nothing is created); 422 also when the name is taken or invalid."""

        def allowed() -> Any:
            user = require(request)
            check_csrf(request, csrf or request.headers.get("x-csrf-token"))
            if not user.admin:
                raise HTTPException(403, "only administrators create ecosystems")
            return user

        user = await run_in_threadpool(allowed)  # off the event loop: see read_upload
        with tempfile.TemporaryDirectory() as tmp:
            try:
                version = await run_in_threadpool(create_ecosystem, slug, await read_upload(file, tmp), user)
            except DocumentError as exc:
                first, problems = problems_of(exc, tmp)
                return JSONResponse({"error": first, "problems": problems}, 422)
            except StoreError as exc:
                return JSONResponse({"error": str(exc)}, 422)
        return JSONResponse(version.to_dict(), 201)

    @app.post("/new", include_in_schema=False)
    async def create_page(
        request: Request,
        slug: str = Form(""),
        file: UploadFile = File(...),  # noqa: B008 - FastAPI's declaration style
        csrf: str = Form(""),
    ) -> Response:
        def allowed() -> Any:
            user = signed_in(request)
            check_csrf(request, csrf)
            if not user.admin:
                raise HTTPException(403, "only administrators create ecosystems")
            return user

        user = await run_in_threadpool(allowed)  # off the event loop: see read_upload
        problems, error = None, None
        with tempfile.TemporaryDirectory() as tmp:
            try:
                await run_in_threadpool(create_ecosystem, slug.strip(), await read_upload(file, tmp), user)
            except DocumentError as exc:
                problems = problems_of(exc, tmp)[1]
                error = f"{file.filename}: {len(problems)} problem(s) found; nothing was created."
            except StoreError as exc:
                error = str(exc)
        if error is None:
            return RedirectResponse(f"/e/{slug.strip()}", status_code=303)
        return await run_in_threadpool(
            _page,
            "index.html",
            422,
            user=user,
            ecosystems=hooks["visible"](user),
            error=error,
            problems=problems,
            slug=slug,
            csrf=csrf_token(request),
        )

    def grant(slug: str, body: dict[str, Any]) -> Any:
        username, role = str(body.get("username", "")).strip(), str(body.get("role", ""))
        actor = str(body.get("actor") or "").strip() or None
        password = str(body.get("password") or "")
        if store.user(username) is None:
            if not password:
                raise StoreError(
                    f"there is no user {username!r}: give a password (10 characters or more) to create one"
                )
            store.create_user(username, password)
        return store.grant(username, slug, role, actor)

    @app.get("/api/ecosystems/{slug}/people", tags=["people"])
    def api_people(slug: str, request: Request) -> list[dict[str, Any]]:
        """Everyone with a role in the ecosystem (managers)."""
        a = access(require(request), slug)
        manages(a, "see who has a role")
        return [{"username": m.username, "role": m.role, "actor": m.actor} for m in store.members(slug)]

    @app.post("/api/ecosystems/{slug}/people", tags=["people"])
    def api_grant(slug: str, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Give someone a role ``{username, role, actor?, password?}`` (managers): ``member``
        (of one actor), ``observer`` or ``manager``. With a password, a new account is made
        for a user name that has none (a member firm registering)."""
        a = access(require(request), slug)
        check_csrf(request, body.get("csrf") or request.headers.get("x-csrf-token"))
        manages(a, "give roles")
        try:
            m = grant(slug, body)
        except (StoreError, UnknownIdError) as exc:
            return JSONResponse({"error": str(exc)}, 422)
        return JSONResponse({"username": m.username, "role": m.role, "actor": m.actor}, 201)

    @app.delete("/api/ecosystems/{slug}/people/{username}", tags=["people"])
    def api_revoke(slug: str, username: str, request: Request) -> Response:
        """Take someone's role away (managers); the user's sessions end."""
        a = access(require(request), slug)
        check_csrf(request, request.headers.get("x-csrf-token"))
        manages(a, "take roles away")
        try:
            store.revoke(username, slug)
        except StoreError as exc:
            raise HTTPException(404, str(exc)) from None
        return Response(status_code=204)

    @app.post("/e/{slug}/people/{username}/remove", include_in_schema=False)
    def revoke_page(slug: str, username: str, request: Request, csrf: str = Form("")) -> Response:
        _, a = acting(slug, request, csrf)
        manages(a, "take roles away")
        try:
            store.revoke(username, slug)
        except StoreError as exc:
            return people_page(slug, request, error=str(exc))
        return RedirectResponse(f"/e/{slug}/people", status_code=303)

    @app.get("/e/{slug}/people", response_class=HTMLResponse, include_in_schema=False)
    def people_page(slug: str, request: Request, error: str = "") -> Response:
        user, a = viewer(slug, request)
        manages(a, "see who has a role")
        eco = store.load(slug)
        return _page(
            "people.html",
            422 if error else 200,
            user=user,
            nav=a.nav("people"),
            name=eco.name,
            people=store.members(slug),
            actors=eco.actor_ids,
            applications=[x for x in store.applications(slug) if x.status == "pending"],
            known=set(eco.actor_ids),
            link=f"{str(request.base_url).rstrip('/')}/register/{slug}?key={registration_key(slug)}",
            error=error,
            csrf=csrf_token(request),
        )

    @app.post("/e/{slug}/people", include_in_schema=False)
    def grant_page(
        slug: str,
        request: Request,
        username: str = Form(""),
        role: str = Form(""),
        actor: str = Form(""),
        password: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        _, a = acting(slug, request, csrf)
        manages(a, "give roles")
        try:
            grant(slug, {"username": username, "role": role, "actor": actor, "password": password})
        except (StoreError, UnknownIdError) as exc:
            return people_page(slug, request, error=str(exc))
        return RedirectResponse(f"/e/{slug}/people", status_code=303)

    # -- firms registering themselves ---------------------------------------------------------------
    def registration_key(slug: str) -> str:
        """The key of an ecosystem's registration link: managers hand the link out; without
        the key the page answers 404, so the ecosystems' names cannot be probed."""
        import hashlib
        import hmac

        return hmac.new(hooks["secret"].encode(), f"register:{slug}".encode(), hashlib.sha256).hexdigest()[:24]

    def registration(slug: str, key: str) -> None:
        import hmac

        if slug not in {e.slug for e in store.ecosystems()} or not hmac.compare_digest(key, registration_key(slug)):
            raise HTTPException(404, "no such registration link: ask the ecosystem's manager for it")

    @app.get("/register/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def register_form(slug: str, request: Request, key: str = "") -> Response:
        registration(slug, key)
        return _page(
            "register.html",
            user=None,
            slug=slug,
            key=key,
            name=store.load(slug).name,
            error=None,
            done=None,
            form={},
            csrf=csrf_token(request),
        )

    @app.post("/register/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def register(
        slug: str,
        request: Request,
        key: str = Form(""),
        username: str = Form(""),
        password: str = Form(""),
        actor: str = Form(""),
        firm: str = Form(""),
        message: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        registration(slug, key)
        check_csrf(request, csrf)
        limiter = hooks["limiter"]
        address = ("register", request.client.host if request.client else "")
        form = {"username": username, "actor": actor, "firm": firm, "message": message}
        name = store.load(slug).name
        if limiter.blocked(address):
            return _page(
                "register.html",
                429,
                user=None,
                slug=slug,
                key=key,
                name=name,
                done=None,
                form=form,
                error="Too many registrations from this address: wait 15 minutes.",
                csrf=csrf_token(request),
            )
        try:
            application = store.apply(slug, username.strip(), password, actor=actor.strip(), name=firm, message=message)
        except StoreError as exc:
            return _page(
                "register.html",
                422,
                user=None,
                slug=slug,
                key=key,
                name=name,
                done=None,
                form=form,
                error=str(exc),
                csrf=csrf_token(request),
            )
        limiter.fail(address)  # counts registrations per address
        return _page(
            "register.html",
            user=None,
            slug=slug,
            key=key,
            name=name,
            done=application,
            form=form,
            error=None,
            csrf=csrf_token(request),
        )

    @app.get("/api/ecosystems/{slug}/applications", tags=["people"])
    def api_applications(slug: str, request: Request) -> list[dict[str, Any]]:
        """Firms that registered themselves for the ecosystem, with their status (managers)."""
        a = access(require(request), slug)
        manages(a, "see the applications")
        return [x.to_dict() for x in store.applications(slug)]

    @app.post("/api/ecosystems/{slug}/applications/{aid}", tags=["people"])
    def api_decide(slug: str, aid: int, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Decide an application ``{decision: approve | refuse}`` (managers): approving makes
        the applicant the member of its actor (added to the ecosystem when new)."""
        user = require(request)
        a = access(user, slug)
        check_csrf(request, body.get("csrf") or request.headers.get("x-csrf-token"))
        manages(a, "decide applications")
        try:
            decided = store.decide(slug, aid, str(body.get("decision", "")), author=user.username)
        except StaleError as exc:
            return JSONResponse({"error": str(exc)}, 409)
        except StoreError as exc:
            status = 404 if "has no application" in str(exc) else 422
            return JSONResponse({"error": str(exc)}, status)
        except DocumentError as exc:
            return JSONResponse({"error": str(exc).splitlines()[0], "problems": [_issue(i) for i in exc.issues]}, 422)
        return JSONResponse(decided.to_dict())

    @app.post("/e/{slug}/applications/{aid}", include_in_schema=False)
    def decide_page(slug: str, aid: int, request: Request, decision: str = Form(""), csrf: str = Form("")) -> Response:
        user, a = acting(slug, request, csrf)
        manages(a, "decide applications")
        try:
            store.decide(slug, aid, decision, author=user.username)
        except (StoreError, DocumentError) as exc:
            return people_page(slug, request, error=str(exc))
        return RedirectResponse(f"/e/{slug}/people", status_code=303)

    # -- import and export ------------------------------------------------------------------------
    @app.get("/e/{slug}/data", response_class=HTMLResponse, include_in_schema=False)
    def data_page(slug: str, request: Request) -> Response:
        user, a = viewer(slug, request)
        sees_all(a, "import and export")
        return render_data(slug, request, user, a)

    def render_data(
        slug: str,
        request: Request,
        user: Any,
        a: Access,
        problems: list[dict[str, Any]] | None = None,
        error: str | None = None,
    ) -> Response:
        return _page(
            "data.html",
            200 if error is None else 422,
            user=user,
            nav=a.nav("data"),
            name=store.load(slug).name,
            version=store.head(slug),
            history=store.history(slug)[::-1][:20],
            problems=problems,
            error=error,
            csrf=csrf_token(request),
        )

    @app.post("/e/{slug}/data", response_class=HTMLResponse, include_in_schema=False)
    async def import_page(
        slug: str,
        request: Request,
        file: UploadFile = File(...),  # noqa: B008 - FastAPI's declaration style
        expected: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        def allowed() -> tuple[Any, Access]:
            user, a = acting(slug, request, csrf)
            manages(a, "import documents")
            return user, a

        user, a = await run_in_threadpool(allowed)  # off the event loop: see read_upload
        name = Path(file.filename or "upload.yaml").name
        problems, error = None, None
        with tempfile.TemporaryDirectory() as tmp:
            try:
                path = await read_upload(file, tmp)
                await run_in_threadpool(
                    import_upload,
                    store,
                    slug,
                    path,
                    author=user.username,
                    message=f"imported {name}",
                    expected=int(expected) if expected.isascii() and expected.isdigit() else None,
                )
            except DocumentError as exc:
                problems = problems_of(exc, tmp)[1]
                error = f"{name}: {len(problems)} problem(s) found; nothing was imported."
            except ConflictError as exc:
                error = f"{exc} Nothing was imported."
        if error is None:
            return RedirectResponse(f"/e/{slug}/data?imported=1", status_code=303)
        return await run_in_threadpool(render_data, slug, request, user, a, problems, error)

    @app.get("/api/ecosystems/{slug}/export", tags=["ecosystems"])
    def api_export(slug: str, request: Request, form: str = "yaml", version: int | None = None) -> Response:
        """The document (the latest version, or ``version``) as ``yaml``, ``json``, ``excel``
        or ``csv`` (a zip of the CSV folder), for managers and observers."""
        a = access(require(request), slug)
        sees_all(a, "exporting")
        if form not in EXPORTS:
            raise HTTPException(422, f"form must be one of {', '.join(EXPORTS)}, got {form!r}")
        try:
            eco = store.load(slug, version)
        except StoreError as exc:
            raise HTTPException(404, str(exc)) from None
        filename, media = EXPORTS[form]
        number = version or store.head(slug)
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / filename
            if form == "csv":
                import shutil

                from rainforest.io import save

                save(eco, Path(tmp) / "document", form="csv")
                for sheet in (Path(tmp) / "document").glob("*.csv"):
                    _neutralise_csv(sheet)
                shutil.make_archive(str(Path(tmp) / "document"), "zip", Path(tmp) / "document")
            else:
                from rainforest.io import save

                save(eco, target)
            data = target.read_bytes()
        suffix = filename.rsplit(".", 1)[1]
        return Response(
            data,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{slug}-v{number}.{suffix}"'},
        )

    # -- long work -----------------------------------------------------------------------------
    def one_job(slug: str, jid: int) -> Any:
        try:
            return store.job(slug, jid)
        except StoreError:
            raise HTTPException(404, f"no job {jid}") from None

    def start(slug: str, kind: str, params: dict[str, Any], user: Any) -> Any:
        from rainforest.web.jobs import check_params

        if kind not in JOB_KINDS:
            raise ValueError(f"kind must be one of {', '.join(JOB_KINDS)}, got {kind!r}")
        job = store.submit(slug, kind, check_params(kind, params), author=user.username)
        worker().start(job)
        return job

    @app.get("/api/ecosystems/{slug}/jobs", tags=["jobs"])
    def api_jobs(slug: str, request: Request) -> list[dict[str, Any]]:
        """Long work on the ecosystem, newest first (managers and observers)."""
        a = access(require(request), slug)
        sees_all(a, "long work")
        return [j.to_dict() for j in store.jobs(slug)]

    @app.post("/api/ecosystems/{slug}/jobs", tags=["jobs"])
    def api_start(slug: str, request: Request, body: dict[str, Any]) -> JSONResponse:
        """Start long work ``{kind, ...parameters}`` on the latest version (managers): kind
        ``analyses`` (the health report), ``plan`` (``objective``, ``max_distance_km``),
        ``risk`` (all-actor ESRI) or ``simulate`` (``periods``, ``runs``, ``seed``). 201 with
        the queued job; poll it for progress."""
        user = require(request)
        a = access(user, slug)
        check_csrf(request, body.get("csrf") or request.headers.get("x-csrf-token"))
        manages(a, "start long work")
        params = {k: v for k, v in body.items() if k not in ("kind", "csrf")}
        try:
            job = start(slug, str(body.get("kind", "")), params, user)
        except (TypeError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, 422)
        return JSONResponse(job.to_dict(), 201)

    @app.get("/api/ecosystems/{slug}/jobs/{jid}", tags=["jobs"])
    def api_job(slug: str, jid: int, request: Request) -> dict[str, Any]:
        """One job: its status, progress (0 to 1) and summary."""
        a = access(require(request), slug)
        sees_all(a, "long work")
        return one_job(slug, jid).to_dict()  # type: ignore[no-any-return]

    @app.get("/api/ecosystems/{slug}/jobs/{jid}/result", tags=["jobs"])
    def api_job_result(slug: str, jid: int, request: Request) -> Any:
        """The whole stored result of a finished job (409 while it runs or when it failed)."""
        a = access(require(request), slug)
        sees_all(a, "long work")
        job = one_job(slug, jid)
        if job.status != "done":
            raise HTTPException(409, f"job {jid} is {job.status}: {job.message}")
        return store.result(slug, jid)

    @app.get("/api/ecosystems/{slug}/jobs/{jid}/page", tags=["jobs"], response_class=HTMLResponse)
    def api_job_page(slug: str, jid: int, request: Request) -> HTMLResponse:
        """The page a finished job made (the health report, the simulation's plots), as a
        self-contained HTML download; 404 when the job made none."""
        a = access(require(request), slug)
        sees_all(a, "long work")
        job = one_job(slug, jid)
        page = store.artifact(slug, jid) if job.status == "done" else None
        if page is None:
            raise HTTPException(404, f"job {jid} ({job.kind}, {job.status}) has no page")
        stem = "report" if job.kind == "analyses" else job.kind
        return HTMLResponse(
            page, headers={"Content-Disposition": f'attachment; filename="{slug}-v{job.version}-{stem}.html"'}
        )

    @app.get("/e/{slug}/jobs", response_class=HTMLResponse, include_in_schema=False)
    def jobs_page(slug: str, request: Request, error: str = "") -> Response:
        user, a = viewer(slug, request)
        sees_all(a, "long work")
        return _page(
            "jobs.html",
            422 if error else 200,
            user=user,
            nav=a.nav("jobs"),
            name=store.load(slug).name,
            version=store.head(slug),
            jobs=store.jobs(slug)[:50],
            error=error,
            csrf=csrf_token(request),
        )

    @app.post("/e/{slug}/jobs", include_in_schema=False)
    def start_page(
        slug: str,
        request: Request,
        kind: str = Form(""),
        objective: str = Form(""),
        max_distance_km: str = Form(""),
        periods: str = Form(""),
        runs: str = Form(""),
        seed: str = Form(""),
        back: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        user, a = acting(slug, request, csrf)
        manages(a, "start long work")
        given = {
            "objective": objective,
            "max_distance_km": max_distance_km,
            "periods": periods,
            "runs": runs,
            "seed": seed,
        }
        try:
            job = start(slug, kind, {k: v for k, v in given.items() if v}, user)
        except (TypeError, ValueError) as exc:
            return jobs_page(slug, request, error=str(exc))
        target = back if back.startswith(f"/e/{slug}/") else f"/e/{slug}/jobs/{job.id}"
        return RedirectResponse(target, status_code=303)

    @app.get("/e/{slug}/jobs/{jid}", response_class=HTMLResponse, include_in_schema=False)
    def job_page(slug: str, jid: int, request: Request) -> Response:
        user, a = viewer(slug, request)
        sees_all(a, "long work")
        job = one_job(slug, jid)
        result = store.result(slug, jid) if job.status == "done" and job.kind in ("plan", "risk", "simulate") else None
        return _page(
            "job.html",
            user=user,
            nav=a.nav("jobs"),
            name=store.load(slug).name,
            job=job,
            result=result,
            number=_number,
            csrf=csrf_token(request),
        )

    # -- analyses ------------------------------------------------------------------------------
    @app.get("/e/{slug}/analyses", response_class=HTMLResponse, include_in_schema=False)
    def analyses_index(slug: str, request: Request) -> Response:
        return analyses_page(slug, "summary", request)

    @app.get("/e/{slug}/analyses/{section}", response_class=HTMLResponse, include_in_schema=False)
    def analyses_page(slug: str, section: str, request: Request) -> Response:
        user, a = viewer(slug, request)
        sees_all(a, "the analyses")
        if section != "summary" and section not in ANALYSES:
            raise HTTPException(404, f"no analysis {section!r}; there are {', '.join(ANALYSES)}")
        head = store.head(slug)
        job = store.latest(slug, "analyses", head) or store.latest(slug, "analyses")
        running = [j for j in store.jobs(slug) if j.kind == "analyses" and j.status in ("queued", "running")]
        report = store.result(slug, job.id) if job is not None else None
        chosen = None
        if report is not None and section != "summary":
            chosen = next((s for s in report["sections"] if s["id"] == section), None)
        return _page(
            "analyses.html",
            user=user,
            nav=a.nav("analyses"),
            name=store.load(slug).name,
            head=head,
            job=job,
            running=running[0] if running else None,
            report=report,
            section=section,
            chosen=chosen,
            titles=ANALYSES,
            csrf=csrf_token(request),
        )


#: What a spreadsheet reads as the start of a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _neutralise_csv(path: Path) -> None:
    """Rewrite a downloaded CSV file so that no text cell starts a formula when the file is
    opened in a spreadsheet: such cells get a leading apostrophe (the usual escape; the
    Excel download stores them as text cells instead). Numbers, negative ones included, stay
    as they are."""
    import csv

    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    changed = False
    for row in rows:
        for i, cell in enumerate(row):
            if cell.startswith(_FORMULA_START):
                try:
                    float(cell)
                except ValueError:
                    row[i] = "'" + cell
                    changed = True
    if changed:
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh, lineterminator="\n").writerows(rows)


#: How many times an edit without ``expected`` is made again on a newer version before 409.
MERGES = 8


def _part(eco: Ecosystem, part: str, aid: str) -> list[Any]:
    """One actor's ``part`` of an edit (``record``, ``offers``, ``needs``, ``flows``) as
    comparable values: what a merged edit must find unchanged."""
    if part == "record":
        return [eco.actor(aid)] if aid in eco.actor_ids else []
    if part == "flows":
        return [f for f in eco.flows if aid in (f.source, f.target)]
    return [x for x in (eco.offers if part == "offers" else eco.needs) if x.actor == aid]


def _float(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text  # the check reports it with its place


def _load(path: Path) -> Ecosystem:
    """Read an uploaded document: any failure to read it (too deeply nested, a broken or
    refused file) is a :class:`DocumentError` with what went wrong (422), never a 500."""
    from rainforest.io import load

    try:
        return load(path)
    except DocumentError:
        raise
    except RecursionError:
        problem = Issue(
            "",
            "the document is nested too deeply to read",
            expected="sections of records, each a mapping of fields",
            hint="Check the file: no rainforest document nests more than a few levels.",
            file=path.name,
        )
    except Exception as exc:  # an upload is untrusted: whatever breaks the reader is its problem
        problem = Issue(
            "",
            "the file could not be read",
            expected="a YAML, JSON or Excel document, or a zip of the CSV folder",
            got=f"{type(exc).__name__}: {str(exc)[:200]}",
            hint="Open and save it again with the program that made it, or `rainforest convert` it.",
            file=path.name,
        )
    raise DocumentError([problem], source=path.name)


def import_upload(store: Store, slug: str, path: Path, *, author: str, message: str, expected: int | None) -> Any:
    """Read an upload (see :func:`_load`), then save it as the next version of ``slug``."""
    eco = _load(path)  # every problem is reported here, and nothing has been written yet
    crash_point("import:validated")
    return store.commit(slug, eco, author=author, message=message, expected=expected)


#: What an upload may be (a zip holds the CSV folder).
UPLOADS = (".yaml", ".yml", ".json", ".xlsx", ".xlsm", ".zip")
#: Uploads are copied and unzipped this many bytes at a time.
CHUNK = 1 << 20
#: A zipped CSV folder unpacks to at most this many times its size, and at most this much.
ZIP_RATIO = 100
UNZIPPED_MAX = 1 << 30


async def read_upload(file: UploadFile, tmp: str) -> Path:
    """The uploaded document as a path in ``tmp``: a file, or the folder of a zipped CSV
    folder. An unknown kind of file or a broken zip raises :class:`DocumentError`.

    Only receiving the upload runs on the event loop; writing and unpacking it, like the
    routes' reading, validating and saving, runs on the thread pool (an upload on the event
    loop stops every other request, sign-in included, until it is done)."""
    await file.seek(0)
    return await run_in_threadpool(_unpack, file.filename, file.file, tmp)


def _unpack(filename: str | None, data: BinaryIO, tmp: str) -> Path:
    import shutil
    import zipfile
    import zlib

    name = Path(filename or "upload").name or "upload"
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOADS:
        raise DocumentError(
            [
                Issue(
                    "",
                    "unknown kind of file",
                    expected="a YAML, JSON or Excel document, or a zip of the CSV folder (" + ", ".join(UPLOADS) + ")",
                    got=repr(suffix or name),
                    hint="Save the document in one of these forms (`rainforest convert` writes them).",
                    file=name,
                )
            ],
            source=name,
        )
    path = Path(tmp) / name
    with path.open("wb") as out:  # in chunks: the upload is never held in memory whole
        shutil.copyfileobj(data, out, CHUNK)
    if suffix in (".xlsx", ".xlsm"):
        _no_dtd(path, name)
    if suffix != ".zip":
        return path
    folder = Path(tmp) / (Path(name).stem or "document")
    folder.mkdir(exist_ok=True)
    budget = min(UNZIPPED_MAX, max(ZIP_RATIO * path.stat().st_size, CHUNK))

    def bomb(size: str) -> DocumentError:
        return DocumentError(
            [
                Issue(
                    "",
                    "the zip unpacks to more than this server accepts",
                    expected=f"at most {budget:,} bytes of CSV ({ZIP_RATIO} times the zip, {UNZIPPED_MAX // 2**20} MiB at most)",
                    got=size,
                    hint="Upload the document as YAML, JSON or Excel, or split it.",
                    file=name,
                )
            ],
            source=name,
        )

    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename.endswith(".csv")]
            declared = sum(i.file_size for i in members)
            if declared > budget:
                raise bomb(f"{declared:,} bytes declared")
            written = 0
            for info in members:  # counted as written: the declared sizes may lie
                with archive.open(info) as source, (folder / Path(info.filename).name).open("wb") as target:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        if written > budget:
                            raise bomb(f"more than {budget:,} bytes")
                        target.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
        raise DocumentError(
            [Issue("", "not a zip archive", expected="a zip of the CSV folder", got=str(exc)[:200], file=name)],
            source=name,
        ) from None
    return folder


def _no_dtd(path: Path, name: str) -> None:
    """Refuse a workbook whose XML declares a document type: Excel never writes one, and its
    entities are how XML bombs and external entities come in."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    with archive.open(info) as part:
                        prolog = part.read(4096)
                    if b"<!DOCTYPE" in prolog:
                        raise DocumentError(
                            [
                                Issue(
                                    "",
                                    "the workbook declares a document type (DTD)",
                                    expected="an Excel workbook as Excel or LibreOffice saves it (no DTD)",
                                    got=f"<!DOCTYPE in {info.filename}",
                                    hint="Open it in Excel or LibreOffice and save it again.",
                                    file=name,
                                )
                            ],
                            source=name,
                        )
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, EOFError, OSError):
        return  # not a readable zip: the reader says what is wrong with it


def problems_of(exc: DocumentError, tmp: str) -> tuple[str, list[dict[str, Any]]]:
    """The first line of the error and every problem, as the user named the file (the
    temporary folder the upload was kept in is left out)."""
    from rainforest.web.app import _issue

    prefix = str(Path(tmp)) + "/"

    def clean(value: Any) -> Any:
        return value.replace(prefix, "") if isinstance(value, str) else value

    problems = [{k: clean(v) for k, v in _issue(i).items()} for i in exc.issues]
    return clean(str(exc).splitlines()[0]), problems
