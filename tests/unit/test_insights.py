"""Offline intelligence: extractive summary, keywords and sentiment (VADER for English)."""

from shared.pipeline.insights import analyse, split_sentences
from shared.pipeline.lexicon import STOPWORDS

LIBRARY_EN = (
    "The new library in the town centre is a wonderful success. "
    "Visitors say the reading rooms are excellent and the library staff are helpful. "
    "It opened on Monday after two years of building work. "
    "Parents love the library's children's corner, and the café on the roof is great. "
    "The weather was cloudy. "
    "Everyone agrees the library is an impressive improvement for the town."
)

REFORM_DE = (
    "Die Reform der Verwaltung ist ein schrecklicher Fehler. "
    "Die Kosten der Reform sind enorm und die Ergebnisse sind schlecht. "
    "Viele Bürger sind enttäuscht und wütend über die Verwaltung. "
    "Die Krise wird immer schlimmer, und niemand übernimmt die Verantwortung."
)


def test_analyse_clearly_positive_english_is_positive() -> None:
    result = analyse(LIBRARY_EN, "en")
    assert result.sentiment_label == "positive"
    assert result.sentiment > 0.6
    assert result.language == "en"
    assert result.word_count == len(LIBRARY_EN.split())


def test_analyse_clearly_negative_german_is_negative() -> None:
    result = analyse(REFORM_DE, "de")
    assert result.sentiment_label == "negative"
    assert result.sentiment == -1.0


def test_analyse_negation_flips_sentiment() -> None:
    assert analyse("The service was not good and the food wasn't great.", "en").sentiment < 0
    assert analyse("Das Essen war nicht schlecht, wirklich nicht schlecht.", "de").sentiment > 0
    assert analyse("Ce n'est pas mauvais du tout, pas mauvais.", "fr").sentiment > 0


def test_analyse_text_without_sentiment_words_is_neutral() -> None:
    result = analyse("The meeting starts at nine and ends at eleven in room four.", "en")
    assert (result.sentiment, result.sentiment_label) == (0.0, "neutral")


def test_analyse_single_weak_hit_is_damped() -> None:
    result = analyse("The report was published on Tuesday and it is good.", "en")
    assert 0.15 <= result.sentiment < 1.0
    assert result.sentiment_label == "positive"


def test_analyse_summary_sentences_come_from_text_in_original_order() -> None:
    sentences = split_sentences(LIBRARY_EN)
    result = analyse(LIBRARY_EN, "en", summary_sentences=3)
    picked = [s for s in sentences if s in result.summary]
    assert len(picked) == 3
    assert result.summary == " ".join(picked)
    assert "The weather was cloudy." not in result.summary
    positions = [LIBRARY_EN.index(s) for s in picked]
    assert positions == sorted(positions)


def test_analyse_summary_of_short_text_is_whole_text() -> None:
    text = "One short sentence here. And another one there."
    assert analyse(text, "en", summary_sentences=5).summary == text


def test_analyse_keywords_exclude_stopwords_and_rank_by_frequency() -> None:
    result = analyse(LIBRARY_EN, "en", max_keywords=5)
    assert result.keywords[0] == "library"
    assert len(result.keywords) == 5
    assert not set(result.keywords) & STOPWORDS["en"]
    assert all(len(k) >= 3 and k == k.lower() for k in result.keywords)


def test_analyse_keywords_skip_numbers_and_short_words() -> None:
    result = analyse(
        "In 2024 the EU and UK signed 12 deals; deals on steel, deals on 2024 ai.", "en"
    )
    assert result.keywords[0] == "deals"
    assert "2024" not in result.keywords
    assert "ai" not in result.keywords
    assert "eu" not in result.keywords


def test_analyse_german_keywords_exclude_german_stopwords() -> None:
    result = analyse(REFORM_DE, "de")
    assert result.keywords[:2] == ("reform", "verwaltung")
    assert not set(result.keywords) & STOPWORDS["de"]


def test_analyse_empty_text_gives_empty_analysis() -> None:
    result = analyse("", None)
    assert (result.summary, result.keywords, result.word_count) == ("", (), 0)
    assert (result.sentiment, result.sentiment_label) == (0.0, "neutral")
