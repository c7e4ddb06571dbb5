"""E-mail notices: what is new for each user who asked for them, sent through an SMTP
server in a background thread, so no page ever waits on the mail server.

``rainforest serve --smtp smtp://user:password@host:587?starttls=true&from=park@example.org``
starts a :class:`Mailer`. Every ``interval_s`` it sends each user whose notices are on
one message listing the events since the last one sent (the inbox's events, see
:class:`rainforest.web.records.inbox.Inbox`). A sending that fails is logged (the
password never), kept as the user's last error (the inbox page shows it) and tried again
at the next round with the same events: the mark moves only once the server took the
message, so nothing is lost silently.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from rainforest.errors import UnknownIdError
from rainforest.store import Store, StoreError
from rainforest.web.records.inbox import Event, Inbox

__all__ = ["Mailer", "SmtpServer", "describe", "parse_smtp_url"]

log = logging.getLogger("rainforest.web.mail")

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    """Where mail goes: ``smtp://`` (plain, or upgraded with ``starttls``) or ``smtps://``
    (TLS from the start)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    tls: bool = False
    sender: str = "rainforest@localhost"
    timeout_s: float = 20.0

    def __repr__(self) -> str:  # the password stays out of logs and tracebacks
        return f"SmtpServer({self.redacted()!r})"

    def redacted(self) -> str:
        """The server as a URL without its password."""
        who = f"{self.username}:***@" if self.username else ""
        scheme = "smtps" if self.tls else "smtp"
        return f"{scheme}://{who}{self.host}:{self.port}" + ("?starttls=true" if self.starttls else "")


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://[user:password@]host[:port][?starttls=true&from=address]`` or ``smtps://...``.

    Raises
    ------
    ValueError
        For another scheme, no host, or a port that is not a number (the message never
        repeats the password).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"the SMTP server must be an smtp:// or smtps:// URL, got the scheme {parts.scheme!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the SMTP server's port must be a number, as in smtp://host:587") from None
    if not parts.hostname:
        raise ValueError("the SMTP server's URL names no host, as in smtp://user:password@mail.example.org:587")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    tls = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        starttls=query.get("starttls", "").lower() in _TRUE,
        tls=tls,
        sender=query.get("from") or f"rainforest@{parts.hostname}",
    )


_VERBS = {
    "proposal": "proposed",
    "comment": "commented on",
    "status": "moved",
    "agreed": "agreed to",
    "application": "applied to join",
    "decision": "decided on",
}


def describe(e: Event, actors: Mapping[str, str] | None = None) -> str:
    """One event in a sentence; ``actors`` maps ids to names (ids where it has none)."""
    names = actors or {}

    def name(actor: str) -> str:
        return names.get(actor, actor)

    if e.kind == "application":
        return f"{e.author} applied to join {e.ecosystem} as {e.text or name(e.source)} ({e.source})"
    if e.kind == "decision":
        return f"{e.author} {e.text} the application of {name(e.source)} ({e.source}) to {e.ecosystem}"
    exchange = f"{e.resource} from {name(e.source)} to {name(e.target)} (proposal {e.ref}, {e.ecosystem})"
    if e.kind == "proposal":
        return f"{e.author} proposed an exchange: {exchange}"
    if e.kind == "status":
        return f"{e.author} moved {exchange} to {e.text}"
    if e.kind == "agreed":
        party = "the managers" if e.text == "managers" else name(e.text)
        return f"{e.author} agreed for {party}: {exchange}"
    if e.kind in ("consent", "recorded"):
        return f"{e.author} {e.text}: {exchange}"
    return f"{e.author} commented on {exchange}: {e.text}"


class Mailer:
    """Sends each user's notices by e-mail, in a thread of its own.

    Parameters
    ----------
    store:
        The store whose inbox records say who gets notices and how far they went.
    server:
        The SMTP server (:func:`parse_smtp_url`).
    base_url:
        The workbench's address, for the link in every message.
    interval_s:
        Seconds between two rounds.
    """

    def __init__(self, store: Store, server: SmtpServer, *, base_url: str, interval_s: float = 30.0) -> None:
        self.store = store
        self.inbox = Inbox(store)
        self.server = server
        self.base_url = base_url.rstrip("/")
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round = threading.Lock()

    def start(self) -> None:
        """Start the rounds in a daemon thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rainforest-mailer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop after the round under way (a last round first sends what is waiting)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.send_round()
            except Exception:  # a broken round must not end the thread: say so, go on
                log.exception("the e-mail round failed; trying again in %.0f s", self.interval_s)
            self._stop.wait(self.interval_s)

    def send_round(self) -> int:
        """One round: a message to every user with new events; returns how many went out."""
        sent = 0
        with self._round:
            for person in self.inbox.recipients():
                events = [
                    e
                    for e in self.inbox.events(person.username, since=person.mailed_until, limit=500)
                    if person.mailed_until is None or e.at > person.mailed_until
                ]
                if not events or person.email is None:
                    continue
                message = self._message(person.email, events)
                try:
                    self._send(message)
                except (OSError, smtplib.SMTPException) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                    log.warning(
                        "e-mail to %s (%s) through %s failed: %s; the same %d notice(s) go at the next round",
                        person.username,
                        person.email,
                        self.server.redacted(),
                        reason,
                        len(events),
                    )
                    self.inbox.mail_failed(person.username, reason)
                    continue
                self.inbox.mailed(person.username, max(e.at for e in events))
                sent += 1
        return sent

    def _message(self, to: str, events: list[Event]) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.server.sender
        message["To"] = to
        n = len(events)
        message["Subject"] = f"rainforest: {n} new {'event' if n == 1 else 'events'}"
        names: dict[str, dict[str, str]] = {}
        for slug in {e.ecosystem for e in events}:
            try:
                names[slug] = {a.id: a.name or a.id for a in self.store.load(slug).actors}
            except (StoreError, UnknownIdError):  # removed meanwhile: the ids say it
                names[slug] = {}
        lines = [
            f"{e.at:%Y-%m-%d %H:%M} UTC  {describe(e, names[e.ecosystem])}" for e in sorted(events, key=lambda e: e.at)
        ]
        body = "\n".join(
            [
                f"What happened since the last message ({n}):",
                "",
                *lines,
                "",
                f"Your inbox: {self.base_url}/inbox",
                f"Stop these messages on {self.base_url}/inbox (e-mail notices).",
            ]
        )
        message.set_content(body)
        return message

    def _send(self, message: EmailMessage) -> None:
        s = self.server
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if s.tls:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        with client:
            if s.starttls:
                client.starttls(context=context)
            if s.username:
                client.login(s.username, s.password or "")
            client.send_message(message)
