"""Remove e-mail addresses and phone numbers from free text before it is stored.

Both finders take time linear in the length of the text, so no input can
hold the interpreter (and with it every other request) for long:

- E-mail addresses: a pattern with bounded repetition that can only start
  where no address character precedes it (RFC 5321 limits: local part at most
  64 characters, domain labels at most 63, here at most 8 dot-separated
  labels). Each start position costs a bounded amount of work. No kept library
  finds addresses in running text: ``email-validator`` validates one given
  address, and the finders we looked at (``commonregex``) use unbounded
  patterns with the same quadratic behaviour the old pattern had.
- Phone numbers: Google's libphonenumber (the ``phonenumbers`` package, here
  its ``phonenumberslite`` build without geocoding data) ``PhoneNumberMatcher``
  with region NL: it knows every Dutch and international numbering plan, finds
  formats such as "(020) 123 45 67", "+31 (0)6 12345678" and "06.12.34.56.78",
  and leaves years, ISBNs and other digit runs that are no valid number alone.
  Its candidate pattern uses bounded repetition and ``max_tries`` caps the
  invalid candidates it parses, so its cost is linear too, but each number it
  parses costs about a millisecond. So after ``MAX_PHONE_MATCHES`` numbers the
  rest of the text is scrubbed with ``DIGIT_RUN`` instead: a bounded pattern
  that blanks every group of 8 to 15 digits (with separators), which catches
  any phone number and costs microseconds. Only text stuffed with phone
  numbers reaches that point; callers also limit field lengths at the edge
  (``web.fields``).
"""
from __future__ import annotations

import re

import phonenumbers

EMAIL_TEXT = "[e-mailadres verwijderd]"
PHONE_TEXT = "[telefoonnummer verwijderd]"
#: One address, as found in running text and as accepted for a follow-up request (``fullmatch``).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
#: Invalid candidates libphonenumber may parse per text before it gives up (its ``max_tries``).
MAX_PHONE_TRIES = 1000
#: Numbers libphonenumber parses per text (about 1 ms each); after these, ``DIGIT_RUN`` scrubs the rest.
MAX_PHONE_MATCHES = 50
#: 8 to 15 digits, optionally with a leading + and up to two separators between digits (bounded: linear).
DIGIT_RUN = re.compile(r"\+?\d(?:[\s().-]{0,2}\d){7,14}")


#: Characters libphonenumber sees at once: its matcher re-scans the rest of the text per candidate,
#: so on a wall of digits its work grows with the square of the length (200 KB of digits: seconds).
WINDOW = 2000


def windows(text: str, size: int = WINDOW) -> list[str]:
    """``text`` cut into pieces of about ``size`` characters, each cut at a space or line break
    with no digit on either side (so no phone number is cut) when there is one in the second half
    of the piece; a wall without such a place is cut hard (``DIGIT_RUN`` still finds its numbers)."""
    out, start = [], 0
    while len(text) - start > size:
        end = start + size
        cut = next((p for p in range(end, start + size // 2, -1)
                    if text[p].isspace() and not text[p - 1].isdigit() and not text[p + 1:p + 2].isdigit()), end)
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


def scrub(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by a Dutch placeholder.

    Linear in ``len(text)`` (see the module docstring): libphonenumber runs per ``windows`` piece and
    parses at most ``MAX_PHONE_MATCHES`` numbers in all; ``DIGIT_RUN`` scrubs what comes after.
    Raises nothing for any str.
    """
    text = EMAIL.sub(EMAIL_TEXT, text)
    out, budget = [], MAX_PHONE_MATCHES
    for piece in windows(text):
        if budget <= 0:
            out.append(DIGIT_RUN.sub(PHONE_TEXT, piece))
            continue
        scrubbed, found = _scrub_phones(piece, budget)
        out.append(scrubbed)
        budget -= found
    return "".join(out)


def _scrub_phones(text: str, budget: int) -> tuple[str, int]:
    """(text with at most ``budget`` numbers found by libphonenumber replaced, and the rest by
    ``DIGIT_RUN`` once the budget is spent; the numbers libphonenumber found)."""
    out, pos = [], 0
    matcher = phonenumbers.PhoneNumberMatcher(text, "NL", leniency=phonenumbers.Leniency.VALID,
                                              max_tries=MAX_PHONE_TRIES)
    for n, match in enumerate(matcher):
        if n == budget:
            out.append(DIGIT_RUN.sub(PHONE_TEXT, text[pos:]))
            return "".join(out), n
        out += [text[pos:match.start], PHONE_TEXT]
        pos = match.end
    out.append(text[pos:])
    return "".join(out), len(out) // 2
