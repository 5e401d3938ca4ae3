"""Heuristic named entities: capitalised spans typed by cue words and small gazetteers."""

import re
from dataclasses import dataclass
from typing import Literal

from shared.pipeline.gazetteer import (
    FIRST_NAMES,
    INSTITUTIONS,
    NOT_NAMES,
    ORGANISATION_CUES,
    ORGANISATION_DESCRIPTORS,
    ORGANISATION_SUFFIXES,
    PERSON_CUES,
    PLACE_DESCRIPTORS,
    PLACES,
)
from shared.pipeline.lexicon import ALL_STOPWORDS

EntityType = Literal["person", "organisation", "place", "other"]

MAX_ENTITIES = 50
# Lower-case words that may sit inside a name between capitalised words ("Bank of England").
CONNECTORS = frozenset(
    ("of", "de", "del", "della", "di", "von", "van", "der", "den", "du", "des", "la", "le", "&")
)
# Prepositions that put a following name in a place, per language ("in Lyon", "à Lyon").
PLACE_PREPOSITIONS = {
    "en": frozenset({"in", "from", "near", "across"}),
    "fr": frozenset({"à", "en"}),
    "es": frozenset({"en", "desde"}),
}

_TOKEN = re.compile(r"[^\W\d_][\w'’\-.]*[\w]|[^\W\d_]|&")
_SENTENCE_BREAK = re.compile(r"[.!?…:;\n][\"'»”)\s]*$")


@dataclass(frozen=True)
class Entity:
    """A span of the analysed text naming something; `start`/`end` index into that text."""

    text: str
    type: EntityType
    start: int
    end: int


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int
    opens_sentence: bool

    @property
    def is_capitalised(self) -> bool:
        # An elided article before a name counts with it: "d'Orsay", "l'Élysée".
        return self.text[0].isupper() or (self.is_elided and self.text[2].isupper())

    @property
    def is_elided(self) -> bool:
        return len(self.text) > 2 and self.text[1] in "'’" and self.text[0] in "dlDL"


def find_entities(text: str, language: str | None = None) -> tuple[Entity, ...]:
    """Named things in `text`, each once (its first mention), in order of appearance.

    A name is a run of capitalised words; its type comes from cue words inside it ("Bank",
    "GmbH"), before it ("Dr", "minister", "in"), a gazetteer of places or a given name.
    German capitalises every noun, so there a lone capitalised word needs a cue to count.
    """
    tokens = _tokens(text)
    found: dict[str, Entity] = {}
    persons: set[str] = set()
    # First words of longer names already found ("Meridian" of "Meridian Semiconductor").
    known: dict[str, EntityType] = {}
    i = 0
    while i < len(tokens) and len(found) < MAX_ENTITIES:
        if not tokens[i].is_capitalised:
            i += 1
            continue
        j = _joined_place(text, tokens, _span_end(text, tokens, i, language))
        first = _trim(tokens, i, j)
        hint = _described(tokens, first)
        # German runs a describing noun into the name: "Modekette Hansen", "Stadt Leipzig".
        while language == "de" and j - first > 1:
            lead = _descriptor(tokens[first].text)
            if lead is None:
                break
            hint, first = lead, first + 1
        span = tokens[first:j]
        while span and (span[-1].text in NOT_NAMES or span[-1].text.lower() in CONNECTORS):
            span = span[:-1]
        i = j
        if not span:
            continue
        start, end = span[0].start + (2 if span[0].is_elided else 0), span[-1].end
        # "Solano's film": a possessive ending is not part of the name.
        if text[end - 2 : end] in ("'s", "’s") and end - start > 3:
            end -= 2
        name = text[start:end]
        before = tokens[first - 1] if first > 0 else None
        kind = _type(span, before, language, persons, hint or known.get(span[0].text))
        if kind is None or name in found:
            continue
        if kind == "person":
            persons.add(name.split()[-1])
        if len(span) > 1 and kind != "other":
            known.setdefault(span[0].text, kind)
        found[name] = Entity(text=name, type=kind, start=start, end=end)
    return tuple(found.values())


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    for match in _TOKEN.finditer(text):
        opens = not out or bool(_SENTENCE_BREAK.search(text[out[-1].end : match.start()]))
        word = match.group()
        # A trailing full stop belongs to the sentence, not the word ("Lyon." → "Lyon"),
        # unless the word is an initial or an abbreviation ("M.", "S.A.").
        if word.endswith(".") and len(word) > 3 and "." not in word[:-1]:
            word = word[:-1]
        out.append(_Token(word, match.start(), match.start() + len(word), opens))
    return out


def _span_end(text: str, tokens: list[_Token], i: int, language: str | None) -> int:
    # Extend over capitalised words separated by one space or hyphen, and over connectors
    # that are followed by another capitalised word (not in German, where "der", "von"
    # join ordinary nouns far more often than names).
    j = i + 1
    while j < len(tokens):
        gap = text[tokens[j - 1].end : tokens[j].start]
        if gap not in (" ", "-") or tokens[j].opens_sentence:
            break
        if tokens[j].is_capitalised:
            j += 1
            continue
        if language != "de" and tokens[j].text.lower() in CONNECTORS and j + 1 < len(tokens):
            next_gap = text[tokens[j].end : tokens[j + 1].start]
            if next_gap == " " and tokens[j + 1].is_capitalised:
                j += 2
                continue
        break
    return j


def _trim(tokens: list[_Token], i: int, j: int) -> int:
    # Skip sentence-opening function words, connectors and titles ("The Meridian",
    # "Captain Sam Okafor"); the title stays just before the name, where _type sees it.
    while i < j and (
        tokens[i].text in NOT_NAMES
        or tokens[i].text.lower() in CONNECTORS
        or _is_person_cue(tokens[i].text)
    ):
        i += 1
    # A sentence's first word is capitalised by grammar: "Users of PhotoVault" names only
    # PhotoVault, while "Bank of England" and "Francisco de Goya" keep their first word.
    if (
        i + 2 < j
        and tokens[i].opens_sentence
        and tokens[i + 1].text.lower() in CONNECTORS
        and tokens[i].text not in ORGANISATION_CUES | FIRST_NAMES
    ):
        i += 2
    return i


def _is_person_cue(word: str) -> bool:
    word = word.rstrip(".")
    return word in PERSON_CUES or word.lower() in PERSON_CUES


def _joined_place(text: str, tokens: list[_Token], j: int) -> int:
    # "Castilla y León", "Bosnia and Herzegovina": a conjunction inside a known place name.
    conjunction = j + 1 < len(tokens) and tokens[j].text in ("y", "and", "und", "et")
    if conjunction and tokens[j + 1].is_capitalised:
        start = next(k for k in range(j - 1, -1, -1) if k == 0 or not _joins(tokens, k))
        if text[tokens[start].start : tokens[j + 1].end] in PLACES:
            return j + 2
    return j


def _joins(tokens: list[_Token], k: int) -> bool:
    return tokens[k - 1].is_capitalised and not tokens[k].opens_sentence


def _descriptor(word: str) -> EntityType | None:
    word = word.lower()
    if word[1:2] in ("'", "’"):  # "l'opérateur"
        word = word[2:]
    if any(word.endswith(d) for d in ORGANISATION_DESCRIPTORS):
        return "organisation"
    if word in PLACE_DESCRIPTORS:
        return "place"
    return None


def _described(tokens: list[_Token], first: int) -> EntityType | None:
    # Up to three lower-case words back, within the sentence: "le groupe de cosmétiques".
    for k in range(first - 1, max(-1, first - 4), -1):
        if tokens[k].is_capitalised and not tokens[k].is_elided:
            return None
        kind = _descriptor(tokens[k].text)
        if kind is not None or tokens[k].opens_sentence:
            return kind
    return None


def _type(
    span: list[_Token],
    before: _Token | None,
    language: str | None,
    persons: set[str],
    hint: EntityType | None = None,
) -> EntityType | None:
    words = [t.text[2:] if t.is_elided else t.text for t in span]  # "l'Olympique"
    name = " ".join(words)
    cue = before.text.rstrip(".") if before is not None else ""
    if len(words) == 1 and words[0] in ORGANISATION_CUES and words[0] not in INSTITUTIONS:
        return None  # "the Bank said", "die Gewerkschaft": a common noun, not a name
    if any(w in ORGANISATION_CUES for w in words):
        return "organisation"
    if name in PLACES:
        return "place"
    if hint is not None:
        return hint
    if any(w.lower().endswith(ORGANISATION_SUFFIXES) and len(w) > 6 for w in words):
        return "organisation"
    if before is not None and _is_person_cue(before.text) and (len(words) >= 2 or cue[0].isupper()):
        return "person"
    if words[0] in FIRST_NAMES and len(words) >= 2:
        return "person"
    if len(words) == 1 and words[0] in persons:
        return "person"
    if cue in PLACE_PREPOSITIONS.get(language or "", ()):
        return "place"
    # Without a cue, a capitalised word is a name only where capitals are not grammar.
    if span[0].opens_sentence and len(words) == 1:
        return None
    if language == "de":
        return None
    if len(words) == 1 and words[0].lower() in ALL_STOPWORDS:
        return None
    return "other"
