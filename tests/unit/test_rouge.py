"""ROUGE-L over word subsequences, on the examples of Lin (2004) and in the four languages."""

import pytest

from tools.quality.rouge import RougeL, lcs_length, rouge_l


def test_rouge_l_scores_lins_examples() -> None:
    # Lin's paper: against "police killed the gunman", S2 keeps 3 of 4 words in order
    # ("police … the gunman"), S3 only 2 ("the gunman").
    reference = "police killed the gunman"
    assert rouge_l("police kill the gunman", reference) == RougeL(0.75, 0.75, 0.75)
    assert rouge_l("the gunman kill police", reference) == RougeL(0.5, 0.5, 0.5)


def test_rouge_l_weighs_precision_and_recall_equally() -> None:
    # 3 common words in order; 3/6 of the candidate, 3/4 of the reference.
    score = rouge_l("Police said the gunman had fled.", "Police killed the gunman")
    assert score.precision == pytest.approx(3 / 6)
    assert score.recall == pytest.approx(3 / 4)
    assert score.f1 == pytest.approx(2 * 0.5 * 0.75 / 1.25)


def test_rouge_l_keeps_letters_of_every_language() -> None:
    # An ASCII-only tokenizer would split "für" into "f", "r" and count "año" as "a", "o".
    assert rouge_l("Ein Sieg für Köln", "Ein Sieg für Köln").f1 == 1.0
    assert rouge_l("el año pasado", "el ano pasado").recall == pytest.approx(2 / 3)
    assert rouge_l("L'été a été chaud", "l'été chaud").recall == 1.0


def test_rouge_l_of_nothing_is_zero() -> None:
    assert rouge_l("", "a reference") == RougeL(0.0, 0.0, 0.0)
    assert rouge_l("a candidate", "") == RougeL(0.0, 0.0, 0.0)
    assert rouge_l("no words shared", "entirely different text") == RougeL(0.0, 0.0, 0.0)


def test_lcs_length_finds_the_longest_subsequence_not_the_longest_run() -> None:
    assert lcs_length(list("abcbdab"), list("bdcaba")) == 4  # "bcba", the textbook case
    assert lcs_length([], ["a"]) == 0
