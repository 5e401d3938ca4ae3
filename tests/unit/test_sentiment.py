"""Sentiment's neutral band: event words weigh less, evidence scales with length, negation."""

from shared.pipeline.lexicon import MILD, NEGATIONS, NEGATIVE, NOT_NEGATING, POSITIVE, tokenize
from shared.pipeline.sentiment import label, lexicon_score, score


def test_sentiment_one_event_word_in_a_report_stays_neutral() -> None:
    reports = {
        "de": "Die Stadt prüft das Risiko neuer Baustellen im Zentrum und legt im Mai einen "
        "Bericht vor.",
        "fr": "Le conseil examinera mardi la baisse du nombre d'élèves dans les écoles du "
        "quartier.",
        "es": "El ayuntamiento estudia el problema del aparcamiento en el centro y presentará un "
        "plan en junio.",
    }
    for language, text in reports.items():
        value = score(text, language)
        assert value != 0.0, f"{language}: the event word was not seen at all"
        assert label(value) == "neutral", (language, value)


def test_sentiment_one_evaluative_word_leans() -> None:
    assert label(score("Die Eröffnung des neuen Bahnhofs war ein Desaster.", "de")) == "negative"
    assert label(score("La nueva biblioteca del barrio es excelente.", "es")) == "positive"


def test_sentiment_event_words_pointing_one_way_add_up() -> None:
    one = score("Im Hafen gab es am Montag einen Streik.", "de")
    three = score("Im Hafen gab es am Montag einen Streik, einen Ausfall und eine Störung.", "de")
    assert label(one) == "neutral"
    assert label(three) == "negative"
    assert label(score("La croissance reste forte et la production progresse.", "fr")) == (
        "positive"
    )


def test_sentiment_german_privative_suffix_turns_a_stem_into_its_absence() -> None:
    assert lexicon_score(tokenize("Die Umstellung lief problemlos."), "de") > 0
    assert lexicon_score(tokenize("Die Umstellung war ein Problem."), "de") < 0
    assert lexicon_score(tokenize("Die Suche blieb erfolglos."), "de") < 0
    # Only German forms words this way; elsewhere the same letters are left alone.
    assert lexicon_score(tokenize("problemlos"), "es") == 0.0


def test_sentiment_fixed_phrases_with_a_negator_do_not_negate() -> None:
    # "Sin embargo" is "however": the criticism after it stays negative.
    text = "Sin embargo, los vecinos critican el retraso y hablan de un escándalo."
    assert label(score(text, "es")) == "negative"
    assert lexicon_score(tokenize("not only excellent but reliable"), "en") > 0
    assert lexicon_score(tokenize("nicht nur gut, sondern hervorragend"), "de") > 0
    # A real negation still flips.
    assert lexicon_score(tokenize("no es un escándalo"), "es") > 0
    assert lexicon_score(tokenize("nicht gut"), "de") < 0


def test_sentiment_long_text_needs_more_net_evidence_than_a_short_one() -> None:
    hits = tokenize("Ein großartiger und wunderbarer Abend.")
    short = lexicon_score(hits, "de")
    long = lexicon_score(hits + ["termin"] * 400, "de")
    assert short == 0.5  # two evaluative words over the floor of four
    assert 0 < long < short
    assert label(long) == "positive"  # sqrt(405) / 2 ≈ 10: still a lean, a weaker one
    assert label(lexicon_score(hits + ["termin"] * 2000, "de")) == "neutral"


def test_sentiment_mild_words_are_entries_of_one_sentiment_lexicon() -> None:
    for language, mild in MILD.items():
        assert mild <= POSITIVE[language] | NEGATIVE[language], language
        assert not POSITIVE[language] & NEGATIVE[language], language
    assert set(NOT_NEGATING) <= NEGATIONS
