"""Does a question have a topic in this corpus? Off-topic, nonsense and empty questions.

A question has no topic when none of these holds: a question word occurs in the corpus (in the
BM25 vocabulary and not a weak word such as 'helpen' or 'maken'; a frequent word such as 'ict' in
an ict network counts), a thesaurus concept is
found by its words, or the question's best passage similarity (dense cosine) lies above the
corpus's own null range. The null range is calibrated per index on seeded nonsense queries
(random letter strings and strings of stop words): their best-passage cosines give a mean and
standard deviation, and a question must exceed mean + ``NULL_SD`` standard deviations. This is
the score-distribution view of query-performance prediction (Cronen-Townsend, Zhou & Croft
2002: a query whose retrieval looks like that of random text has no topic in the collection).
"""
from __future__ import annotations

import re

import random
import string
from dataclasses import dataclass
from typing import Callable

import numpy as np

from indexer.analysis import STOPWORDS_NL, WEAK_STEMS

from .knobs import K
from .loaded import LoadedIndex
from .retrieval import RecordScores, dense_passages

NULL_QUERIES = 24     # nonsense queries per index; more gives a steadier range, each costs one embedding
NULL_SD = 3.0         # a topic lies beyond mean + 3 sd of the null cosines (about 1 in 700 for a normal null)
NULL_SEED = 20061     # fixed, so a build always gets the same range

NO_TOPIC_NOTICE = ("Schakel kan deze vraag nog niet plaatsen: er is geen onderwerp in gevonden dat in het "
                   "netwerk voorkomt. Beschrijf je situatie in een paar zinnen: wat speelt er, bij welke "
                   "studenten of collega's, en wat wil je bereiken? Een schakelaar kan ook met je meedenken.")


# A question made only of these words is a greeting or a courtesy, not a practice question: it is greeted back.
GREETING_WORDS = {"hallo", "hoi", "hey", "hi", "hello", "dag", "goedemorgen", "goedemiddag", "goedenavond",
                  "goeiemorgen", "morgen", "allemaal", "iedereen", "beste", "collega", "collega's", "bedankt",
                  "dank", "dankjewel", "dankuwel", "je", "jullie", "u", "wel", "alvast", "groeten", "groetjes",
                  "good", "morning", "afternoon", "evening", "thanks", "thank", "you", "all", "everyone", "there"}
GREETING_PREFIX = "Hallo! Schakel helpt bij vragen uit je onderwijspraktijk. "


def no_topic_notice(question: str) -> str:
    """The Dutch notice for a question without a topic: ``NO_TOPIC_NOTICE``, after a greeting back when the
    question is only a greeting or a courtesy ("Hallo, goedemorgen allemaal!")."""
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", question.lower())
    if words and all(w in GREETING_WORDS for w in words):
        return GREETING_PREFIX + NO_TOPIC_NOTICE
    return NO_TOPIC_NOTICE


#: function words that are English and not Dutch, and Dutch and not English (``looks_english``)
ENGLISH_WORDS = frozenset("""the and how can could would should my our your their they you we does do did what which
who where when why with for from this that these those about into there are was were been being have has had
not any some more most than then them its it's i'm don't can't""".split())
DUTCH_WORDS = frozenset("""de het een ik je jij wij we hoe wat welke wie waar wanneer waarom van voor met bij aan
op uit naar over door ons onze mijn hun zij ze zijn is was hebben heeft heb kan kun kunnen moet wil niet
geen ook nog dat die deze dit er om te als of maar""".split())

#: said before anything else to a question in English: the corpus and the thesaurus are Dutch
ENGLISH_NOTICE = ("Schakel werkt met Nederlandse teksten: stel je vraag in het Nederlands, dan vindt Schakel "
                  "meer en beter passende kennis.")


def looks_english(question: str) -> bool:
    """Whether QUESTION is written in English: at least two English function words (``ENGLISH_WORDS``) and
    more of them than Dutch ones (``DUTCH_WORDS``). Loanwords such as 'feedback' or 'blended learning' in a
    Dutch sentence do not count: they are not function words."""
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", question.lower())
    english = sum(w in ENGLISH_WORDS for w in words)
    dutch = sum(w in DUTCH_WORDS for w in words)
    return english >= 2 and english > dutch


def no_evidence_notice(labels: list[str]) -> str:
    """The Dutch notice for a question whose topic (concept ``labels``, may be empty) the network's
    corpus does not hold."""
    topic = " en ".join(labels) if labels else "dit onderwerp"
    return (f"Over {topic} is in het netwerk nog niets te vinden: geen document, expert of themagroep sluit "
            "aan bij je vraag. De tussenring ziet dit als mogelijke blinde vlek; een schakelaar kan met je "
            "meedenken over wie of wat je verder helpt.")


@dataclass(frozen=True)
class NullRange:
    """Best-passage cosines of nonsense queries on one index: mean, standard deviation, n."""

    mean: float
    sd: float
    n: int

    @property
    def threshold(self) -> float:
        """The cosine a question's best passage must exceed to count as on topic by meaning."""
        return self.mean + NULL_SD * self.sd


def nonsense_queries(n: int = NULL_QUERIES, seed: int = NULL_SEED) -> list[str]:
    """``n`` seeded nonsense texts: half random letter strings (1-4 'words' of 3-8 letters),
    half strings of 2-6 Dutch stop words."""
    rng = random.Random(seed)
    stops = sorted(STOPWORDS_NL)
    out = []
    for i in range(n):
        if i % 2:
            out.append(" ".join(rng.choice(stops) for _ in range(rng.randint(2, 6))))
        else:
            out.append(" ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 8)))
                                for _ in range(rng.randint(1, 4))))
    return out


def calibrate(index: LoadedIndex, embed: Callable[[str], np.ndarray]) -> NullRange:
    """The index's null range: best-passage cosine of each nonsense query (``embed``: text -> unit
    vector of the index's dimension). An index without passages gets an unreachable range."""
    if not len(index.passage_text):
        return NullRange(1.0, 0.0, 0)
    best = np.array([float(np.max(dense_passages(index, embed(t)))) for t in nonsense_queries()])
    return NullRange(float(best.mean()), float(best.std()), len(best))


def _resolved(null: NullRange | Callable[[], NullRange | None] | None) -> NullRange | None:
    """``null`` itself, or what calling it gives: callers pass a callable so that the range (24
    embeddings, once per build) is calibrated only when a decision needs it."""
    return null() if callable(null) else null


def has_evidence(scores: RecordScores, asked: RecordScores | None,
                 null: NullRange | Callable[[], NullRange | None] | None) -> bool:
    """Whether the corpus holds anything on a question that has a topic: some record matches the
    question's or its concepts' words (BM25 in ``scores``), or the best passage for the question as
    asked (``asked``: dense evidence without the concept vectors, which the null range was not
    calibrated for) lies more than knob ``evidence_sd`` standard deviations above the null mean.
    False means the thesaurus knows the topic but the corpus does not: every fused score is then
    a z-score of random closeness (large on a small corpus) and no match may be recommended.
    ``null``: the index's null range or a callable giving it (asked only when BM25 does not settle
    it); None (no query vector): only BM25 counts."""
    if bool(np.any(scores.lexical > 0)):
        return True
    if asked is None or not len(asked.passage_dense):
        return False
    null = _resolved(null)
    return null is not None and float(np.max(asked.passage_dense)) > null.mean + K.evidence_sd * null.sd


def has_topic(index: LoadedIndex, tokens: list[str], hits: list, asked: RecordScores | None,
              null: NullRange | Callable[[], NullRange | None] | None) -> bool:
    """Whether a question has a topic in this corpus (see the module doc).

    ``tokens``: the question's analysed stems; ``hits``: its ``ConceptHit``s; ``asked``: the
    first-pass evidence of the question as asked (its ``passage_dense`` cosines; None: no dense
    evidence); ``null``: the index's null range or a callable giving it, asked only when words and
    concepts do not settle it (None: the dense signal is not used). A question of stop words only
    has no topic."""
    if not tokens:
        return False
    if any(st in index.bm25.vocab_dict and st not in WEAK_STEMS for st in tokens):
        return True
    if any(h.lexical > 0 for h in hits):
        return True
    if asked is None or not len(asked.passage_dense):
        return False
    null = _resolved(null)
    return null is not None and float(np.max(asked.passage_dense)) > null.threshold
