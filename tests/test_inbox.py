"""The inbox (what is new for a user since its last visit) and e-mail notices through a
real SMTP conversation with a local sink (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import email
import logging
import re
import socket
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

import rainforest as rf
from conftest import PASSWORD, _login, _park
from rainforest.store import Store
from rainforest.web import create_app
from rainforest.web.mail import Mailer, parse_smtp_url
from rainforest.web.records import Accounts, Applications, Proposals
from rainforest.web.records.inbox import Inbox


@pytest.fixture(scope="module")
def _park_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The park with its users, made once (hashing eight passwords is the slow part) and
    copied for each test."""
    path = tmp_path_factory.mktemp("inbox") / "inbox.db"
    store = Store(f"sqlite:///{path}")
    named = _park().replace_rows("plant", {"actors": [{"name": "Power plant", "sector": "35", "stratum": "canopy"}]})
    store.create("park", named, author="setup")
    store.create("other", rf.datasets.kalundborg(), author="setup")
    Accounts(store).create_user("root", PASSWORD, admin=True)
    for name, role, actor in (
        ("manny", "manager", None),
        ("mia", "member", "mill"),
        ("fred", "member", "farm"),
        ("pat", "member", "plant"),
        ("olga", "observer", None),
    ):
        Accounts(store).create_user(name, PASSWORD)
        Accounts(store).grant(name, "park", role, actor)
    Accounts(store).create_user("outsider", PASSWORD)
    Accounts(store).grant("outsider", "other", "manager")
    store.engine.dispose()
    return path


@pytest.fixture
def park(_park_db: Path, tmp_path: Path) -> Iterator[tuple[Store, TestClient]]:
    import shutil

    shutil.copy(_park_db, tmp_path / "inbox.db")
    store = Store(f"sqlite:///{tmp_path / 'inbox.db'}")
    with TestClient(create_app(store, secret="test-secret")) as client:
        yield store, client


def _kinds(store: Store, user: str, **kw: object) -> list[tuple[str, str]]:
    return [(e.kind, e.author) for e in Inbox(store).events(user, **kw)]  # type: ignore[arg-type]


def test_events_follow_what_each_role_sees(park: tuple[Store, TestClient]) -> None:
    store, _ = park
    proposals = Proposals(store)
    p = proposals.propose("park", "mill", "farm", "ash", 4.0, author="manny")
    proposals.comment("park", p.id, "can you take it weekly?", author="mia")
    proposals.move("park", p.id, "negotiating", author="fred")
    # the parties see the proposal, the others' comments and moves, never their own
    assert _kinds(store, "mia") == [("status", "fred"), ("proposal", "manny")]
    assert _kinds(store, "fred") == [("comment", "mia"), ("proposal", "manny")]
    assert _kinds(store, "manny") == [("status", "fred"), ("comment", "mia")]
    assert len(_kinds(store, "olga")) == 3  # observers see every proposal of the park
    assert _kinds(store, "pat") == []  # not a party
    assert _kinds(store, "outsider") == []  # another ecosystem
    assert len(_kinds(store, "root")) == 3  # administrators see every ecosystem
    # agreement: each party's is an event for the other
    proposals.move("park", p.id, "active", author="mia", party="mill")
    assert _kinds(store, "fred")[0] == ("agreed", "mia")


def test_consents_and_recording_reach_the_other_party_with_a_link_to_the_proposal(
    park: tuple[Store, TestClient],
) -> None:
    store, client = park
    proposals = Proposals(store)
    p = proposals.propose("park", "mill", "farm", "ash", 4.0, author="manny")
    proposals.move("park", p.id, "negotiating", author="manny")
    proposals.move("park", p.id, "active", author="mia", party="mill")
    proposals.move("park", p.id, "active", author="fred", party="farm")
    proposals.consent("park", p.id, author="mia", party="mill")
    first = Inbox(store).events("fred")[0]
    assert (first.kind, first.author) == ("consent", "mia")
    assert "consents to record the flow" in first.text
    proposals.recorded("park", p.id, 2, author="fred")
    assert Inbox(store).events("mia")[0].kind == "recorded"
    assert _login(client, "fred") == 303
    page = client.get("/inbox").text
    assert "Consent to record" in page
    assert f"/e/park/board#proposal-{p.id}" in page  # each entry links to its own proposal


def test_applications_and_their_decisions(park: tuple[Store, TestClient]) -> None:
    store, _ = park
    app = Applications(store).apply("park", "newco", PASSWORD, actor="newco", name="New Co")
    assert _kinds(store, "manny") == [("application", "newco")]
    assert _kinds(store, "mia") == []  # members do not see who applies
    Applications(store).decide("park", app.id, "approve", author="root")
    # the applicant sees its approval; the other manager sees the decision
    events = Inbox(store).events("newco")
    assert [(e.kind, e.text, e.author) for e in events] == [("decision", "approved", "root")]
    assert ("decision", "root") in _kinds(store, "manny")


def test_last_visit_decides_what_is_new(park: tuple[Store, TestClient]) -> None:
    store, _ = park
    box = Inbox(store)
    assert box.last_visit("mia") is None
    Proposals(store).propose("park", "mill", "farm", "ash", 4.0, author="manny")
    assert box.count("mia") == 1
    seen = box.visit("mia")
    assert box.last_visit("mia") == seen
    assert box.count("mia") == 0
    Proposals(store).propose("park", "plant", "mill", "ash", 2.0, author="pat")
    assert box.count("mia") == 1
    assert box.count("fred") == 1  # fred never visited: everything is new


def test_inbox_page_marks_new_then_records_the_visit(park: tuple[Store, TestClient]) -> None:
    store, client = park
    Proposals(store).propose("park", "mill", "farm", "ash", 4.0, author="manny")
    assert _login(client, "fred") == 303
    assert client.get("/api/inbox/count").json() == {"new": 1}
    answer = client.get("/api/inbox").json()
    assert answer["new"] == 1
    assert answer["events"][0]["kind"] == "proposal"
    assert client.get("/api/inbox/count").json() == {"new": 1}  # reading the JSON is not a visit
    page = client.get("/inbox")
    assert page.status_code == 200
    assert "new-mark" in page.text
    assert "proposed by manny" in page.text
    assert "ash, 4 t per year: mill → farm" in page.text
    assert 'id="inbox-count"' in page.text  # the header's count
    assert client.get("/api/inbox/count").json() == {"new": 0}
    again = client.get("/inbox").text
    assert "new-mark" not in again
    assert "0 new since your last visit" in again


def test_inbox_shows_names_not_ids(park: tuple[Store, TestClient]) -> None:
    store, client = park
    Proposals(store).propose("other", "asnaes", "gyproc", store.load("other").resources[0].id, 1.0, author="root")
    Accounts(store).grant("fred", "other", "observer")
    assert _login(client, "fred") == 303
    page = client.get("/inbox").text
    names = {a.id: a.name for a in store.load("other").actors}
    assert names["asnaes"]
    assert names["asnaes"] in page


def test_inbox_needs_a_signed_in_user(park: tuple[Store, TestClient]) -> None:
    _, client = park
    assert client.get("/api/inbox").status_code == 401
    assert client.get("/api/inbox/count").status_code == 401
    r = client.get("/inbox", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login"


def test_mail_settings_are_checked(park: tuple[Store, TestClient]) -> None:
    store, client = park
    assert _login(client, "mia") == 303
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/inbox").text).group(1)  # type: ignore[union-attr]
    bad = client.post("/inbox", data={"csrf": token, "email": "not an address", "notify": "on"})
    assert bad.status_code == 422
    assert "is not an e-mail address" in bad.text
    none = client.post("/inbox", data={"csrf": token, "email": "", "notify": "on"})
    assert none.status_code == 422
    assert "need an e-mail address" in none.text
    ok = client.post("/inbox", data={"csrf": token, "email": "mia@mill.example", "notify": "on"})
    assert ok.status_code == 200
    assert "Saved." in ok.text
    settings = Inbox(store).mail_settings("mia")
    assert settings.email == "mia@mill.example"
    assert settings.notify
    assert client.post("/inbox", data={"email": "x@y.example"}).status_code == 403  # no CSRF token
    j = client.post("/api/inbox/mail", json={"csrf": token, "email": "m@mill.example", "notify": False})
    assert j.json() == {"email": "m@mill.example", "notify": False}


def test_smtp_urls() -> None:
    s = parse_smtp_url("smtp://ann:s%40cret@mail.example.org:587?starttls=true&from=park@example.org")
    assert (s.host, s.port, s.username, s.password, s.starttls, s.tls, s.sender) == (
        "mail.example.org",
        587,
        "ann",
        "s@cret",
        True,
        False,
        "park@example.org",
    )
    assert "s@cret" not in repr(s)
    assert "s%40cret" not in s.redacted()
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtp://localhost").port == 25
    with pytest.raises(ValueError, match="smtp:// or smtps://"):
        parse_smtp_url("http://mail.example.org")
    with pytest.raises(ValueError, match="port must be a number"):
        parse_smtp_url("smtp://ann:pw@mail.example.org:abc")
    with pytest.raises(ValueError, match="names no host"):
        parse_smtp_url("smtp://")


class _Sink:
    """Keeps every message the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sink() -> Iterator[tuple[_Sink, int]]:
    handler = _Sink()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_notices_go_through_a_real_smtp_server(park: tuple[Store, TestClient], sink: tuple[_Sink, int]) -> None:
    store, _ = park
    handler, port = sink
    Proposals(store).propose("park", "mill", "farm", "ash", 1.0, author="manny")  # before: not mailed
    Inbox(store).set_mail("fred", "fred@farm.example", True)
    mailer = Mailer(store, parse_smtp_url(f"smtp://127.0.0.1:{port}?from=park@example.org"), base_url="http://wb")
    assert mailer.send_round() == 0  # nothing new since the notices were turned on
    time.sleep(0.01)
    p = Proposals(store).propose("park", "plant", "farm", "ash", 3.0, author="pat")
    Proposals(store).comment("park", p.id, "weekly, by truck", author="pat")
    assert mailer.send_round() == 1
    assert len(handler.messages) == 1
    m = handler.messages[0]
    assert m["To"] == "fred@farm.example"
    assert m["From"] == "park@example.org"
    assert m["Subject"] == "rainforest: 2 new events"
    body = m.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "pat proposed an exchange: ash from Power plant to farm" in body  # names where known
    assert "weekly, by truck" in body
    assert "http://wb/inbox" in body
    assert "mill" not in body.split("What happened")[1].split("Your inbox")[0]  # the earlier one is not repeated
    assert mailer.send_round() == 0  # sent once


def test_a_failed_sending_is_logged_kept_and_tried_again(
    park: tuple[Store, TestClient], sink: tuple[_Sink, int], caplog: pytest.LogCaptureFixture
) -> None:
    store, _ = park
    handler, port = sink
    Inbox(store).set_mail("mia", "mia@mill.example", True)
    time.sleep(0.01)
    Proposals(store).propose("park", "mill", "farm", "ash", 1.0, author="manny")
    down = Mailer(store, parse_smtp_url(f"smtp://ann:secret-pw@127.0.0.1:{_free_port()}"), base_url="http://wb")
    with caplog.at_level(logging.WARNING, logger="rainforest.web.mail"):
        assert down.send_round() == 0
    assert "e-mail to mia" in caplog.text
    assert "secret-pw" not in caplog.text
    kept = Inbox(store).mail_settings("mia")
    assert kept.error
    assert "ConnectionRefusedError" in kept.error
    assert kept.mailed_until is not None
    up = Mailer(store, parse_smtp_url(f"smtp://127.0.0.1:{port}"), base_url="http://wb")
    assert up.send_round() == 1  # the same notice, at the next round
    assert "manny proposed an exchange" in handler.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert Inbox(store).mail_settings("mia").error is None


def test_the_mailer_thread_sends_in_the_background(park: tuple[Store, TestClient], sink: tuple[_Sink, int]) -> None:
    store, client = park
    handler, port = sink
    Inbox(store).set_mail("fred", "fred@farm.example", True)
    mailer = Mailer(store, parse_smtp_url(f"smtp://127.0.0.1:{port}"), base_url="http://wb", interval_s=0.05)
    mailer.start()
    try:
        time.sleep(0.01)
        assert _login(client, "manny") == 303
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
        r = client.post(
            "/api/ecosystems/park/proposals",
            json={"csrf": token, "from": "mill", "to": "farm", "resource": "ash", "quantity": 2},
        )
        assert r.status_code in (200, 201), r.text
        deadline = time.monotonic() + 10
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        mailer.stop()
    assert len(handler.messages) == 1


def test_serve_refuses_a_bad_smtp_url(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from rainforest.cli import app

    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--smtp", "http://x"])
    assert result.exit_code == 2
    assert "smtp:// or smtps://" in result.output


def test_the_migration_goes_down_and_up(tmp_path: Path) -> None:
    import sqlalchemy as sa

    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    with store.engine.connect() as conn:
        assert "inbox_users" in sa.inspect(conn).get_table_names()
    store.downgrade("0006")
    with store.engine.connect() as conn:
        assert "inbox_users" not in sa.inspect(conn).get_table_names()
    store.upgrade()
    Accounts(store).create_user("ann", PASSWORD)
    assert Inbox(store).visit("ann", dt.datetime(2026, 1, 1, tzinfo=dt.UTC)).year == 2026


def test_serve_mails_and_the_header_counts_in_a_browser(
    tmp_path: Path, sink: tuple[_Sink, int], browser: object
) -> None:
    """`rainforest serve --smtp` as users start it: the header's count in a real browser,
    the inbox page, the notices turned on there, and the message at the SMTP sink."""
    import subprocess
    import sys

    handler, smtp_port = sink
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    store = Store(db)
    store.create("park", _park(), author="setup")
    Accounts(store).create_user("manny", PASSWORD)
    Accounts(store).grant("manny", "park", "manager")
    Accounts(store).create_user("fred", PASSWORD)
    Accounts(store).grant("fred", "park", "member", "farm")
    Proposals(store).propose("park", "mill", "farm", "ash", 4.0, author="manny")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rainforest",
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--smtp",
            f"smtp://127.0.0.1:{smtp_port}?from=park@example.org",
            "--mail-every",
            "1",
            "--public-url",
            "https://park.example.org/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page.goto(f"{base}/login")
        page.fill("input[name=username]", "fred")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("#inbox-count", state="visible")
        assert page.inner_text("#inbox-count") == "1"
        page.click("#inbox-link")
        assert "proposed by manny" in page.inner_text("#inbox")
        assert "through smtp://127.0.0.1" in page.content()
        page.fill("#email", "fred@farm.example")
        page.check("input[name=notify]")
        page.click("#mail-form button[type=submit]")
        assert page.inner_text("#mail-saved") == "Saved."
        page.goto(f"{base}/")
        assert not page.is_visible("#inbox-count")  # visited: nothing new
        time.sleep(0.05)
        Proposals(store).comment("park", 1, "Monday deliveries suit us", author="manny")
        deadline = time.monotonic() + 20
        while not handler.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(handler.messages) == 1
        body = handler.messages[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert "Monday deliveries suit us" in body
        assert "https://park.example.org/inbox" in body  # --public-url
        page.reload()
        page.wait_for_selector("#inbox-count", state="visible")
        assert page.inner_text("#inbox-count") == "1"
    finally:
        proc.terminate()
        output = proc.communicate(timeout=10)[0]
    assert f"e-mail notices through smtp://127.0.0.1:{smtp_port}" in output


def test_the_mail_api_refuses_what_is_not_an_address(park: tuple[Store, TestClient]) -> None:
    _, client = park
    assert _login(client, "mia") == 303
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/inbox").text).group(1)  # type: ignore[union-attr]
    h = {"x-csrf-token": token}
    assert client.post("/api/inbox/mail", headers=h, json={"email": 3, "notify": True}).status_code == 422
    assert client.post("/api/inbox/mail", headers=h, json={"email": "a@b.example", "notify": "yes"}).status_code == 422
    assert client.post("/api/inbox/mail", headers=h, content=b"{not json").status_code == 422
    bad = client.post("/api/inbox/mail", headers=h, json={"email": "nobody", "notify": True})
    assert bad.status_code == 422
    assert "not an e-mail address" in bad.json()["detail"]
    assert client.post("/api/inbox/mail", json={"email": "a@b.example", "notify": True}).status_code == 403
