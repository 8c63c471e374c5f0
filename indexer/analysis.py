"""Text analysis for lexical matching: Dutch tokens, stop words, stems, compounds.

Used at index time (BM25 over passages) and at query time (the matcher), so
both sides always agree. Compound splitting is vocabulary-driven: a long word
is split into two known words (optionally joined by a linking 's' or 'e'/'en'),
e.g. ``kennisclips`` -> ``kennis`` + ``clips``, ``leerplatform`` -> ``leer`` +
``platform``. The vocabulary is the corpus' and thesaurus' own words.
"""
from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Iterable

import Stemmer

STOPWORDS_NL = set("""
aan aangaande aangezien achter af afgelopen al aldaar aldus alhoewel alle allebei alleen alles als alsof altijd
ander andere anders behalve beide ben beneden bent bepaald betreffende bij bijna bijv binnen boven bovenal bovendien
bovengenoemd daar daarheen daarin daarna daarnet daarom daarop daarvan dan dat de deze die dik dit doch doen door
dus echter een eens eerder eigen eigenlijk elk elke en enig enige enz er erdoor even eveneens evenwel gauw geen
gehad gekund geleden gelijk gemoeten gemogen geweest gewoon gewoonweg haar had hadden hare heb hebben hebt heeft
hem hen het hierbeneden hierboven hij hoe hoewel hun hunne ik ikzelf in inmiddels inzake is jezelf jij jijzelf jou
jouw jouwe juist jullie kan klaar kon konden krachtens kunnen kunt later liever maar mag meer met mezelf mij mijn
mijnent mijner mijzelf misschien mocht mochten moest moesten moet moeten mogen na naar nadat net niet niets noch
nog nu of ofschoon om omdat omhoog omlaag omstreeks omtrent omver onder ondertussen ongeveer ons onszelf onze ook
op opnieuw opzij over overeind overigens pas precies reeds rond rondom sedert sinds sindsdien slechts sommige
spoedig steeds tamelijk tenzij terwijl thans tijdens toch toen toenmaals toenmalig tot totdat tussen uit uitgezonderd
vaak van vandaan vanuit vanwege veeleer verder vervolgens vol volgens voor vooraf vooral vooralsnog voorbij voordat
voordezen voordien voorheen voorop vooruit vrij vroeg waar waarom wanneer want waren was wat we wel welk welke wie
wiens wier wij wijzelf zal ze zelf zelfs zich zichzelf zij zijn zijne zo zodat zodra zonder zou zouden zowat zulke
zullen zult je jouw u uw iets iemand ieder iedere iedereen hier daar er wordt worden werd werden zijn graag
willen wil wilt kun kunt krijgen gaat gaan ga goed beter veel weinig mee heel echt wel nou eens soms zeker
""".split())

STOPWORDS_EN = set("""
a an and are as at be been but by can could do does for from has have how i if in into is it its me my no not
of on or our so that the their them there these they this to was we what when where which who why will with
would you your about any anyone someone is are do help
""".split())

STOPWORDS = STOPWORDS_NL | STOPWORDS_EN

#: Common verbs and nouns that carry little topic: searched on, but never shown as a reason or marked.
WEAK_WORDS = set("""
zetten zet zette gezet inzetten werken werk werkt gewerkt maken maakt gemaakt doen doet gedaan gebruiken gebruikt
krijgen krijgt helpen helpt geholpen vinden vindt gevonden geven geeft gegeven komen komt gekomen gaan gaat staan
staat houden houdt brengen brengt laten laat nemen neemt zorgen zorgt hebben heeft willen wil kunnen kan moeten
moet weten weet zien ziet manier manieren vraag vragen mensen tijd keer jaar dingen idee ideeen goed beter nieuw
nieuwe groot grote klein kleine lang lange
""".split())

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_stemmer_local = threading.local()


def _stemmer(algorithm: str = "dutch") -> Stemmer.Stemmer:
    """This thread's PyStemmer stemmer for ``algorithm`` (a Stemmer object is not thread-safe)."""
    s = getattr(_stemmer_local, algorithm, None)
    if s is None:
        s = Stemmer.Stemmer(algorithm)
        setattr(_stemmer_local, algorithm, s)
    return s


def fold(text: str) -> str:
    """Lowercase and strip diacritics (vóór -> voor, ë -> e) for matching."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text.lower())
    # the combining marks among the text's distinct characters, deleted in one regex pass
    marks = "".join(sorted(c for c in set(text) if unicodedata.combining(c)))
    return _marks_pattern(marks).sub("", text) if marks else text


@lru_cache(maxsize=1024)
def _marks_pattern(marks: str) -> re.Pattern:
    return re.compile("[" + re.escape(marks) + "]")


@lru_cache(maxsize=200_000)
def _word_spans(word: str) -> tuple[str, ...]:
    """Stems of a (hyphenated) word as token_spans needs them, without compound parts; cached per word."""
    w = fold(word)
    out = [stem(p) for p in re.split(r"[-'’]", w) if p and p not in STOPWORDS]
    joined = re.sub(r"[-'’]", "", w)
    if joined != w:
        out.append(stem(joined))
    return tuple(out)


def words(text: str) -> list[str]:
    """Folded word tokens; hyphenated words give the whole and the parts."""
    folded = fold(text).replace("’", "'")
    found = _WORD.findall(folded)
    if "-" not in folded and "'" not in folded:  # nothing hyphenated: the tokens as found
        return found
    out = []
    for w in found:
        if "-" in w or "'" in w:
            parts = [p for p in re.split(r"[-']", w) if p]
            joined = "".join(parts)
            out.append(joined)
            out.extend(p for p in parts if p != joined)
        else:
            out.append(w)
    return out


#: Separable-verb particles: 'opgesteld' -> 'opstel', 'ingezet' -> 'inzet' keep Snowball's ge-removal.
SEPARABLE_PARTICLES = frozenset("""
aan af bij door in mee na om onder op over samen terug toe uit vast voor voort weg
""".split())


def _dropped_inner_ge(word: str, s: str) -> bool:
    """Whether Snowball Dutch removed a 'ge' inside WORD that is not a participle prefix: at a
    position i > 0 whose head word[:i] is not a separable particle, the stem S continues as if the
    'ge' were not there ('begeleiding' -> 'beleid', 'hogeschool' -> 'hoschool')."""
    for i in range(1, len(word) - 3):
        if word[i:i + 2] == "ge" and word[:i] not in SEPARABLE_PARTICLES \
                and s.startswith(word[:i] + word[i + 2:i + 4]) and not s.startswith(word[:i + 2]):
            return True
    return False


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball Dutch (PyStemmer 'dutch', Snowball 3), with two repairs.

    1. Snowball 3's Dutch removes the participle prefix 'ge' also inside words where it is no
       prefix: 'begeleiding' -> 'beleid' (guidance becomes policy), 'gegevens', 'hogeschool',
       'management', 'leergemeenschap', 'burgerschap'. Where it drops an inner 'ge' that does not
       follow a separable particle ('opgesteld' -> 'opstel' stays), the classic Snowball Dutch
       stemmer ('dutch_porter', which never removes 'ge') stems the word instead, with a doubled
       end consonant undoubled as Snowball 3 does.
    2. It strips the final -s of singulars such as 'toets', 'kans' or 'plaats' (to 'toet', 'kan',
       'plaat') while their plurals keep it ('toetsen' -> 'toets'). When the word plus -en stems
       back to the word itself, the word is its own stem."""
    s = _stemmer().stemWord(word)
    if "ge" in word[1:] and _dropped_inner_ge(word, s):
        s = _stemmer("dutch_porter").stemWord(word)
        # the classic stemmer leaves some doubled end consonants ('gemeenschappen' -> 'gemeenschapp')
        return s[:-1] if len(s) > 3 and s[-1] == s[-2] and s[-1] not in "aeiouy" else s
    if word.endswith(("ts", "ns")) and s == word[:-1] and len(word) > 3 and _stemmer().stemWord(word + "en") == word:
        return word
    return s


def content_words(text: str) -> list[str]:
    """The words of TEXT (``words``: lower case, NFC) without Dutch stop words and one-letter words (digits stay)."""
    return [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


WEAK_STEMS = frozenset(stem(w) for w in WEAK_WORDS)


class Analyzer:
    """Tokenizer with a compound vocabulary. ``tokens()`` gives stems for BM25."""

    def __init__(self, vocabulary: Iterable[str] = ()):
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= 3)
        self._splits: dict[str, list[str]] = {}
        self._span_cache: dict[str, tuple[str, ...]] = {}
        self._token_cache: dict[str, tuple[str, ...]] = {}

    @staticmethod
    def vocabulary_from(texts: Iterable[str], min_count: int = 1) -> list[str]:
        """Sorted vocabulary for compound splitting: alphabetic content words of 3 to 20 letters found at least
        MIN_COUNT times in TEXTS."""
        counts: dict[str, int] = {}
        for text in texts:
            for w in content_words(text):
                if 3 <= len(w) <= 20 and w.isalpha():
                    counts[w] = counts.get(w, 0) + 1
        return sorted(w for w, c in counts.items() if c >= min_count)

    def split_compound(self, word: str) -> list[str]:
        """Two known parts of a long word, or [] when it is not a known compound."""
        if len(word) < 7 or not word.isalpha():
            return []
        parts = self._splits.get(word)
        if parts is None:
            parts = _split(word, self.vocabulary)
            if len(self._splits) < 500_000:
                self._splits[word] = parts
        return parts

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens of TEXT: the Snowball Dutch stem (``stem``) of each content word, plus the stems of the two
        parts of a known compound ('toetsbeleid' -> 'toetsbeleid', 'toets', 'beleid')."""
        out = []
        for w in content_words(text):
            out.extend(self._word_tokens(w))
        return out

    def _word_tokens(self, word: str) -> tuple[str, ...]:
        """``tokens`` of one content word, kept per word (this vocabulary decides the compounds)."""
        toks = self._token_cache.get(word)
        if toks is None:
            toks = (stem(word),) + tuple(stem(p) for p in self.split_compound(word) if p not in STOPWORDS)
            if len(self._token_cache) < 500_000:
                self._token_cache[word] = toks
        return toks

    def token_spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, stem) of each content word in the original text, for highlighting."""
        spans = []
        cache = self._span_cache
        for m in _WORD.finditer(text):
            stems = cache.get(m.group(0))
            if stems is None:
                stems = self._span_stems(m.group(0))
            if stems:  # stop words have none
                start, end = m.span()
                for st in stems:
                    spans.append((start, end, st))
        return spans

    def form_stems(self, text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(form, the stems ``token_spans`` gives it) for each distinct word form of TEXT that has a stem (stop
        words have none): what ``marked_spans`` needs of a text to mark any set of stems, so a caller that marks
        the same passage again can keep it (``matcher.loaded.LoadedIndex.passage_forms``).

        The forms are those of ``_WORD.findall(text)``, listed faster: a ``_WORD`` token holds no white space,
        so each white-space separated chunk is matched on its own, and a chunk of word characters only
        (``str.isalnum``, which is ``[^\\W_]``) is one token as it stands."""
        forms: set[str] = set()
        for chunk in set(text.split()):
            if chunk.isalnum():
                forms.add(chunk)
            else:
                forms.update(_WORD.findall(chunk))
        cache = self._span_cache
        out = []
        for form in forms:
            stems = cache.get(form)
            if stems is None:
                stems = self._span_stems(form)
            if stems:
                out.append((form, stems))
        return tuple(out)

    def marked_spans(self, text: str, stems: set[str] | frozenset[str],
                     form_stems: tuple[tuple[str, tuple[str, ...]], ...] | None = None) -> list[tuple[int, int]]:
        """Sorted distinct (start, end) character offsets of the words of TEXT that ``token_spans`` gives a stem in
        STEMS: the same offsets as ``sorted({(s, e) for s, e, st in token_spans(text) if st in stems})``.
        FORM_STEMS: TEXT's ``form_stems``, when the caller keeps it; without it they are listed here.

        Cheaper for highlighting one passage among 10^5: only the distinct word forms are looked up, and only
        the forms that carry a stem are located again, by ``str.find`` plus a check that the occurrence is a
        whole token of ``_WORD`` (``_whole_token``)."""
        if not stems:
            return []
        if form_stems is None:
            form_stems = self.form_stems(text)
        found: set[tuple[int, int]] = set()
        for form, its_stems in form_stems:
            if stems.isdisjoint(its_stems):
                continue
            start = text.find(form)
            while start >= 0:
                end = start + len(form)
                if _whole_token(text, start, end):
                    found.add((start, end))
                    start = text.find(form, end)
                else:
                    start = text.find(form, start + 1)
        return sorted(found)

    def _span_stems(self, word: str) -> tuple[str, ...]:
        """The stems ``token_spans`` gives one word: its own (``_word_spans``), then those of the parts of a
        known compound. Kept per word (this vocabulary decides the compounds)."""
        stems = self._span_cache.get(word)
        if stems is None:
            stems = _word_spans(word)
            folded = fold(word)
            if len(folded) >= 7 and folded.isalpha():
                stems += tuple(stem(sub) for sub in self.split_compound(folded))
            if len(self._span_cache) < 500_000:
                self._span_cache[word] = stems
        return stems


_JOINERS = "-'’"   # the separators inside one ``_WORD`` token


def _whole_token(text: str, start: int, end: int) -> bool:
    """Whether TEXT[start:end] (itself a ``_WORD`` match) is a whole token of ``_WORD.finditer(text)``: no word
    character (``[^\\W_]``, which is ``str.isalnum``) and no joiner between word characters runs into it from
    either side, since the regex would then have made it part of a longer token."""
    if start > 0:
        before = text[start - 1]
        if before.isalnum() or (before in _JOINERS and start >= 2 and text[start - 2].isalnum()):
            return False
    if end < len(text):
        after = text[end]
        if after.isalnum() or (after in _JOINERS and end + 1 < len(text) and text[end + 1].isalnum()):
            return False
    return True


_LINKS = ("", "s", "e", "en")


def _split(word: str, vocab: frozenset) -> list[str]:
    best: list[str] = []
    best_score = 0
    for i in range(3, len(word) - 3 + 1):
        head, tail = word[:i], word[i:]
        if len(tail) < 3 or tail not in vocab and stem(tail) not in vocab:
            continue
        for link in _LINKS:
            if link and not head.endswith(link):
                continue
            core = head[: len(head) - len(link)] if link else head
            if len(core) >= 3 and (core in vocab):
                score = min(len(core), len(tail))
                if score > best_score:
                    best, best_score = [core, tail], score
    return best
