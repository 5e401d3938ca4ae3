"""Heuristic entities: capitalised spans typed by cues and gazetteers, with exact offsets."""

from shared.pipeline.entities import Entity, find_entities


def kinds(text: str, language: str | None = "en") -> list[tuple[str, str]]:
    return [(e.text, e.type) for e in find_entities(text, language)]


def test_entities_types_people_organisations_and_places() -> None:
    text = (
        "Dr. Anna Schmidt met chief executive Laura Chen at the Bank of England in London. "
        "Later, Schmidt said the Harbor Foods deal was done."
    )
    assert kinds(text) == [
        ("Anna Schmidt", "person"),
        ("Laura Chen", "person"),
        ("Bank of England", "organisation"),
        ("London", "place"),
        ("Schmidt", "person"),
        ("Harbor Foods", "organisation"),
    ]


def test_entities_spans_index_the_original_text() -> None:
    text = "Yesterday in Geneva, Mira Solano's film won. Siemens AG agreed."
    entities = find_entities(text, "en")
    assert all(text[e.start : e.end] == e.text for e in entities)
    assert entities[0] == Entity(text="Geneva", type="place", start=13, end=19)
    assert ("Mira Solano", "person") in [(e.text, e.type) for e in entities]


def test_entities_german_nouns_are_not_names_without_a_cue() -> None:
    text = (
        "Die Regierung hat das Gesetz im Bundestag beschlossen. Trainer Markus Vogel "
        "sprach in Köln von einer Niederlage der Mannschaft."
    )
    assert kinds(text, "de") == [
        ("Bundestag", "organisation"),
        ("Markus Vogel", "person"),
        ("Köln", "place"),
    ]


def test_entities_french_and_spanish_names_with_connectors() -> None:
    assert kinds("Le Musée d'Orsay expose Camille Pissarro à Lyon.", "fr") == [
        ("Musée d'Orsay", "organisation"),
        ("Camille Pissarro", "person"),
        ("Lyon", "place"),
    ]
    assert kinds("La exposición del Museo del Prado se abrirá en Sevilla.", "es") == [
        ("Museo del Prado", "organisation"),
        ("Sevilla", "place"),
    ]


def test_entities_sentence_openers_and_months_are_not_entities() -> None:
    assert kinds("The results were good. In March, prices rose. However, nobody came.") == []


def test_entities_unknown_capitalised_name_is_other_once() -> None:
    assert kinds("Users of PhotoVault complained; PhotoVault said sorry.") == [
        ("PhotoVault", "other")
    ]


def test_entities_hostile_input_gives_no_entities() -> None:
    assert find_entities("", "en") == ()
    assert find_entities("\x00\ufffd" * 1000 + "- - -  .", None) == ()
    many = " ".join(f"Name{i} Person{i}," for i in range(200))
    assert len(find_entities("x " + many, "en")) == 50


def test_entities_describing_nouns_type_unknown_names() -> None:
    assert kinds("Shares of the retailer Brightline fell. Le groupe de luxe Belrose a publié.") == [
        ("Brightline", "organisation"),
        ("Belrose", "organisation"),
    ]
    assert kinds("La cadena hotelera Solmar abre en la ciudad de Tarifa.", "es") == [
        ("Solmar", "organisation"),
        ("Tarifa", "place"),
    ]


def test_entities_german_describing_noun_is_cut_from_the_name() -> None:
    text = "Die Modekette Hansen schließt Filialen in der Stadt Leipzig. Die Nordbank zahlt."
    assert kinds(text, "de") == [
        ("Hansen", "organisation"),
        ("Leipzig", "place"),
        ("Nordbank", "organisation"),
    ]


def test_entities_generic_nouns_alone_are_not_names_but_institutions_are() -> None:
    text = "The Bank said rates stay. Parliament votes today. The Club of Rome met."
    assert kinds(text) == [("Parliament", "organisation"), ("Club of Rome", "organisation")]


def test_entities_short_mentions_and_joined_places() -> None:
    text = (
        "Meridian Semiconductor builds a plant. Meridian said so. "
        "The plan covers Castilla y León and Aragón."
    )
    assert kinds(text, "en") == [
        ("Meridian Semiconductor", "organisation"),
        ("Meridian", "organisation"),
        ("Castilla y León", "place"),
        ("Aragón", "place"),
    ]
