"""Offline language detection by stopword frequency."""

import pytest

from shared.pipeline.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The committee said that it would publish the report before the end of the year.", "en"),
        (
            "Der Ausschuss sagte, dass er den Bericht noch vor dem Ende des Jahres vorlegen wird.",
            "de",
        ),
        ("Le comité a dit qu'il publierait le rapport avant la fin de l'année, comme prévu.", "fr"),
        (
            "El comité dijo que publicaría el informe antes del final del año, como se esperaba.",
            "es",
        ),
    ],
)
def test_detect_language_recognises_supported_languages(text: str, expected: str) -> None:
    assert detect_language(text) == expected


@pytest.mark.parametrize("text", ["", "Hello", "Berlin Paris Madrid London", "12 34 56 78 90 11"])
def test_detect_language_returns_none_for_too_little_evidence(text: str) -> None:
    assert detect_language(text) is None


def test_detect_language_returns_none_for_unsupported_language() -> None:
    dutch = "Het is een mooie dag vandaag en wij gaan met de fiets naar het strand toe."
    assert detect_language(dutch) is None
