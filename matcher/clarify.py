"""Clarification: is the question specific enough to match well, and if not, what to ask.

Facets (the vocabulary of the CoP intake): doelgroep, opleiding/context, doel,
ict-middel, niveau (team or organisation) and tijdpad. A question is too vague
when it is short and general (its best concepts are broad ones, or none) and
several facets are missing. Then at most three short questions are asked, with
answer options where the thesaurus has them (the narrower concepts of the
question's concept). Answers are added to the question text and refine the match.
"""
from __future__ import annotations

import re

import numpy as np

from indexer.analysis import content_words, fold
from indexer.thesaurus import depth

from indexer.conceptterms import GENERIC

from .concepts import ConceptHit
from .knobs import K
from .results import Clarification

FACETS = ("doelgroep", "opleiding/context", "doel", "ict-middel", "niveau", "tijdpad")

QUESTIONS = {
    "doel": "Wat wil je bereiken: wat moet er na afloop anders zijn?",
    "doelgroep": "Om welke studenten of collega's gaat het?",
    "opleiding/context": "In welke opleiding, sector of onderwijssituatie speelt dit?",
    "ict-middel": "Welk digitaal middel gebruik je of wil je gebruiken?",
    "niveau": "Gaat het om je eigen lessen, je team of de hele organisatie?",
    "tijdpad": "Op welke termijn wil je hiermee aan de slag?",
}
OPTIONS = {
    # goals, not topics: what should be different afterwards
    "doel": ["studenten werken zelfstandiger of in hun eigen tempo", "betere resultaten of minder uitval",
             "meer betrokkenheid en activiteit in de les", "minder werkdruk of tijd besparen",
             "een gedeelde aanpak in het team", "eerst weten wat werkt (oriënteren)"],
    "doelgroep": ["eerstejaars", "ouderejaars", "bbl-studenten (werkend leren)", "deeltijd- of werkende studenten",
                  "docenten of een team"],
    "opleiding/context": ["zorg en welzijn", "techniek en ict", "economie en handel", "onderwijs en pedagogiek",
                          "creatief en media", "algemene vakken"],
    "ict-middel": ["video en kennisclips", "leerplatform of elo", "generatieve AI", "online samenwerken",
                   "digitaal toetsen", "nog geen: ik zoek een middel"],
    "niveau": ["mijn eigen lessen", "ons team", "de opleiding of de hele instelling"],
    "tijdpad": ["deze periode of dit blok", "dit studiejaar", "volgend studiejaar of later"],
}

PATTERNS = {
    "doelgroep": r"\b(eerste|tweede|derde|vierde)jaars|\bjaar [1-4]\b|\b(bbl|bol|deeltijd\w*|voltijd\w*|"
                 r"werkenden|volwassenen|stagiair\w*|nieuwe docenten|beginnende|startende|ouderejaars|"
                 r"eerstegeneratie\w*|niveau [1-4]|entree|slechtziend\w*|dyslex\w*|doof|anderstalig\w*|"
                 r"professionals|leerlingen|first.year|part.time|remote students|cursisten|alumni|"
                 r"studieloopbaanbegeleiders|praktijkbegeleider\w*|leermeester\w*|teamleider\w*|"
                 r"stagiairs|afstudeerders|docenten die|studenten (van|die|in|uit|met))\b",
    "opleiding/context": r"\b(opleiding\w*|minor|module|vak|vakken|sector|zorg|techniek|technische|economie|"
                         r"pabo|lerarenopleiding\w*|stage|bedrijf|leerbedrijf|werkplek|praktijk|afstuderen|"
                         r"afstudeer\w*|course|programme|program|curriculum|lesson|werkcollege\w*|"
                         r"project|campus|hogeschool|hogescholen|roc|mbo|hbo)\b",
    "doel": r"\b(zodat|om te|om (hun|hen|ze|de|het)|doel|wil(len)? dat|verbeter\w*|voorkom\w*|verminder\w*|"
            r"versterk\w*|zorgen dat|zorg dat|helpen|help|leert|leren van|laten|opleveren|overeind|"
            r"alternatieven?|aansluiten|so that|in order|keep|opzetten|zetten we|beoordelen|beoordeel\w*|"
            r"ontwerp\w*|ontwikkel\w*|invoeren|inrichten|richten we|starten|beginnen|meten|bewaken)\b",
    "ict-middel": r"\b(video\w*|kennisclip\w*|clips?|platform\w*|elo|lms|app\w*|digita\w*|online|"
                  r"chatgpt|ai|tekstgenerator\w*|laptop\w*|teams|tool\w*|software|dashboard\w*|"
                  r"hyflex|hybride|vr|portfolio|e-learning|webinar\w*|learning analytics)\b",
    "niveau": r"\b(team\w*|collega\w*|organisatie|instelling|school|opleiding|teamleider|bestuur|"
              r"mijn (les|lessen|klas|groep)|directie|management|netwerk|hogescholen|instellingen)\b",
    "tijdpad": r"\b(volgend\w*|komend\w*|studiejaar|schooljaar|semester|blok|periode|maand\w*|week|weken|"
               r"jaar|jaren|voor de zomer|na de zomer|deadline|binnenkort|per direct|20\d\d|tot eind)\b",
}
ICT_GROUPS = {"ict"}
TEAM_GROUPS = {"professionalisering", "samenwerking", "organisatie"}


def facets_present(text: str, hits: list[ConceptHit]) -> set[str]:
    """The facets (``FACETS``) the text already answers, by word patterns and ict concepts."""
    q = fold(text)
    present = {f for f, p in PATTERNS.items() if re.search(p, q)}
    if any(h.concept.group == "ict" and h.lexical > 0 for h in hits[:3]):
        present.add("ict-middel")
    return present


def specificity(index, hits: list[ConceptHit]) -> float:
    """How specific the best concepts are: depth in the thesaurus tree, weighted by confidence."""
    if not hits:
        return 0.0
    by_id = index.concept_by_id
    best = 0.0
    for h in hits[:3]:
        d = depth(by_id, h.concept.id)
        best = max(best, min(h.score, 1.2) * (1 + d))
    return best


VAGUE_MARKERS = r"\b(iets met|iets doen|beter|eigenlijk|goed|algemeen|tips|waar begin|hoe begin|aanpakken|pakken .* aan|" \
                r"in het algemeen|zomaar|van alles|what can|anything)\b"


def is_vague(index, question: str, hits: list[ConceptHit], answers: dict[str, str]) -> tuple[bool, set[str]]:
    """Too vague to match well: short, only broad concepts (or none), vague wording, few facets.

    Each signal adds to a score; a concrete request for a person or group lowers it, because
    it can be answered as asked. Answers to two or more clarifying questions end the asking.
    """
    from .generalise import intent

    present = facets_present(question + " " + " ".join(answers.values()), hits) | set(answers)
    missing = set(FACETS) - present
    if len(answers) >= 2:
        return False, missing
    words = [w for w in content_words(question) if w not in GENERIC]
    spec = specificity(index, hits)
    score = 0.0
    score += 1.0 if len(words) <= 2 else 0.0   # one or two topic words: too little to go on, however specific
    score += 1.0 if len(words) <= 3 else 0.0
    score += 0.5 if len(words) <= 5 else 0.0
    score -= 0.5 if len(words) >= 9 else 0.0
    score += 1.0 if spec < 1.6 else 0.0
    score += 0.5 if spec < 2.5 else 0.0
    score += 0.5 if re.search(VAGUE_MARKERS, fold(question)) else 0.0
    score -= 1.0 if intent(question) in ("group", "who") and len(words) >= 4 else 0.0
    score -= 0.5 if len(present) >= 3 else 0.0
    score -= 0.5 * len(answers)
    return score >= K.vague_threshold, missing


def clarify(index, question: str, hits: list[ConceptHit], answers: dict[str, str], scores: np.ndarray):
    """At most three ``Clarification``s for a vague question (``is_vague``), missing facets first in
    an order that depends on the concepts' groups; [] for a question specific enough."""
    vague, missing = is_vague(index, question, hits, answers)
    if not vague:
        return []
    groups = {h.concept.group for h in hits[:3]}
    order = ["doel", "doelgroep", "opleiding/context"]
    if groups & ICT_GROUPS or not groups:
        order.insert(1, "ict-middel")
    if groups & TEAM_GROUPS:
        order.insert(1, "niveau")
    order += [f for f in FACETS if f not in order]
    out: list[Clarification] = []
    for facet in order:
        if facet in missing and facet not in answers:
            out.append(Clarification(facet, QUESTIONS[facet], _options(index, facet, hits)))
        if len(out) == 3:
            break
    return out


def _options(index, facet: str, hits: list[ConceptHit]) -> list[str]:
    """Answer options that fit the facet (the "doel" question offers goals; narrower topics would be topics)."""
    return list(OPTIONS.get(facet, []))


def with_answers(question: str, answers: dict[str, str]) -> str:
    """The question followed by the answers' text (not the facet names), as one text to match."""
    if not answers:
        return question
    # only the answers themselves: facet names such as "Doel" would match every document that uses the word
    extra = ". ".join(v.rstrip(".") for v in answers.values())
    return f"{question} {extra}."


def notices(index, hits: list[ConceptHit], matches, uncovered=()) -> list[str]:
    """Dutch notices: no expert covers the question's core concepts (a possible blind spot), no
    expert found, or every matching expert unavailable."""
    out = []
    if uncovered:
        labels = [c.label for c in uncovered]
        topic = labels[0] if len(labels) == 1 else " en ".join(labels)
        sources = sum(len(matches.get(k) or []) for k in ("literature", "kennisrotonde", "report", "product"))
        out.append(f"Geen expert in het netwerk dekt {topic}. "
                   + ("De bronnen hieronder helpen verder; " if sources else "")
                   + "de tussenring ziet dit als mogelijke blinde vlek.")
    elif not matches.get("expert"):
        out.append("Er is geen expert gevonden die bij deze vraag past. Een schakelaar kan verder zoeken.")
    elif all(m.status for m in matches["expert"]):
        out.append("De experts die bij deze vraag passen, zijn op dit moment niet beschikbaar.")
    return out
