"""ROUGE-L: how much of a reference summary a candidate covers, in order (Lin, 2004).

Our own few lines rather than `rouge-score`: its tokenizer keeps only [a-z0-9], so "für",
"été" and "año" lose their letters, and it brings nltk, absl and numpy for no other use.
"""

from dataclasses import dataclass

from shared.pipeline.lexicon import tokenize


@dataclass(frozen=True)
class RougeL:
    """Precision and recall of the longest common subsequence of words, and their F1."""

    precision: float
    recall: float
    f1: float


def rouge_l(candidate: str, reference: str) -> RougeL:
    """ROUGE-L of `candidate` against `reference` over lower-cased words of any script.

    F is the balanced F1 (β = 1) that rouge-score reports; no stemming, no stopword removal.
    """
    got, wanted = tokenize(candidate), tokenize(reference)
    common = lcs_length(got, wanted)
    if common == 0:
        return RougeL(0.0, 0.0, 0.0)
    precision, recall = common / len(got), common / len(wanted)
    return RougeL(precision, recall, 2 * precision * recall / (precision + recall))


def lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence of two word lists."""
    # One row of the dynamic-programming table at a time: O(len(a)·len(b)) time, O(len(b))
    # memory.
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]
