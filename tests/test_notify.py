"""Follow-up notifications (web/notify.py) against a real local SMTP server (aiosmtpd), not a mock:
the connectors and the participant get their messages; a failed send keeps the request, is shown in
the inbox and is retried."""
from __future__ import annotations

import email
import socket
import time

import pytest

from conftest import CSRF, make_web_app

aiosmtpd = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is a test dependency (pip install '.[dev]')")

QUESTION = "Hoe zet ik kennisclips in zodat studenten in hun eigen tempo werken?"


class Inbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.Message]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """Start a real SMTP server on 127.0.0.1; yields (start, inbox) so a test can start it late."""
    inbox, servers = Inbox(), []

    def start(port: int):
        controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return controller
    yield start, inbox
    for c in servers:
        c.stop()


def ask_followup(client, email_address="deelnemer@example.org"):
    with client.session_transaction() as s:
        s["_csrf"] = CSRF
    return client.post("/opvolging", data={"csrf_token": CSRF, "question": QUESTION, "consent-followup": "ja",
                                           "email": email_address, "name": "Sam", "message": "Graag snel."})


def mail_app(demo_engine, tmp_path, port, **extra):
    return make_web_app(demo_engine, tmp_path / "h", SMTP_HOST="127.0.0.1", SMTP_PORT=port,
                        CONNECTOR_EMAILS="anna@schakel.example, bob@schakel.example",
                        MAIL_FROM="schakel@schakel.example", **extra)


def test_connectors_and_participant_get_their_messages(demo_engine, tmp_path, smtp_server):
    start, inbox = smtp_server
    port = free_port()
    start(port)
    app = mail_app(demo_engine, tmp_path, port)
    resp = ask_followup(app.test_client())
    assert resp.status_code == 200
    ref = "OPV-1"
    assert ref in resp.get_data(as_text=True)
    app.extensions["schakel"].notifier.wait()
    by_kind = {tuple(sorted(to)): msg for to, msg in inbox.messages}
    assert set(by_kind) == {("anna@schakel.example", "bob@schakel.example"), ("deelnemer@example.org",)}
    connectors = by_kind[("anna@schakel.example", "bob@schakel.example")]
    assert ref in connectors["Subject"] and connectors["From"] == "schakel@schakel.example"
    body = connectors.get_payload(decode=True).decode("utf-8")
    assert "kennisclips" in body and "deelnemer@example.org" in body and "/schakelaar/intake/" in body
    confirmation = by_kind[("deelnemer@example.org",)]
    assert ref in confirmation["Subject"] and ref in confirmation.get_payload(decode=True).decode("utf-8")
    assert app.extensions["schakel"].store.due_mail(2**40) == []  # sent messages leave the outbox


def test_a_failed_send_keeps_the_request_shows_it_and_retries(demo_engine, tmp_path, smtp_server, login, caplog):
    start, inbox = smtp_server
    port = free_port()  # nothing listens here yet: the mail server is "down"
    app = mail_app(demo_engine, tmp_path, port)
    client = app.test_client()
    assert ask_followup(client).status_code == 200
    notifier, store = app.extensions["schakel"].notifier, app.extensions["schakel"].store
    notifier.wait()
    assert store.followup(1)["email"] == "deelnemer@example.org"  # the request is kept
    problems = store.mail_problems()
    assert len(problems) == 2 and all(p["attempts"] == 1 and p["last_error"] for p in problems)
    assert any("not sent" in r.getMessage() for r in caplog.records)
    login(client, "connector")
    page = client.get("/schakelaar/").get_data(as_text=True)
    assert "E-mails nog niet verstuurd" in page and "OPV-1" in page
    assert notifier.deliver_due() == {"sent": 0, "failed": 0}  # not due yet: backoff
    start(port)  # the mail server is back
    store.db.execute("UPDATE outbox SET next_attempt = ?", [int(time.time())])
    assert notifier.deliver_due() == {"sent": 2, "failed": 0}
    assert len(inbox.messages) == 2 and store.mail_problems() == []
    assert "E-mails nog niet verstuurd" not in client.get("/schakelaar/").get_data(as_text=True)


def test_no_smtp_host_no_mail_but_the_request_is_stored(demo_engine, tmp_path):
    app = make_web_app(demo_engine, tmp_path / "h")
    assert ask_followup(app.test_client()).status_code == 200
    store = app.extensions["schakel"].store
    assert store.followup(1)["email"] == "deelnemer@example.org" and store.due_mail(2**40) == []


def test_smtp_password_only_from_the_environment(tmp_path):
    from indexer import settings
    from indexer.errors import InvalidInput

    (tmp_path / "schakel.cfg").write_text("smtp_password = geheim\n", "utf-8")
    with pytest.raises(InvalidInput, match="SCHAKEL_SMTP_PASSWORD"):
        settings.resolve(env={"SCHAKEL_HOME": str(tmp_path)})
    (tmp_path / "schakel.cfg").unlink()
    with pytest.raises(InvalidInput, match="command line"):
        settings.resolve({"smtp_password": "geheim"}, env={"SCHAKEL_HOME": str(tmp_path)})
    cfg = settings.resolve(env={"SCHAKEL_HOME": str(tmp_path), "SCHAKEL_SMTP_PASSWORD": "geheim"})
    assert cfg.smtp_password == "geheim" and "geheim" not in repr(cfg)
