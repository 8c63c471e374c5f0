"""E-mail notifications of follow-up requests: the connectors are told, the participant gets a confirmation.

Stored first, sent second (a transactional outbox): the follow-up request and
its messages are written to the app database before anything is sent, so a mail
server that is down loses nothing. A failed send is logged, kept with its error
(the connector inbox shows it) and retried with backoff (1, 2, 4 … minutes, at
most 6 hours) whenever the app handles a request after that time, and by
``schakel notify``. A sent message is deleted from the outbox; what is still
unsent is deleted with its follow-up request (purge, deletion on request).

Sending uses the standard library's ``smtplib`` (STARTTLS with the system's
certificate store when ``smtp_starttls``; login when ``smtp_user`` is set; the
password comes from ``SCHAKEL_SMTP_PASSWORD`` only). Without ``smtp_host`` no
message is queued.
"""
from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

log = logging.getLogger(__name__)

RETRY_FIRST = 60          # seconds before the first retry
RETRY_MAX = 6 * 3600      # longest wait between two attempts
RETRY_CHECK = 60          # the app looks for due messages at most this often (seconds)
SMTP_TIMEOUT = 15         # seconds


def reference(followup_id: int) -> str:
    """The reference a participant can quote for follow-up request ``followup_id``: "OPV-12"."""
    return f"OPV-{int(followup_id)}"


@dataclass(frozen=True)
class MailSettings:
    """The smtp_* settings, mail_from and connector_emails of a resolved Config."""
    host: str | None
    port: int
    starttls: bool
    user: str | None
    password: str | None
    sender: str
    connectors: tuple[str, ...]

    @classmethod
    def from_config(cls, cfg) -> "MailSettings":
        return cls(cfg.smtp_host, cfg.smtp_port, cfg.smtp_starttls, cfg.smtp_user, cfg.smtp_password,
                   cfg.mail_from or f"schakel@{socket.getfqdn()}", tuple(cfg.connector_emails))

    @property
    def enabled(self) -> bool:
        return bool(self.host)


def connector_message(ref: str, intake: dict, followup: dict, link: str | None) -> tuple[str, str]:
    """(subject, body) of the connectors' message about a new follow-up request (Dutch)."""
    question = " ".join(str(intake.get("question") or "").split())
    lines = [f"Er is een nieuw verzoek om opvolging ({ref}).", "",
             f"Vraag: {question}", f"Naam: {followup.get('name') or '(niet gegeven)'}",
             f"E-mailadres: {followup['email']}"]
    if followup.get("message"):
        lines += ["", "Bericht:", str(followup["message"])]
    if link:
        lines += ["", f"Intakebrief: {link}"]
    lines += ["", "Neem binnen enkele werkdagen contact op en zet de status van de vraag in Schakel bij."]
    short = question if len(question) <= 60 else question[:57] + "…"
    return f"Nieuw opvolgverzoek {ref}: {short}", "\n".join(lines) + "\n"


def participant_message(ref: str, intake: dict) -> tuple[str, str]:
    """(subject, body) of the participant's confirmation (Dutch)."""
    question = " ".join(str(intake.get("question") or "").split())
    body = (f"Dank je voor je verzoek. Een schakelaar neemt contact met je op via dit e-mailadres.\n\n"
            f"Je referentie: {ref}\nJe vraag: {question}\n\n"
            f"Noem de referentie als je over dit verzoek contact opneemt. Wil je dat we je gegevens "
            f"eerder verwijderen, antwoord dan op dit bericht.\n")
    return f"Je verzoek om opvolging is ontvangen ({ref})", body


def _backoff(attempts: int) -> int:
    return min(RETRY_FIRST * 2 ** max(attempts - 1, 0), RETRY_MAX)


class Notifier:
    """Queues and sends the messages of follow-up requests through ``store``'s outbox.

    ``followup_created`` is called after the request is stored; ``deliver_due``
    sends what is due (also from ``schakel notify``); ``maybe_retry`` starts a
    background delivery at most every RETRY_CHECK seconds; ``wait`` joins it (tests).
    """

    def __init__(self, store, mail: MailSettings):
        self.store, self.mail = store, mail
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False  # work arrived while the thread was sending: look once more
        self._checked = 0.0

    def followup_created(self, followup_id: int, link: str | None = None) -> list[int]:
        """Queue the connectors' message and the participant's confirmation; start sending. Returns outbox ids."""
        if not self.mail.enabled:
            log.info("follow-up %s stored; no smtp_host set, so no e-mail is sent", followup_id)
            return []
        followup = self.store.followup(followup_id)
        intake = self.store.intake(followup["intake_id"])
        ref = reference(followup_id)
        ids = []
        if self.mail.connectors:
            subject, body = connector_message(ref, intake, followup, link)
            ids.append(self.store.queue_mail(followup_id, "connector", list(self.mail.connectors), subject, body))
        else:
            log.warning("follow-up %s: connector_emails is empty, no connector is told", ref)
        subject, body = participant_message(ref, intake)
        ids.append(self.store.queue_mail(followup_id, "participant", [followup["email"]], subject, body))
        self._start()
        return ids

    def maybe_retry(self) -> None:
        """Start a background delivery of due messages if the last look was RETRY_CHECK seconds ago."""
        now = time.monotonic()
        if self.mail.enabled and now - self._checked >= RETRY_CHECK:
            self._checked = now
            self._start()

    def wait(self, timeout: float = 30.0) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _start(self) -> None:
        with self._lock:
            self._again = True
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="schakel-mail", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._again:
                        self._thread = None
                        return
                    self._again = False
                self.deliver_due()
        except Exception:  # a database error must not pass silently in a background thread
            log.exception("sending follow-up e-mails failed")
        finally:
            self.store.close()  # this thread's connection

    def deliver_due(self) -> dict[str, int]:
        """Send every due outbox message once. Returns {"sent": n, "failed": n}. Never raises for a send."""
        counts = {"sent": 0, "failed": 0}
        for row in self.store.due_mail(int(time.time())):
            try:
                self.send(row["recipients"], row["subject"], row["body"])
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                attempts = row["attempts"] + 1
                self.store.mail_failed(row["id"], error, int(time.time()) + _backoff(attempts))
                log.error("e-mail %s (%s, %s) not sent, attempt %d: %s", row["id"], row["kind"],
                          reference(row["followup_id"]), attempts, error)
                counts["failed"] += 1
            else:
                self.store.mail_sent(row["id"])
                log.info("e-mail %s (%s, %s) sent", row["id"], row["kind"], reference(row["followup_id"]))
                counts["sent"] += 1
        return counts

    def send(self, recipients: list[str], subject: str, body: str) -> None:
        """One message over SMTP. Raises OSError or smtplib.SMTPException."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.mail.sender, ", ".join(recipients), subject
        msg["Date"], msg["Message-ID"] = formatdate(localtime=False), make_msgid(domain="schakel")
        msg.set_content(body)
        with smtplib.SMTP(self.mail.host, self.mail.port, timeout=SMTP_TIMEOUT) as smtp:
            if self.mail.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.mail.user:
                smtp.login(self.mail.user, self.mail.password or "")
            smtp.send_message(msg)
