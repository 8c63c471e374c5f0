"""Password policy: long enough, not too long, and not common or trivially guessable.

Strength is estimated with zxcvbn (Dropbox's estimator, Python port
``zxcvbn``; Wheeler, "zxcvbn: Low-Budget Password Strength Estimation",
USENIX Security 2016): it knows the most common passwords, names, keyboard
patterns, repeats, sequences, dates and l33t substitutions. Its dictionaries
are English, so a few Dutch words that passwords here are made of are passed
as user inputs, together with the username. A password must score at least 3
("safely unguessable", about 10^8 guesses or more).

zxcvbn refuses input over 72 characters (its matching is superlinear), so it
rates the first 72; the whole password is hashed and checked at login, never
cut (``MAX_PASSWORD_CHARS`` is the one upper bound, enforced at creation and
at login alike).
"""
from __future__ import annotations

from indexer.errors import InvalidInput

MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 1024
MIN_SCORE = 3
ZXCVBN_MAX = 72
#: Dutch words common in passwords here, which zxcvbn's English dictionaries do not know.
DUTCH_WORDS = ("schakel", "schakelaar", "tussenring", "wachtwoord", "welkom", "geheim", "mbo", "school",
               "docent", "student", "onderwijs", "zomer", "winter", "lente", "herfst", "voorjaar", "najaar",
               "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
               "oktober", "november", "december", "nederland", "amsterdam", "utrecht", "rotterdam", "hallo")


class WeakPassword(InvalidInput):
    """A refused password; ``dutch`` is the same advice for the web page."""

    def __init__(self, message: str, dutch: str):
        super().__init__(message, field="password")
        self.dutch = dutch


def check_password(password: str, username: str = "") -> None:
    """Raise WeakPassword (an InvalidInput, field ``password``) unless ``password`` is acceptable.

    Acceptable: a str of ``MIN_PASSWORD_CHARS`` to ``MAX_PASSWORD_CHARS`` characters whose zxcvbn score
    (first 72 characters, with the username and ``DUTCH_WORDS`` as known words) is at least ``MIN_SCORE``.
    """
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_CHARS:
        raise WeakPassword(f"password: at least {MIN_PASSWORD_CHARS} characters",
                           f"Kies een wachtwoord van minstens {MIN_PASSWORD_CHARS} tekens.")
    if len(password) > MAX_PASSWORD_CHARS:
        raise WeakPassword(f"password: at most {MAX_PASSWORD_CHARS} characters",
                           f"Kies een wachtwoord van hoogstens {MAX_PASSWORD_CHARS} tekens.")
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:ZXCVBN_MAX], user_inputs=[u for u in (username, *DUTCH_WORDS) if u])
    if result["score"] < MIN_SCORE:
        raise WeakPassword("password: too common or too easy to guess; use a longer sentence of several "
                           "unrelated words", "Dit wachtwoord is te gewoon of te makkelijk te raden. Neem een "
                           "langere zin van een paar woorden die niet bij elkaar horen.")
