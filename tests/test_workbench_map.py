"""The workbench's map (issue 20, item 3): its JSON (firms with positions, those without,
today's and candidate exchanges, the cluster radius) as each role may see it, placing a firm
as a new version, the tile server of ``rainforest serve --tiles`` and the pages' policy, and
the vendored Leaflet files: present, shipped in the wheel and served."""

from __future__ import annotations

import fnmatch
import hashlib
import re
import shutil
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD
from rainforest.assessment import radius_curve
from rainforest.errors import ParameterError
from rainforest.store import Store
from rainforest.web import create_app
from rainforest.web.records import Accounts, JobQueue
from rainforest.web.render import PAGE_HEADERS
from rainforest.web.routers.map import LEAFLET
from rainforest.web.security import API_CSP
from rainforest.web.services.map import cluster_radius, tile_server

ROOT = Path(__file__).resolve().parent.parent
PARK = ROOT / "docs" / "examples" / "park.yaml"
MANAGER = ("manny", PASSWORD)


def _store(path: Path) -> Store:
    """The example park (six located firms, four offers and needs) with a manager, an
    observer and two members, and the Kalundborg example (no locations)."""
    store = Store(f"sqlite:///{path / 'map.db'}")
    eco = rf.load(PARK)
    # the farm shares its location with the members; the others do not
    farm = eco.actor("farm")
    eco = eco.replace_rows("farm", {"actors": [{**eco.actor_rows("farm")["actors"][0], "x_public": ["location"]}]})
    assert farm.location is not None
    store.create("park", eco, author="setup")
    store.create("kalundborg", rf.datasets.kalundborg(), author="setup")
    for name, role, actor in (
        ("manny", "manager", None),
        ("olga", "observer", None),
        ("bea", "member", "brewery"),
        ("carl", "member", "cement"),
    ):
        Accounts(store).create_user(name, PASSWORD)
        Accounts(store).grant(name, "park", role, actor)
    Accounts(store).grant("manny", "kalundborg", "manager")
    return store


@pytest.fixture(scope="module")
def _made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store made once (its accounts' password hashes are slow on purpose), copied per test."""
    folder = tmp_path_factory.mktemp("map")
    with _store(folder):
        pass
    return folder / "map.db"


@pytest.fixture
def park(tmp_path: Path, _made: Path) -> Iterator[tuple[Store, TestClient]]:
    shutil.copy(_made, tmp_path / "map.db")
    store = Store(f"sqlite:///{tmp_path / 'map.db'}")
    with TestClient(create_app(store, secret="test-secret")) as client:
        yield store, client


def test_a_manager_sees_every_firm_the_candidates_and_the_cluster_radius(park: tuple[Store, TestClient]) -> None:
    store, client = park
    data = client.get("/api/ecosystems/park/map", auth=MANAGER).json()
    eco = store.load("park")
    assert {a["id"]: (a["lat"], a["lon"]) for a in data["actors"]} == {
        a.id: (a.location.lat, a.location.lon) for a in eco.actors if a.location is not None
    }
    assert data["unplaced"] == []
    assert data["unplaced_label"] == "no location"
    assert data["flows"] == []  # a new park: nothing exchanged yet
    assert {(c["from"], c["to"], c["resource"]) for c in data["candidates"]} == {
        ("power", "cement", "fly_ash"),
        ("power", "board", "gypsum"),
        ("brewery", "farm", "spent_grain"),
        ("refinery", "power", "water"),
    }
    assert not any(c["planned"] for c in data["candidates"])  # no plan optimised yet
    assert next(c for c in data["candidates"] if c["resource"] == "water")["unit"] == "m³"
    assert data["tiles"] is None
    assert data["version"] == 1
    assert data["may_place"] == [a.id for a in eco.actors]
    # the circle: the radius the report's Cluster section names ("half of it is reached
    # within"), around the firms' centre
    curve = radius_curve(eco)
    half = min(
        r for r, b in zip(curve["radius_km"], curve["benefit"], strict=True) if b >= 0.5 * curve["unlimited"]["benefit"]
    )
    radius = data["radius"]
    assert radius["km"] == pytest.approx(half) == pytest.approx(3.995)
    assert radius["centre"]["lat"] == pytest.approx(sum(a["lat"] for a in data["actors"]) / 6)
    assert radius["label"].startswith("cluster radius 4 km, around the firms' centre: half of the exchange plan's")
    section = next(s for s in rf.report.health_report(eco).sections if s.id == "cluster")
    assert "half of it is reached within 4 km" in " ".join(section.text)
    # on an actor's page the circle is around that actor
    power = client.get("/api/ecosystems/park/map?actor=power", auth=MANAGER).json()["radius"]
    assert power["centre"] == {"lat": 55.66, "lon": 11.09}
    assert "around Coal power station" in power["label"]
    # an actor's page draws that actor's candidates only
    lines = client.get("/api/ecosystems/park/map?actor=power", auth=MANAGER).json()["candidates"]
    assert {(c["from"], c["to"]) for c in lines} == {("power", "cement"), ("power", "board"), ("refinery", "power")}
    assert client.get("/api/ecosystems/park/map?actor=nobody", auth=MANAGER).status_code == 404


def test_the_plan_s_exchanges_are_marked(park: tuple[Store, TestClient]) -> None:
    from rainforest.web.jobs import run

    store, client = park
    job = JobQueue(store).submit("park", "plan", author="manny")
    assert run(store, "park", job.id) == "done"
    data = client.get("/api/ecosystems/park/map", auth=MANAGER).json()
    plan = client.get(f"/api/ecosystems/park/jobs/{job.id}/result", auth=MANAGER).json()
    assert {(c["from"], c["to"], c["resource"]) for c in data["candidates"] if c["planned"]} == {
        (e["from"], e["to"], e["resource"]) for e in plan["exchanges"]
    }
    assert data["plan_version"] == 1


def test_firms_without_a_location_are_listed_never_drawn(park: tuple[Store, TestClient]) -> None:
    store, client = park
    data = client.get("/api/ecosystems/kalundborg/map", auth=MANAGER).json()
    assert data["actors"] == []
    assert data["flows"] == []
    assert data["candidates"] == []
    assert [a["id"] for a in data["unplaced"]] == list(store.load("kalundborg").actor_ids)
    assert data["unplaced"][0]["name"].startswith("Asnaes Power Station")
    assert data["radius"] == {
        "km": None,
        "reason": "n/a: no actor has a location, so no distance between partners is known",
    }
    # two firms placed: the exchanges between them are drawn, none to a firm without a place
    for aid, lat, lon in (("asnaes", 55.661, 11.088), ("statoil_refinery", 55.676, 11.094)):
        r = client.post(
            f"/api/ecosystems/kalundborg/actors/{aid}/location", auth=MANAGER, json={"lat": lat, "lon": lon}
        )
        assert r.status_code == 200, r.text
    data = client.get("/api/ecosystems/kalundborg/map", auth=MANAGER).json()
    assert {a["id"] for a in data["actors"]} == {"asnaes", "statoil_refinery"}
    eco = store.load("kalundborg")
    between = {
        (f.source, f.target, f.resource) for f in eco.flows if {f.source, f.target} == {"asnaes", "statoil_refinery"}
    }
    assert between
    assert {(f["from"], f["to"], f["resource"]) for f in data["flows"]} == between
    assert len(data["unplaced"]) == len(eco.actors) - 2


def test_members_see_shared_locations_and_their_own_exchanges_only(park: tuple[Store, TestClient]) -> None:
    _, client = park
    data = client.get("/api/ecosystems/park/map", auth=("bea", PASSWORD)).json()
    # its own place, and the farm's (shared with members); the others are not shown
    assert {a["id"] for a in data["actors"]} == {"brewery", "farm"}
    assert {a["id"] for a in data["unplaced"]} == {"power", "cement", "board", "refinery"}
    assert data["unplaced_label"] == "no location, or not shared with members"
    assert [(c["from"], c["to"]) for c in data["candidates"]] == [("brewery", "farm")]
    assert data["radius"]["km"] is None
    assert "managers and observers" in data["radius"]["reason"]
    assert data["may_place"] == ["brewery"]
    assert data["plan_version"] is None
    # a member whose partners do not share their place draws no line to them
    carl = client.get("/api/ecosystems/park/map", auth=("carl", PASSWORD)).json()
    assert {a["id"] for a in carl["actors"]} == {"cement", "farm"}
    assert carl["candidates"] == []
    assert carl["candidates_off_map"] == 1  # counted beside the map, not drawn: power -> cement
    assert data["candidates_off_map"] == 0
    olga = client.get("/api/ecosystems/park/map", auth=("olga", PASSWORD)).json()
    assert olga["may_place"] == []
    assert olga["radius"]["km"] == pytest.approx(3.995)


def test_placing_a_firm_is_a_version_with_its_author(park: tuple[Store, TestClient]) -> None:
    store, client = park
    url = "/api/ecosystems/park/actors/{}/location"
    r = client.post(url.format("farm"), auth=MANAGER, json={"lat": 55.81, "lon": 11.3123456789, "expected": 1})
    assert r.status_code == 200, r.text
    v = r.json()
    assert (v["number"], v["author"]) == (2, "manny")
    assert v["message"] == "placed Pig farm on the map at 55.81000, 11.31235"  # its name, not its id
    farm = store.load("park").actor("farm")
    assert (farm.location.lat, farm.location.lon) == (55.81, 11.312346)  # type: ignore[union-attr]
    assert list(farm.extensions["x_public"]) == ["location"]  # the rest of the record is kept
    # a member places its own firm, with a message; not another's
    r = client.post(
        url.format("brewery"), auth=("bea", PASSWORD), json={"lat": 55.5, "lon": 11.0, "message": "new site"}
    )
    assert (r.status_code, r.json()["author"], r.json()["message"]) == (200, "bea", "new site")
    assert client.post(url.format("farm"), auth=("bea", PASSWORD), json={"lat": 1, "lon": 1}).status_code == 403
    assert client.post(url.format("farm"), auth=("olga", PASSWORD), json={"lat": 1, "lon": 1}).status_code == 403
    assert client.post(url.format("farm"), json={"lat": 1, "lon": 1}).status_code == 401
    assert client.post(url.format("nobody"), auth=MANAGER, json={"lat": 1, "lon": 1}).status_code == 404
    # a map drawn on an older version: refused, with the version there now
    r = client.post(url.format("farm"), auth=MANAGER, json={"lat": 55.0, "lon": 11.0, "expected": 2})
    assert (r.status_code, r.json()["version"]) == (409, 3)
    # bad coordinates: what is wrong, nothing saved (through a signed-in browser's session,
    # which needs the CSRF token)
    client.post("/login", data={"username": "manny", "password": PASSWORD, "csrf": _token(client)})
    assert client.post(url.format("farm"), json={"lat": 55, "lon": 11}).status_code == 403
    token = re.search(r'data-csrf="([^"]+)"', client.get("/e/park").text).group(1)  # type: ignore[union-attr]
    for body, says in (
        ({"lat": 91, "lon": 11}, "lat must be from -90 to 90 degrees, got 91"),
        ({"lat": 55, "lon": -181.5}, "lon must be from -180 to 180 degrees, got -181.5"),
        ({"lat": "55", "lon": 11}, "lat must be a number of degrees, got '55'"),
        ({"lon": 11}, "lat must be a number of degrees, got 'None'"),
        ({"lat": True, "lon": 11}, "lat must be a number of degrees"),
        ({"lat": 55, "lon": 11, "expected": "3"}, "expected must be a version number"),
        ({"lat": 55, "lon": 11, "expected": 9}, "expected must be a version number from 1 to 3, got 9"),
    ):
        r = client.post(url.format("farm"), json=body, headers={"X-CSRF-Token": token})
        assert r.status_code == 422, (body, r.text)
        assert says in r.json()["error"], (body, r.text)
    assert store.head("park") == 3
    r = client.post(url.format("farm"), json={"lat": 55, "lon": 11}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    assert r.json()["number"] == 4


def _token(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]


def test_every_page_with_a_map_includes_it_once(park: tuple[Store, TestClient]) -> None:
    _, client = park
    client.post("/login", data={"username": "manny", "password": PASSWORD, "csrf": _token(client)})
    for url, src in (
        ("/e/park", "/api/ecosystems/park/map"),
        ("/e/park/actors/power", "/api/ecosystems/park/map?actor=power"),
        ("/e/park/board", "/api/ecosystems/park/map"),
    ):
        html = client.get(url).text
        assert html.count('id="map"') == 1, url
        assert f'data-map-src="{src}"' in html
        assert '<script src="/static/leaflet/leaflet.js"></script>' in html
        assert '<link rel="stylesheet" href="/static/leaflet/leaflet.css">' in html
        assert "no tile server configured" in html.lower()


# -- the tile server and the pages' policy -----------------------------------------------------
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tile.example.org/{z}/{x}/{y}.png", "expected an http or https URL template"),
        ("ftp://tile.example.org/{z}/{x}/{y}.png", "expected an http or https URL template"),
        ("javascript:alert(1)//{z}/{x}/{y}", "expected an http or https URL template"),
        ("https://tile.example.org/{z}/{x}.png", "the template lacks {y}"),
        ("https://tile.example.org/tiles.png", "the template lacks {z}, {x}, {y}"),
        ("https://a.{s}.example.org/{z}/{x}/{y}.png", "the host must be a plain name"),
        ("https://user@tile.example.org/{z}/{x}/{y}.png", "the host must be a plain name"),
        ("https://tile.example.org/{z}/{x}/{y}.png?a=b;c", "the template has a space, quote, comma or semicolon"),
        ("https://tile.example.org/{z}/{x}/{y}.png'", "the template has a space, quote, comma or semicolon"),
    ],
)
def test_a_bad_tile_template_is_refused_with_the_reason(url: str, says: str) -> None:
    with pytest.raises(ParameterError, match=re.escape(says)):
        tile_server(url)


def test_tiles_are_allowed_from_the_tile_server_only(tmp_path: Path) -> None:
    store = _store(tmp_path)
    tiles = tile_server("https://{s}.tile.example.org:8443/{z}/{x}/{y}.png", " © Example contributors ")
    assert (tiles.origin, tiles.attribution) == ("https://*.tile.example.org:8443", "© Example contributors")
    with TestClient(create_app(store, secret="s", tiles=tiles)) as client:
        page = client.get("/login")
        policy = page.headers["content-security-policy"]
        base = PAGE_HEADERS["Content-Security-Policy"]
        assert policy == base.replace("img-src 'self' data:", "img-src https://*.tile.example.org:8443 'self' data:")
        # nothing else is opened: scripts, styles, connections stay on this server
        assert "script-src 'self';" in policy
        assert "default-src 'self';" in policy
        api = client.get("/api/ecosystems/park/map", auth=MANAGER)
        assert api.headers["content-security-policy"] == API_CSP
        assert api.json()["tiles"] == {
            "url": "https://{s}.tile.example.org:8443/{z}/{x}/{y}.png",
            "attribution": "© Example contributors",
        }
    with TestClient(create_app(store, secret="s")) as client:
        assert client.get("/login").headers["content-security-policy"] == PAGE_HEADERS["Content-Security-Policy"]


def test_serve_takes_the_tile_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``rainforest serve --tiles URL --tiles-attribution TEXT``: the application it serves
    lets the pages load images from that server and names it in the map's data; a bad
    template stops the command (exit 2, one line) before anything is created."""
    import sys

    import uvicorn
    from typer.testing import CliRunner

    from rainforest.cli.app import app

    cli = sys.modules["rainforest.cli.app"]  # the module (the package's `app` is the command group)

    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda application, **_: served.append(application))
    monkeypatch.setattr(cli, "_exit_soon", lambda grace: None)
    bad = CliRunner().invoke(
        app, ["serve", "--db", f"sqlite:///{tmp_path / 'bad.db'}", "--tiles", "https://t.example/{z}/{x}"]
    )
    assert bad.exit_code == 2
    assert bad.stderr.strip() == (
        "error: '--tiles': the template lacks {y} (where the zoom and the tile's column and row go), "
        "for example https://tile.example.org/{z}/{x}/{y}.png"
    )
    assert not (tmp_path / "bad.db").exists()
    assert not served
    db = f"sqlite:///{tmp_path / 'map.db'}"
    with _store(tmp_path):
        pass
    argv = [
        "serve",
        "--db",
        db,
        "--tiles",
        "https://tile.example.org/{z}/{x}/{y}.png",
        "--tiles-attribution",
        "© Example",
    ]
    done = CliRunner().invoke(app, argv)
    assert done.exit_code == 0, done.output
    with TestClient(served[0]) as client:  # type: ignore[arg-type]
        page = client.get("/login")
        assert "img-src https://tile.example.org 'self' data:;" in page.headers["content-security-policy"]
        tiles = client.get("/api/ecosystems/park/map", auth=MANAGER).json()["tiles"]
        assert tiles == {"url": "https://tile.example.org/{z}/{x}/{y}.png", "attribution": "© Example"}


# -- the vendored Leaflet ----------------------------------------------------------------------
def test_leaflet_is_vendored_whole_with_its_licence() -> None:
    folder = resources.files("rainforest.web") / "static" / "leaflet"
    for name in LEAFLET:
        assert (folder / name).is_file(), name
    script = (ROOT / "tools" / "vendor_leaflet.sh").read_text()
    version = re.search(r'^VERSION="([0-9.]+)"$', script, re.M).group(1)  # type: ignore[union-attr]
    assert re.search(r'^SHA256="[0-9a-f]{64}"', script, re.M)
    assert f't.version="{version}"' in (folder / "leaflet.js").read_text()
    licence = (folder / "LICENSE").read_text()
    assert licence.startswith("BSD 2-Clause License")
    assert "Volodymyr Agafonkin" in licence
    # the marker images are the package's (Leaflet finds them from its stylesheet)
    assert "url(images/marker-icon.png)" in (folder / "leaflet.css").read_text()
    png = (folder / "images" / "marker-icon.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert hashlib.sha256(png).hexdigest().startswith("574c3a5c")


def test_the_static_files_ship_in_the_wheel() -> None:
    """Every file under web/static/ matches a package-data pattern of pyproject.toml (a
    pattern ``web/static/*`` alone does not reach ``web/static/leaflet/``)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["rainforest"]
    static = ROOT / "src" / "rainforest" / "web" / "static"
    files = [p.relative_to(ROOT / "src" / "rainforest").as_posix() for p in static.rglob("*") if p.is_file()]
    assert len(files) >= 10
    for f in files:
        # setuptools' glob: '*' does not cross a '/'
        assert any(fnmatch.fnmatch(f, p) and f.count("/") == p.count("/") for p in patterns), f


def test_leaflet_is_served_and_nothing_else_under_its_folder(park: tuple[Store, TestClient]) -> None:
    _, client = park
    for name, media in LEAFLET.items():
        r = client.get(f"/static/leaflet/{name}")  # public, like the other static files
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] == media.split(";")[0]
        assert r.headers["cache-control"] == "max-age=3600"
        assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/map.js").status_code == 200
    for name in ("../security.py", "..%2F..%2Fsecurity.py", "images%2F..%2Fleaflet.js", "leaflet.js.map", "x"):
        assert client.get(f"/static/leaflet/{name}").status_code == 404, name


def test_the_cluster_radius_says_n_a_rather_than_guess() -> None:
    assert cluster_radius(
        {"basis": "plan", "radius_km": [0.0, 2.0], "benefit": [0.0, 0.0], "unlimited": {"benefit": 0.0}}
    ) == (None, "n/a: the exchange plan saves nothing, so no radius keeps half of it")
    km, meaning = cluster_radius({"basis": "existing", "radius_km": [0.0, 1.5, 3.0], "share": [0.0, 0.5, 1.0]})
    assert km == 1.5
    assert meaning.startswith("half of today's exchanges")
