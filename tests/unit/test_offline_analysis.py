"""analyse_offline(): the offline default's contract, its classifier, summary and sentiment."""

from shared.pipeline.classify import classify
from shared.pipeline.lexicon import tokenize
from shared.pipeline.offline import Entity, analyse_offline
from shared.pipeline.sentiment import lexicon_score, score
from shared.pipeline.summary import split_sentences, summarise

LABELS = {
    "sports": "Football, matches, teams, players, goals, coaches, leagues and championships.",
    "health": "Hospitals, doctors, patients, diseases, treatments, drugs and vaccines.",
    "business": "Companies, markets, shares, profits, revenue, banks and interest rates.",
}

MATCH = (
    "Riverside United won the league title with a 3-1 victory over Northgate. "
    "Captain Sam Okafor scored two goals, and the coach praised the players. "
    "Thousands of fans celebrated the championship in Bristol."
)


def test_analyse_offline_fills_every_field() -> None:
    schema = {"properties": {"city": {"type": "string"}, "email": {"format": "email"}}}
    result = analyse_offline(MATCH, labels=LABELS, schema=schema)
    assert result.language == "en"
    assert result.sentiment_label == "positive"
    assert result.label == "sports"
    assert set(result.label_scores) == set(LABELS)
    assert result.label_scores["sports"] > result.label_scores["business"]
    assert Entity("Sam Okafor", "person", MATCH.index("Sam"), MATCH.index(" scored")) in (
        result.entities
    )
    assert ("Riverside United", "organisation") in [(e.text, e.type) for e in result.entities]
    assert result.structured == {"city": "Bristol"}
    assert result.missing_fields == ("email",)
    assert result.keywords[:1] == ("riverside",)
    assert result.word_count == len(MATCH.split()) + 1  # "3-1" is two tokens
    assert result.summary == MATCH


def test_analyse_offline_without_labels_or_schema() -> None:
    result = analyse_offline(MATCH)
    assert (result.label, dict(result.label_scores)) == (None, {})
    assert (result.structured, result.missing_fields) == (None, ())


def test_analyse_offline_language_hint_wins_and_is_normalised() -> None:
    assert analyse_offline(MATCH, language_hint="de-AT").language == "de"
    assert analyse_offline(MATCH, language_hint="!!").language == "en"


def test_analyse_offline_off_topic_text_gets_no_label() -> None:
    result = analyse_offline("The recipe needs flour, butter and two eggs.", labels=LABELS)
    assert result.label is None
    assert all(s < 0.04 for s in result.label_scores.values())


def test_analyse_offline_hostile_input() -> None:
    for text in ("", "\x00" * 10_000, "!!! ??? ...", "a" * 100_000, "Ünïcödé " * 2_000):
        result = analyse_offline(text, labels=LABELS, schema={"properties": {"x": {}}})
        assert result.sentiment_label in ("positive", "neutral", "negative")
        assert -1.0 <= result.sentiment <= 1.0
        assert result.missing_fields == ("x",)


def test_classify_uses_descriptions_in_other_languages() -> None:
    labels = {"sports": "Sport, Fußball, Spiel, Mannschaft, Tor", "health": "Krankenhaus, Arzt"}
    text = "Die Mannschaft gewann das Spiel mit zwei Toren."
    assert classify(text, labels).label == "sports"
    assert classify("", labels).label is None
    assert classify(text, {}).scores == {}


def test_summary_prefers_central_sentences_in_original_order() -> None:
    text = (
        "The city council approved the new budget for schools on Monday. "
        "The weather was cloudy. "
        "The budget gives schools more teachers and new school buildings. "
        "A cat sat outside. "
        "Council members said the school budget was the largest in a decade."
    )
    assert summarise(text, "en", 3) == (
        "The city council approved the new budget for schools on Monday. "
        "The budget gives schools more teachers and new school buildings. "
        "Council members said the school budget was the largest in a decade."
    )
    assert "cloudy" not in summarise(text, "en", 2)


def test_split_sentences_keeps_numbers_and_quotes_whole() -> None:
    text = 'Prices rose 3.5 percent. No. 4 is next! "Quote here." ¿Qué? Sí.\nNew line'
    assert split_sentences(text) == [
        "Prices rose 3.5 percent.",
        "No. 4 is next!",
        '"Quote here."',
        "¿Qué?",
        "Sí.",
        "New line",
    ]


def test_sentiment_english_uses_vader_and_others_the_lexicon() -> None:
    assert score("This is not good at all, it is a terrible disappointment.", "en") < -0.5
    kind = "The staff were kind and the food was delicious."
    assert lexicon_score(tokenize(kind), "en") == 0.0  # only VADER knows these words
    assert score(kind, "en") >= 0.15
    assert score("Ein großartiger, wunderbarer Erfolg!", "de") > 0.5
    assert score("Une crise terrible et une perte dangereuse.", "fr") < -0.5
    assert score("El tren sale a las nueve de la mañana.", "es") == 0.0


def test_language_letters_settle_french_against_spanish() -> None:
    # Mostly function words French and Spanish share ("de", "en", "les"/"la").
    text = (
        "Les coureurs traverseront les Pyrénées en deuxième semaine, puis les Alpes en "
        "troisième semaine, avant l'arrivée de la dernière étape."
    )
    assert analyse_offline(text).language == "fr"
    assert analyse_offline("La señora llegó en tren desde la estación de Málaga.").language == "es"
