"""Data maintenance in the workbench (issue 20, item 1): actors and resources added,
changed and removed; offers and needs with qualities, EWC codes, supply patterns, prices
and confidentiality; quantities changed in place; removals confirmed first (a plain form,
no script needed); every change a version with its author and message; the history in
words, the difference between two versions and reverts; a park started from nothing; names
on the pages, ids on hover. Each action through the forms and its JSON twin."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from conftest import PASSWORD, _park
from rainforest.store import Store

MANNY, MIA, FRED, OLGA, ROOT = (
    ("manny", PASSWORD),
    ("mia", PASSWORD),
    ("fred", PASSWORD),
    ("olga", PASSWORD),
    ("root", PASSWORD),
)


def _errors(page: str) -> dict[str, str]:
    """The problems shown next to the fields: field -> text."""
    return {
        m.group(1): re.sub(r"&#39;", "'", m.group(2))
        for m in re.finditer(r'class="field-error" role="alert" data-field="([^"]+)">([^<]*)<', page)
    }


def _question(page: str) -> str:
    m = re.search(r'id="confirm-question"><strong>([^<]*)<', page)
    return m.group(1).replace("&#39;", "'") if m else ""


def _last(store: Store) -> dict[str, Any]:
    return store.history("park")[-1]


# -- actors ---------------------------------------------------------------------------------------
def test_a_manager_adds_an_actor_with_its_sector_and_the_version_says_who_and_what(
    world: tuple[Store, TestClient],
) -> None:
    store, client = world
    head = store.head("park")
    r = client.post(
        "/e/park/actors",
        auth=MANNY,
        data={
            "name": "Hansen Brewery",
            "sector": "11.05",
            "stratum": "shrub",
            "note": "joined in May",
            "expected": str(head),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/e/park/actors/hansen_brewery"  # the id made from the name
    actor = store.load("park").actor("hansen_brewery")
    assert (actor.name, actor.sector, actor.stratum) == ("Hansen Brewery", "11.05", "shrub")
    assert (_last(store)["author"], _last(store)["message"]) == ("manny", "added actor Hansen Brewery: joined in May")
    page = client.get("/e/park/actors/hansen_brewery", auth=MANNY).text
    assert "Manufacture of beer" in page  # the NACE code in words
    # the sector search the form uses
    assert client.get("/api/codes?kind=sector&q=beer", auth=MANNY).json()[0]["code"] == "11.05"


def test_a_bad_new_actor_is_refused_next_to_its_field_and_changes_nothing(world: tuple[Store, TestClient]) -> None:
    store, client = world
    head = store.head("park")
    taken = client.post("/e/park/actors", auth=MANNY, data={"name": "Mill two", "id": "mill"})
    assert taken.status_code == 422
    assert _errors(taken.text)["id"].startswith("the id is taken")
    assert 'value="Mill two"' in taken.text  # what was typed stays in the form
    nameless = client.post("/e/park/actors", auth=MANNY, data={"sector": "16"})
    assert "a new actor needs a name" in _errors(nameless.text)["name"]
    bad_stratum = client.post("/e/park/actors", auth=MANNY, data={"name": "X", "stratum": "huge"})
    assert "stratum" in _errors(bad_stratum.text)
    assert store.head("park") == head


def test_removing_an_actor_asks_first_then_takes_its_rows_with_it(world: tuple[Store, TestClient]) -> None:
    store, client = world
    head = store.head("park")
    ask = client.post("/e/park/actors/mill/remove", auth=MANNY, data={"expected": str(head)})
    assert ask.status_code == 200
    assert _question(ask.text) == (
        "Remove the actor mill with its 1 offer and 1 flow? The history keeps it: a revert brings it back."
    )
    # the confirmation is a plain form: it works without scripts
    form = ask.text.split('id="confirm"')[1].split("</form>")[0]
    assert 'name="confirm" value="yes"' in form
    assert 'action="/e/park/actors/mill/remove"' in form
    assert store.head("park") == head  # nothing yet
    done = client.post(
        "/e/park/actors/mill/remove", auth=MANNY, data={"confirm": "yes", "expected": str(head)}, follow_redirects=False
    )
    assert done.status_code == 303
    eco = store.load("park")
    assert "mill" not in eco.actor_ids
    assert all("mill" not in (f.source, f.target) for f in eco.flows)
    assert all(o.actor != "mill" for o in eco.offers)
    assert _last(store)["message"] == "removed actor mill"
    # the API twin
    r = client.delete("/api/ecosystems/park/actors/plant", auth=MANNY)
    assert r.status_code == 200
    assert r.json()["message"] == "removed actor plant"
    last = client.delete("/api/ecosystems/park/actors/farm", auth=MANNY)
    assert last.status_code == 422
    assert "at least one actor" in last.json()["problems"][0]["message"]


def test_the_actor_api_adds_actors(world: tuple[Store, TestClient]) -> None:
    store, client = world
    r = client.post("/api/ecosystems/park/actors", auth=MANNY, json={"record": {"name": "Bio Gas", "sector": "35.21"}})
    assert r.status_code == 201
    assert r.json()["message"] == "added actor Bio Gas"
    assert store.load("park").actor("bio_gas").sector == "35.21"
    bad = client.post("/api/ecosystems/park/actors", auth=MANNY, json={"record": {"id": "Bad Id"}})
    assert bad.status_code == 422
    assert bad.json()["problems"][0]["path"] == "record.id"
    stale = client.post("/api/ecosystems/park/actors", auth=MANNY, json={"record": {"name": "Late"}, "expected": 1})
    assert stale.status_code == 409


# -- resources ------------------------------------------------------------------------------------
def test_resources_are_added_changed_and_removed_with_their_ewc_code(world: tuple[Store, TestClient]) -> None:
    store, client = world
    r = client.post(
        "/e/park/resources",
        auth=MANNY,
        data={
            "name": "Spent grain",
            "kind": "material",
            "unit": "t",
            "price": "40",
            "ewc": "020704",
            "co2e_virgin": "300",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    grain = store.load("park").resource("spent_grain")
    assert (grain.name, grain.unit, grain.price, grain.codes["ewc"], grain.co2e_virgin) == (
        "Spent grain",
        "t",
        40.0,
        "02 07 04",
        300.0,
    )
    assert _last(store)["message"] == "added resource Spent grain"
    # changed: the id stays, the record is replaced
    r = client.post(
        "/e/park/resources",
        auth=MANNY,
        data={"rid": "spent_grain", "name": "Brewer's spent grain", "kind": "material", "unit": "t", "price": "45"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    grain = store.load("park").resource("spent_grain")
    assert (grain.name, grain.price, dict(grain.codes)) == ("Brewer's spent grain", 45.0, {})
    # bad values: next to their fields, nothing saved
    head = store.head("park")
    bad = client.post(
        "/e/park/resources", auth=MANNY, data={"name": "Heat", "kind": "energy", "unit": "bananas", "ewc": "99 99 99"}
    )
    assert bad.status_code == 422
    problems = _errors(bad.text)
    assert "unknown unit" in problems["unit"]
    assert "not a code of the European Waste Catalogue" in problems["ewc"]
    assert store.head("park") == head
    # removal: asked first; refused while anything names it
    ask = client.post("/e/park/resources/spent_grain/remove", auth=MANNY, data={})
    assert _question(ask.text).startswith("Remove the resource Brewer's spent grain?")
    assert store.head("park") == head
    gone = client.post(
        "/e/park/resources/spent_grain/remove", auth=MANNY, data={"confirm": "yes"}, follow_redirects=False
    )
    assert gone.status_code == 303
    assert "spent_grain" not in store.load("park").resource_ids
    used = client.post("/e/park/resources/ash/remove", auth=MANNY, data={"confirm": "yes"})
    assert used.status_code == 422
    assert "the resource &#39;ash&#39; is in use" in used.text
    assert "3 flows, 2 offers, 1 need" in used.text


def test_the_resource_api(world: tuple[Store, TestClient]) -> None:
    store, client = world
    r = client.post(
        "/api/ecosystems/park/resources",
        auth=MANNY,
        json={"record": {"id": "heat", "name": "Waste heat", "kind": "energy", "unit": "MWh"}},
    )
    assert r.status_code == 201
    r = client.post(
        "/api/ecosystems/park/resources/heat",
        auth=MANNY,
        json={"record": {"name": "Heat", "kind": "energy", "unit": "GJ"}},
    )
    assert r.status_code == 200
    assert store.load("park").resource("heat").unit == "GJ"
    rename = client.post(
        "/api/ecosystems/park/resources/heat",
        auth=MANNY,
        json={"record": {"id": "warmth", "kind": "energy", "unit": "GJ"}},
    )
    assert rename.status_code == 422
    assert "cannot rename" in rename.json()["problems"][0]["message"]
    assert client.delete("/api/ecosystems/park/resources/heat", auth=MANNY).status_code == 200
    used = client.delete("/api/ecosystems/park/resources/ash", auth=MANNY)
    assert used.status_code == 422
    assert used.json()["problems"][0]["got"] == "3 flows, 2 offers, 1 need"
    assert client.delete("/api/ecosystems/park/resources/nothing", auth=MANNY).status_code == 404


# -- offers and needs -----------------------------------------------------------------------------
def test_offers_and_needs_carry_quality_ewc_pattern_price_and_confidentiality(world: tuple[Store, TestClient]) -> None:
    store, client = world
    r = client.post(
        "/e/park/actors/mill/offers",
        auth=MANNY,
        data={
            "resource": "ash",
            "quantity": "40",
            "supply_pattern": "seasonal",
            "price": "22",
            "confidential": "false",
            "ewc": "10 01 01",
            "q_key": ["moisture_pct", "lead_ppm", ""],
            "q_value": ["12", "40", ""],
            "note": "site visit",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, _errors(r.text)
    eco = store.load("park")
    offer = [o for o in eco.offers if o.actor == "mill"][-1]
    assert (offer.quantity, offer.supply_pattern, offer.disposal_cost, offer.confidential) == (
        40.0,
        "seasonal",
        22.0,
        False,
    )
    assert dict(offer.quality) == {"moisture_pct": 12.0, "lead_ppm": 40.0}
    assert eco.resource("ash").codes["ewc"] == "10 01 01"  # the manager's code fills the resource's, same version
    assert _last(store)["message"] == "added mill's offer of ash (40 t): site visit"
    r = client.post(
        "/e/park/actors/farm/needs",
        auth=FRED,
        data={
            "resource": "ash",
            "quantity": "8",
            "price": "15",
            "q_key": ["lead_ppm"],
            "q_value": ["50"],
            "ewc": "10 01 01",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    need = [n for n in store.load("park").needs if n.actor == "farm"][-1]
    assert (need.quantity, need.price, dict(need.max_quality)) == (8.0, 15.0, {"lead_ppm": 50.0})
    assert _last(store)["author"] == "fred"
    page = client.get("/e/park/actors/mill", auth=MANNY).text
    assert "lead_ppm 40, moisture_pct 12" in page  # properties by name: the same order every time
    assert "EWC 10 01 01" in page


def test_a_bad_offer_shows_every_problem_next_to_its_field_and_saves_nothing(world: tuple[Store, TestClient]) -> None:
    store, client = world
    head = store.head("park")
    r = client.post(
        "/e/park/actors/mill/offers",
        auth=MIA,
        data={"resource": "ash", "quantity": "lots", "ewc": "zz", "q_key": ["", "ppm"], "q_value": ["3", "high"]},
    )
    assert r.status_code == 422
    problems = _errors(r.text)
    assert "expected a number" in problems["quantity"]
    assert "not a code of the European Waste Catalogue" in problems["ewc"]
    assert "a value without a property" in problems["quality"]
    assert 'id="edit-error"' in r.text
    assert "Not saved: 3 problems" in r.text
    assert store.head("park") == head
    # a member may not give a resource its code; a code other than the resource's is refused
    r = client.post(
        "/e/park/actors/mill/offers", auth=MIA, data={"resource": "ash", "quantity": "1", "ewc": "10 01 01"}
    )
    assert "only the ecosystem's managers set one" in _errors(r.text)["ewc"]
    store.commit(
        "park",
        store.load("park").replace_resource("ash", {"kind": "material", "unit": "t", "codes": {"ewc": "10 01 01"}}),
        author="setup",
    )
    r = client.post(
        "/e/park/actors/mill/offers", auth=MIA, data={"resource": "ash", "quantity": "1", "ewc": "10 01 02"}
    )
    assert "ash carries the EWC code 10 01 01, not 10 01 02" in _errors(r.text)["ewc"]
    ok = client.post(
        "/e/park/actors/mill/offers",
        auth=MIA,
        data={"resource": "ash", "quantity": "1", "ewc": "10 01 01"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_quantities_change_in_place_and_a_whole_offer_can_be_changed(world: tuple[Store, TestClient]) -> None:
    store, client = world
    r = client.post(
        "/e/park/actors/mill/offers",
        auth=MIA,
        data={"op": "quantity", "index": "0", "quantity": "12"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [o.quantity for o in store.load("park").offers if o.actor == "mill"] == [12.0]
    assert _last(store)["message"] == "changed the quantity of mill's offer of ash from 10 t to 12 t"
    r = client.post(
        "/e/park/actors/mill/flows",
        auth=MIA,
        data={"op": "quantity", "index": "0", "quantity": "6.5"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert [f.quantity for f in store.load("park").flows if f.source == "mill"] == [6.5]
    r = client.post("/e/park/actors/farm/needs", auth=FRED, data={"op": "quantity", "index": "0", "quantity": "-1"})
    assert r.status_code == 422
    assert "negative quantity" in _errors(r.text)["quantity"]
    # the page's in-place form for each quantity, and the full form of one offer
    page = client.get("/e/park/actors/mill?edit=offers-0", auth=MIA).text
    assert 'id="qty-offers-0"' in page
    assert 'id="qty-flows-0"' in page
    assert 'id="edit-offers-0"' in page
    r = client.post(
        "/e/park/actors/mill/offers",
        auth=MIA,
        data={
            "op": "edit",
            "index": "0",
            "resource": "ash",
            "quantity": "9",
            "supply_pattern": "one-off",
            "price": "5",
            "confidential": "true",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    offer = next(o for o in store.load("park").offers if o.actor == "mill")
    assert (offer.quantity, offer.supply_pattern, offer.disposal_cost) == (9.0, "one-off", 5.0)


def test_removing_an_offer_asks_first(world: tuple[Store, TestClient]) -> None:
    store, client = world
    head = store.head("park")
    ask = client.post("/e/park/actors/mill/offers", auth=MIA, data={"remove": "0", "expected": str(head)})
    assert ask.status_code == 200
    assert _question(ask.text) == "Remove mill's offer of ash (10 t)?"
    assert store.head("park") == head
    done = client.post(
        "/e/park/actors/mill/offers",
        auth=MIA,
        data={"remove": "0", "confirm": "yes", "expected": str(head)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert not [o for o in store.load("park").offers if o.actor == "mill"]
    assert _last(store)["message"] == "removed mill's offer of ash (10 t)"


# -- who may do what ------------------------------------------------------------------------------
def test_members_edit_only_their_own_actor_and_observers_nothing(world: tuple[Store, TestClient]) -> None:
    store, client = world
    head = store.head("park")
    assert (
        client.post("/e/park/actors/farm/offers", auth=MIA, data={"resource": "ash", "quantity": "1"}).status_code
        == 403
    )
    assert (
        client.post(
            "/e/park/actors/farm/offers", auth=MIA, data={"op": "quantity", "index": "0", "quantity": "1"}
        ).status_code
        == 403
    )
    assert client.post("/e/park/actors", auth=MIA, data={"name": "Mine"}).status_code == 403
    assert client.post("/e/park/actors/mill/remove", auth=MIA, data={"confirm": "yes"}).status_code == 403
    assert (
        client.post("/e/park/resources", auth=MIA, data={"name": "X", "kind": "material", "unit": "t"}).status_code
        == 403
    )
    assert (
        client.post(
            "/api/ecosystems/park/resources", auth=MIA, json={"record": {"name": "X", "kind": "material", "unit": "t"}}
        ).status_code
        == 403
    )
    assert client.delete("/api/ecosystems/park/actors/mill", auth=MIA).status_code == 403
    assert (
        client.post("/e/park/actors/mill/offers", auth=OLGA, data={"resource": "ash", "quantity": "1"}).status_code
        == 403
    )
    assert client.post("/e/park/actors", auth=OLGA, data={"name": "Obs"}).status_code == 403
    assert client.post("/e/park/history/1/revert", auth=OLGA, data={"confirm": "yes"}).status_code == 403
    assert client.post("/api/ecosystems/park/revert", auth=MIA, json={"version": 1}).status_code == 403
    assert client.get("/e/park/history", auth=MIA).status_code == 403  # the history is the managers' and observers'
    assert client.get("/e/park/history", auth=OLGA).status_code == 200
    assert store.head("park") == head
    # what a member's page offers: its own actor's forms, not the managers'
    own = client.get("/e/park/actors/mill", auth=MIA).text
    assert 'id="add-offers"' in own
    assert 'id="remove-actor"' not in own
    assert 'id="add-actor"' not in client.get("/e/park/actors", auth=MIA).text
    assert 'id="add-resource"' in client.get("/e/park/actors", auth=MANNY).text


# -- history ----------------------------------------------------------------------------------------
def _some_history(store: Store, client: TestClient) -> None:
    client.post("/e/park/actors", auth=MANNY, data={"name": "Hansen Brewery", "sector": "11.05"})
    client.post("/e/park/actors/mill/offers", auth=MIA, data={"op": "quantity", "index": "0", "quantity": "12"})
    client.post("/e/park/actors/mill", auth=MIA, data={"name": "Saw mill", "sector": "16.10"})


def test_the_history_says_who_when_and_what_changed_in_words(world: tuple[Store, TestClient]) -> None:
    store, client = world
    _some_history(store, client)
    page = client.get("/e/park/history", auth=OLGA).text.replace("&#39;", "'")
    assert "added actor Hansen Brewery" in page
    assert "changed the quantity of mill's offer of ash from 10 t to 12 t" in page
    assert "changed actor Saw mill: the name from nothing to Saw mill; the sector from 16 to 16.10" in page
    assert "created with 3 actors, 1 resource, 3 flows, 2 offers and 1 need" in page
    assert "{" not in page.split('id="versions"')[1].split("</table>")[0]  # no raw JSON
    assert 'id="revert-1"' not in page  # an observer reverts nothing
    versions = client.get("/api/ecosystems/park/versions", auth=OLGA).json()
    assert versions["head"] == 4
    newest = versions["versions"][0]
    assert (newest["number"], newest["author"], newest["message"]) == (4, "mia", "edited actor mill")
    assert newest["what"][0].startswith("changed actor Saw mill: the name")


def test_the_difference_between_any_two_versions(world: tuple[Store, TestClient]) -> None:
    store, client = world
    _some_history(store, client)
    page = client.get("/e/park/history?a=1&b=4", auth=MANNY).text.replace("&#39;", "'")
    diff = page.split('id="diff"')[1].split("</div>")[0]
    assert "From version 1 to version 4" in diff
    assert "added actor Hansen Brewery" in diff
    assert "from 10 t to 12 t" in diff
    back = client.get("/api/ecosystems/park/diff?a=4&b=1", auth=MANNY).json()
    assert "removed actor Hansen Brewery" in back["what"]
    assert "changed the quantity of mill's offer of ash from 12 t to 10 t" in back["what"]  # the names of version 1
    rows = {(r["section"], r["kind"]) for r in back["rows"]}
    assert ("actors", "removed") in rows
    assert ("offers", "changed") in rows
    latest = client.get("/api/ecosystems/park/diff", auth=MANNY).json()  # by default: the latest change
    assert (latest["from"], latest["to"]) == (3, 4)
    assert client.get("/api/ecosystems/park/diff?a=1&b=9", auth=MANNY).status_code == 422


def test_reverting_saves_an_old_version_again_as_the_newest(world: tuple[Store, TestClient]) -> None:
    store, client = world
    _some_history(store, client)
    ask = client.post("/e/park/history/1/revert", auth=MANNY, data={"expected": "4"})
    assert ask.status_code == 200
    assert _question(ask.text).startswith("Revert to version 1 (created, by setup, ")
    assert "becomes version 5; versions 2 to 4 stay in the history" in _question(ask.text)
    assert store.head("park") == 4
    stale = client.post("/e/park/history/1/revert", auth=MANNY, data={"expected": "3", "confirm": "yes"})
    assert stale.status_code == 409
    assert store.head("park") == 4
    done = client.post(
        "/e/park/history/1/revert", auth=MANNY, data={"expected": "4", "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert store.load("park") == _park()
    assert (_last(store)["number"], _last(store)["author"], _last(store)["message"]) == (
        5,
        "manny",
        "revert to version 1",
    )
    # the revert reverts too: through the API
    r = client.post("/api/ecosystems/park/revert", auth=MANNY, json={"version": 4, "expected": 5, "message": "undo"})
    assert r.status_code == 200
    assert r.json()["message"] == "revert to version 4: undo"
    assert store.load("park") == store.load("park", 4)
    assert client.post("/api/ecosystems/park/revert", auth=MANNY, json={"version": 99}).status_code == 422


# -- a park from nothing ------------------------------------------------------------------------------
def test_an_administrator_starts_a_park_from_its_name_and_first_firm(world: tuple[Store, TestClient]) -> None:
    store, client = world
    assert 'id="new-empty"' in client.get("/", auth=ROOT).text
    r = client.post(
        "/new/empty",
        auth=ROOT,
        data={"name": "Harbour Eco-Park", "slug": "harbour", "actor_name": "Harbour Power", "sector": "35.11"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/e/harbour/actors"
    eco = store.load("harbour")
    assert (eco.name, [(a.id, a.name, a.sector) for a in eco.actors]) == (
        "Harbour Eco-Park",
        [("harbour_power", "Harbour Power", "35.11")],
    )
    assert store.history("harbour")[0]["message"] == "created Harbour Eco-Park with its first actor"
    for page in (
        "/e/harbour",
        "/e/harbour/actors",
        "/e/harbour/actors/harbour_power",
        "/e/harbour/history",
        "/e/harbour/board",
    ):
        assert client.get(page, auth=ROOT).status_code == 200, page
    again = client.post("/new/empty", auth=ROOT, data={"name": "Again", "slug": "harbour", "actor_name": "X"})
    assert again.status_code == 422
    assert "exists already" in _errors(again.text)["slug"]
    bad = client.post("/new/empty", auth=ROOT, data={"name": "", "slug": "Bad Slug", "actor_name": ""})
    assert bad.status_code == 422
    assert "the first firm needs a name" in _errors(bad.text)["name"]
    assert client.post("/new/empty", auth=MANNY, data={"name": "N", "slug": "n", "actor_name": "F"}).status_code == 403
    r = client.post(
        "/api/ecosystems/new",
        auth=ROOT,
        json={"slug": "dock", "name": "Dock", "actor": {"name": "Crane Co", "sector": "52.24"}},
    )
    assert r.status_code == 201
    assert store.load("dock").actor_ids == ("crane_co",)


# -- names, not ids ---------------------------------------------------------------------------------
def test_pages_show_names_with_the_ids_on_hover(world: tuple[Store, TestClient]) -> None:
    store, client = world
    eco = store.load("park")
    eco = eco.replace_rows("farm", {"actors": [{"name": "Green Acre Farm", "sector": "01", "stratum": "moss"}]})
    eco = eco.replace_resource("ash", {"name": "Wood ash", "kind": "material", "unit": "t"})
    store.commit("park", eco, author="setup")
    directory = client.get("/e/park/actors", auth=MANNY).text
    assert '<a href="/e/park/actors/farm" title="id: farm">Green Acre Farm</a>' in directory
    assert '<td title="id: ash">Wood ash</td>' in directory
    page = client.get("/e/park/actors/farm", auth=MANNY).text
    assert '<h1 title="id: farm">Green Acre Farm</h1>' in page
    assert '<td title="id: farm">Green Acre Farm</td>' in page  # in its flows
    assert '<span title="id: ash">Wood ash</span>' in page  # in its needs
    member = client.get("/e/park/actors/farm", auth=MIA).text  # another firm's page, as a member
    assert "Green Acre Farm" in member
    assert "not shown" in member


def test_the_resources_card_counts_uses_as_the_model_does() -> None:
    import rainforest as rf
    from rainforest.model.edits import resource_uses
    from rainforest.web.services.actors import resource_rows

    eco = rf.datasets.kalundborg()
    counted = {r["id"]: r["uses"] for r in resource_rows(eco)}
    assert counted == {r: sum(resource_uses(eco, r).values()) for r in eco.resource_ids}
