"""Server-rendered pages: sign-in, the ecosystems, an ecosystem's overview."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from rainforest.store import Store
from rainforest.web.app import SignInError


@lru_cache(maxsize=1)
def _templates() -> Any:
    import jinja2
    import markupsafe

    from rainforest.report import format_number, to_json

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("rainforest.web", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.globals["json"] = lambda value: markupsafe.Markup(to_json(value))
    env.filters["fmt"] = format_number
    return env


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates().get_template(template).render(**context)
    return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)


_ICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path fill="#2e7d32" '
    b'd="M8 1C4 4 3 8 5 11l-2 4h2l1-3c3 1 7-1 8-6-2 0-4 0-6 2 1-2 1-4 0-7z"/></svg>'
)

#: Scripts only from this server's files (no inline script, no eval: the figures' specs are
#: JSON data blocks, and plotly draws the workbench's charts without eval); inline styles
#: stay allowed (the pages' stylesheet, and the style elements plotly adds as it draws).
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_pages(app: FastAPI, store: Store, **hooks: Any) -> None:
    caller, access, csrf_token, check_csrf, limiter, key_numbers = (
        hooks["caller"],
        hooks["access"],
        hooks["csrf_token"],
        hooks["check_csrf"],
        hooks["limiter"],
        hooks["key_numbers"],
    )
    party, acts, visible = hooks["party"], hooks["acts"], hooks["visible"]
    viewer, form = hooks["viewer"], hooks["form"]

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(_ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request) -> HTMLResponse:
        return _page("login.html", csrf=csrf_token(request), error=None, username="")

    @app.post("/login", include_in_schema=False)
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        check_csrf(request, csrf)
        key = (username, request.client.host if request.client else "")
        if limiter.sign_in_blocked(*key):
            return _page(
                "login.html",
                429,
                csrf=csrf_token(request),
                error="Too many failed attempts: wait 15 minutes.",
                username=username,
            )
        user = store.verify(username, password)
        if user is None:
            limiter.sign_in_failed(*key)
            # the form again with the message, status 200 (a 401 page makes browsers log an error)
            return _page(
                "login.html", csrf=csrf_token(request), error="Wrong user name or password.", username=username
            )
        limiter.clear(key)
        request.session.clear()  # a new session at sign-in (no fixation)
        request.session["sid"] = store.start_session(user.username)
        return RedirectResponse("/password" if user.must_change else "/", status_code=303)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request, csrf: str = Form("")) -> Response:
        check_csrf(request, csrf)
        token = request.session.get("sid")
        if token:
            store.end_session(str(token))  # a copy of the cookie kept elsewhere ends too
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- passwords ---------------------------------------------------------------------------------
    def change_password(request: Request, current: str, new: str, repeat: str | None) -> Any:
        """The caller's new password, or the error to show; every session of the caller ends
        (a new one starts for this browser when it signed in by cookie)."""
        from rainforest.errors import UnknownIdError
        from rainforest.store import StoreError

        user = caller(request)
        if user is None:
            raise SignInError("/login")
        key = (user.username, request.client.host if request.client else "")
        if limiter.sign_in_blocked(*key):
            raise HTTPException(429, "too many failed sign-ins: wait 15 minutes")
        if repeat is not None and new != repeat:
            return "the two new passwords differ: nothing was changed"
        try:
            store.set_password(user.username, new, current=current)
        except (StoreError, UnknownIdError) as exc:
            if "current password is wrong" in str(exc):
                limiter.sign_in_failed(*key)
            return str(exc)
        if request.session.get("sid") and not getattr(request.state, "by_basic", False):
            request.session.clear()
            request.session["sid"] = store.start_session(user.username)
        return None

    @app.get("/password", response_class=HTMLResponse, include_in_schema=False)
    def password_form(request: Request) -> Response:
        user = caller(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        return _page("password.html", user=user, error=None, csrf=csrf_token(request))

    @app.post("/password", include_in_schema=False)
    def password(
        request: Request,
        current: str = Form(""),
        new: str = Form(""),
        repeat: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        check_csrf(request, csrf)
        error = change_password(request, current, new, repeat)
        if error is not None:
            return _page("password.html", 422, user=caller(request), error=error, csrf=csrf_token(request))
        return RedirectResponse("/", status_code=303)

    @app.post("/api/password", tags=["accounts"])
    def api_password(request: Request, body: dict[str, Any]) -> Response:
        """Change the caller's password ``{current, new}``: every session of the caller ends
        (this browser's is renewed). Required first after signing in with a one-time password."""
        from fastapi.responses import JSONResponse

        hooks["require"](request)
        check_csrf(request, body.get("csrf") or request.headers.get("x-csrf-token"))
        error = change_password(request, str(body.get("current", "")), str(body.get("new", "")), None)
        if error is not None:
            return JSONResponse({"error": error}, status_code=422)
        return JSONResponse({"changed": True})

    @app.delete("/api/users/{username}", tags=["accounts"])
    def api_remove_user(username: str, request: Request) -> Response:
        """Remove an account with its roles and sessions (administrators)."""
        from fastapi.responses import JSONResponse

        from rainforest.errors import UnknownIdError
        from rainforest.store import StoreError

        user = hooks["require"](request)
        check_csrf(request, request.headers.get("x-csrf-token"))
        if not user.admin:
            raise HTTPException(403, "only administrators remove accounts")
        try:
            store.remove_user(username)
        except UnknownIdError as exc:
            raise HTTPException(404, str(exc)) from None
        except StoreError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return Response(status_code=204)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Response:
        user = caller(request)
        if user is None or user.must_change:
            return RedirectResponse("/password" if user else "/login", status_code=303)
        return _page(
            "index.html",
            user=user,
            ecosystems=visible(user),
            error=None,
            problems=None,
            slug="",
            csrf=csrf_token(request),
        )

    def analyses(slug: str, eco: Any, head: int) -> Any:
        """Where the overview's numbers and picture come from: ``"here"`` (a small ecosystem
        without stored analyses of its latest version: computed in the request), the stored
        analyses (of the latest version, else of the newest earlier one), or None."""
        from rainforest.web._workbench import SYNC_LIMIT

        job = store.latest(slug, "analyses", head)
        if job is None and len(eco.actors) <= SYNC_LIMIT[0] and len(eco.flows) <= SYNC_LIMIT[1]:
            return "here"
        return job or store.latest(slug, "analyses")

    @app.get("/e/{slug}", response_class=HTMLResponse, include_in_schema=False)
    def overview(slug: str, request: Request) -> Response:
        user, a = viewer(slug, request)
        eco = store.load(slug)
        head = store.head(slug)
        numbers: list[dict[str, Any]] = []
        report_url = f"/api/ecosystems/{slug}/report"  # computed on request (small ecosystems)
        network = False  # whether the network picture can be drawn (the page fetches it)
        as_of = None  # the version the numbers are of, when not the latest
        if a.sees_all:
            job = analyses(slug, eco, head)
            if job == "here":
                numbers, figure = key_numbers(slug, eco)
                network = figure is not None
            elif job is not None:
                numbers, as_of = job.summary["key_numbers"], (job.version if job.version != head else None)
                report_url = f"/api/ecosystems/{slug}/jobs/{job.id}/page"  # stored: no waiting
                network = "network" in job.summary.get("sections", ())
        mine = None
        if a.actor is not None:
            me = eco.actor(a.actor)
            mine = {
                "id": me.id,
                "name": me.name or me.id,
                "offers": sum(1 for o in eco.offers if o.actor == me.id),
                "needs": sum(1 for n in eco.needs if n.actor == me.id),
                "flows": sum(1 for f in eco.flows if me.id in (f.source, f.target)),
            }
        return _page(
            "ecosystem.html",
            user=user,
            nav=a.nav("overview"),
            slug=slug,
            name=eco.name,
            version=head,
            as_of=as_of,
            report_url=report_url,
            network=network,
            role=a.role,
            counts={"actors": len(eco.actors), "resources": len(eco.resources), "flows": len(eco.flows)},
            numbers=numbers,
            mine=mine,
            csrf=csrf_token(request),
        )

    figures: dict[int, str] = {}  # job id -> the network picture's JSON (results never change)

    @app.get("/e/{slug}/network", include_in_schema=False)
    def network(slug: str, request: Request) -> Response:
        """The overview's network picture as JSON (the page draws it once loaded)."""
        from rainforest.report import to_json
        from rainforest.web.jobs import network_figure

        user = caller(request)
        if user is None:
            raise HTTPException(401, "sign in first")
        a = access(user, slug)
        if not a.sees_all:
            raise HTTPException(403, "the network picture is for the ecosystem's managers and observers")
        eco = store.load(slug)
        job = analyses(slug, eco, store.head(slug))
        text = None
        if job == "here":
            figure = key_numbers(slug, eco)[1]
            text = to_json(figure) if figure is not None else None
        elif job is not None:
            if job.id not in figures:
                figure = network_figure(store.result(slug, job.id))
                figures[job.id] = to_json(figure) if figure is not None else "null"
            text = figures[job.id] if figures[job.id] != "null" else None
        if text is None:
            raise HTTPException(404, "no network picture: the ecosystem has no exchanges between its members")
        return Response(text, media_type="application/json", headers={"Cache-Control": "private, max-age=60"})

    # -- the matchmaking board ----------------------------------------------------------------------
    @app.get("/e/{slug}/board", response_class=HTMLResponse, include_in_schema=False)
    def board(slug: str, request: Request) -> Response:
        """Candidates with their explanations, the optimised plan (managers and observers), the
        proposals the caller may see with the moves it may make, and the ledger's totals."""
        from rainforest.optimize import exchanges
        from rainforest.web.app import visible_candidates, visible_ledger

        user, a = viewer(slug, request)
        eco = store.load(slug)
        cands = visible_candidates(eco, exchanges.candidates(eco), a)
        # best saving first; confidential ones after them, in the document's order (sorting them
        # by their saving would rank the other firms' prices)
        cands.sort(key=lambda c: (c["saving"] is None, -(c["saving"] or 0.0)))
        plan, plan_job = None, None
        head = store.head(slug)
        if a.sees_all and eco.offers and eco.needs:
            plan_job = store.latest(slug, "plan", head)
            if plan_job is not None:
                plan = store.result(slug, plan_job.id)
            else:
                plan_job = next(
                    (j for j in store.jobs(slug) if j.kind == "plan" and j.version == head and j.status != "done"),
                    None,
                )
        every = store.proposals(slug)
        proposals = [p for p in every if party(a, p)]
        counted = visible_ledger(eco, every, a)
        ledger, skipped = counted["total"], counted["not_valued"]
        from rainforest.store import TRANSITIONS

        rows = [
            {"p": p, "moves": TRANSITIONS[p.status] if acts(a, p) else (), "can_comment": acts(a, p)} for p in proposals
        ]
        return _page(
            "board.html",
            user=user,
            slug=slug,
            name=eco.name,
            role=a.role,
            actor=a.actor,
            candidates=cands[:50],
            more=max(0, len(cands) - 50),
            can_propose=a.manages or a.role == "member",
            plan=plan,
            plan_job=plan_job,
            nav=a.nav("board"),
            rows=rows,
            ledger=ledger,
            not_valued=len(skipped),
            csrf=csrf_token(request),
        )

    @app.post("/e/{slug}/proposals", include_in_schema=False)
    def propose(
        slug: str,
        request: Request,
        source: str = Form(...),
        target: str = Form(...),
        resource: str = Form(...),
        quantity: float = Form(...),
        csrf: str = Form(""),
    ) -> Response:
        user, a = form(slug, request, csrf)
        if not (a.manages or (a.role == "member" and a.actor in (source, target))):
            raise HTTPException(403, "a member proposes only exchanges its own actor is a party to")
        from rainforest.store import StoreError

        try:
            store.propose(slug, source, target, resource, quantity, author=user.username)
        except StoreError as exc:  # two parties, a positive quantity
            raise HTTPException(422, str(exc)) from None
        return RedirectResponse(f"/e/{slug}/board", status_code=303)

    @app.post("/e/{slug}/proposals/{pid}", include_in_schema=False)
    def act(
        slug: str,
        pid: int,
        request: Request,
        status: str = Form(""),
        comment: str = Form(""),
        expected: str = Form(""),
        csrf: str = Form(""),
    ) -> Response:
        from rainforest.store import StoreError

        user, a = form(slug, request, csrf)
        try:
            p = store.proposal(slug, pid)
        except StoreError:
            raise HTTPException(404, f"no proposal {pid}") from None
        if not party(a, p):
            raise HTTPException(404, f"no proposal {pid}")
        if not acts(a, p):
            raise HTTPException(403, "only the parties and the managers act on a proposal")
        try:
            if comment.strip():
                store.comment(slug, pid, comment, author=user.username)
            if status:
                store.move(
                    slug,
                    pid,
                    status,
                    author=user.username,
                    expected=expected or None,
                    party=None if a.manages else a.actor,
                )
        except StoreError as exc:
            raise HTTPException(409, str(exc)) from None
        return RedirectResponse(f"/e/{slug}/board", status_code=303)
