"""Offline language detection for en, de, fr, es by stopword frequency."""

from shared.pipeline.lexicon import ALL_STOPWORDS, LANGUAGES, STOPWORDS, tokenize

MIN_WORDS = 5
MIN_HITS = 3
# The winner must beat the runner-up by this factor, or the guess is no better than chance.
MIN_LEAD = 1.5

LETTER_WEIGHT = 0.25
MAX_LETTER_HITS = 20
_LETTERS = {"de": frozenset("äöüß"), "fr": frozenset("éèêëçàâîôûœ"), "es": frozenset("ñáíóú¿¡")}

# Function words shared by several languages ("de", "la", "a") are weak evidence, so each
# stopword counts 1/n towards each of the n languages that use it.
_WEIGHTS: dict[str, dict[str, float]] = {
    lang: {
        word: 1.0 / sum(word in STOPWORDS[other] for other in LANGUAGES) for word in STOPWORDS[lang]
    }
    for lang in LANGUAGES
}


def detect_language(text: str) -> str | None:
    """Guess the language of `text` from how many of its words are each language's stopwords.

    Returns None when the text is too short or no language clearly wins, so callers
    never store a guess that is no better than chance.
    """
    words = tokenize(text)
    if len(words) < MIN_WORDS:
        return None
    if sum(w in ALL_STOPWORDS for w in words) < MIN_HITS:
        return None
    scores = {lang: sum(_WEIGHTS[lang].get(w, 0.0) for w in words) for lang in LANGUAGES}
    # Letters that mark one language ("è", "ñ", "ß") settle a close call between
    # languages that share many function words (fr/es "de", "en", "la").
    lowered = text.lower()
    for lang, letters in _LETTERS.items():
        scores[lang] += LETTER_WEIGHT * min(MAX_LETTER_HITS, sum(c in letters for c in lowered))
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_score), (_, second_score) = ranked[0], ranked[1]
    if best_score < MIN_LEAD * second_score:
        return None
    return best
