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
weer nooit ooit erg zeer helemaal natuurlijk waarschijnlijk ergens overal nergens niemand niks vandaag morgen gisteren
straks
""".split())
# The last lines: among the most frequent Dutch words (adverbs of time, degree and place, indefinite pronouns) and
# no topic of their own in a practice question; 'weer' ("again", beside 'opnieuw' above) also means "weather", so an
# everyday question such as 'wat is het weer morgen?' matched the passages that say 'weer' instead of having no
# topic in the corpus.

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
        # what ``Marker`` learns of white-space chunks, for every marker of this analyzer: a chunk's forms with their
        # stems (forms with a stem only), and per stem the chunks with a form carrying it (``CHUNK_CACHE`` chunks)
        self._chunk_forms: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._stem_chunks: dict[str, set[str]] = {}
        self._chunk_order: list[str] = []   # the kept chunks in the order learnt, for markers made before

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

    def marker(self, stems: set[str] | frozenset[str]) -> "Marker":
        """A ``Marker`` of the words of texts whose stems are among STEMS, for marking many texts with one set of
        stems (the shown passages of one question)."""
        return Marker(self, stems)

    def marked_spans(self, text: str, stems: set[str] | frozenset[str]) -> list[tuple[int, int]]:
        """Sorted distinct (start, end) character offsets of the words of TEXT that ``token_spans`` gives a stem in
        STEMS: the same offsets as ``sorted({(s, e) for s, e, st in token_spans(text) if st in stems})``
        (``Marker.spans``; a caller marking several texts with the same stems keeps one ``marker``)."""
        return Marker(self, stems).spans(text)

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


#: white-space chunks whose forms and stems an ``Analyzer`` keeps for its markers (``Marker``): about 350 bytes each
#: with their entries in the per-stem index, so at most ~70 MB; only chunks of passages shown are ever kept
CHUNK_CACHE = 200_000


class Marker:
    """Marks the words of texts whose stems are among one set of STEMS (``Analyzer.marker``).

    ``spans(text)`` gives what ``Analyzer.token_spans`` would give for the marked words, cheaper for a question
    that marks 30 passages among 10^5. A text is cut into white-space separated chunks (a ``_WORD`` token holds no
    white space, so the chunks' tokens are the text's tokens; a chunk of word characters only, ``str.isalnum``, is
    one token as it stands). The analyzer keeps, for every chunk it has seen (up to ``CHUNK_CACHE``), its forms
    with their stems, and per stem the chunks that carry it; a marker starts from the chunks of its stems. Marking
    a text then costs a ``str.split``, two set operations in C and the chunks never seen before; only the forms
    that carry a stem are located, by ``str.find`` plus a check that the occurrence is a whole token
    (``_whole_token``). Safe to share between threads as far as the analyzer's dictionaries are (the GIL)."""

    __slots__ = ("_analyzer", "stems", "_marked", "_local", "_synced")

    def __init__(self, analyzer: "Analyzer", stems: set[str] | frozenset[str]):
        self._analyzer = analyzer
        self.stems = frozenset(stems)
        index = analyzer._stem_chunks
        #: how many of the analyzer's kept chunks (``_chunk_order``) this marker has looked at
        self._synced = len(analyzer._chunk_order)
        #: chunks with a form that carries one of the stems
        self._marked: set[str] = set().union(*(index[st] for st in self.stems if st in index))
        #: forms of chunks seen by this marker that the analyzer could not keep (its cache full)
        self._local: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sorted distinct (start, end) character offsets of the marked words of TEXT."""
        if not self.stems:
            return []
        known, order = self._analyzer._chunk_forms, self._analyzer._chunk_order
        stems = self.stems
        if len(order) > self._synced:     # chunks other markers have learnt since: any of ours among them?
            for chunk in order[self._synced:]:
                if any(not stems.isdisjoint(its) for _, its in known[chunk]):
                    self._marked.add(chunk)
        chunks = set(text.split())
        new = chunks.difference(known)
        if new:
            self._learn(new)
        self._synced = len(order)
        forms: set[str] = set()
        for chunk in chunks & self._marked:
            pairs = known.get(chunk)
            for form, its in pairs if pairs is not None else self._local[chunk]:
                if not stems.isdisjoint(its):
                    forms.add(form)
        found: set[tuple[int, int]] = set()
        for form in forms:
            start = text.find(form)
            while start >= 0:
                end = start + len(form)
                if _whole_token(text, start, end):
                    found.add((start, end))
                    start = text.find(form, end)
                else:
                    start = text.find(form, start + 1)
        return sorted(found)

    def _learn(self, chunks: set[str]) -> None:
        analyzer, stems = self._analyzer, self.stems
        known, index, cache = analyzer._chunk_forms, analyzer._stem_chunks, analyzer._span_cache
        order = analyzer._chunk_order
        for chunk in chunks:
            if chunk in self._local:
                continue
            pairs = []
            for form in ((chunk,) if chunk.isalnum() else _WORD.findall(chunk)):
                its = cache.get(form)
                if its is None:
                    its = analyzer._span_stems(form)
                if its:
                    pairs.append((form, its))
            pairs = tuple(pairs)
            if len(known) < CHUNK_CACHE:
                known[chunk] = pairs
                order.append(chunk)
                for _, its in pairs:
                    for st in its:
                        index.setdefault(st, set()).add(chunk)
            else:
                self._local[chunk] = pairs
            if any(not stems.isdisjoint(its) for _, its in pairs):
                self._marked.add(chunk)


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
