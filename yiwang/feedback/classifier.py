"""The text classifier that suggests a category (and so a department) for a feedback item.

A complement naive Bayes model (Rennie et al., 2003: multinomial naive Bayes that learns each
category from the texts of all the *other* categories, which is steadier when categories have
few examples) over jieba tokens, small enough to explain on one screen:

- a text becomes tokens: its ``jieba.lcut`` words (single Chinese characters too: ``臭``, ``吵``
  carry meaning) and the pairs of adjacent Chinese characters (bigrams, which catch words jieba's
  dictionary splits or does not know, typos and dialect: ``医保``, ``咋弄``), without
  punctuation, digits or stop words, each token counted once per text (short texts repeat
  little, and a word said twice is not twice the evidence);
- for each category c, Q(w | c) is the share of token w among the tokens of the texts *not* in c,
  with add-one (Laplace) smoothing over the vocabulary;
- a text's score for c is −Σ log Q(w | c) over its known tokens: the less its words belong to
  the other categories, the higher; the categories are ranked by it, and the scores, turned into
  probabilities with a softmax, are the confidence shown;
- the words that weighed most for the suggestion are its tokens w with the largest
  log Q(w | runner-up) − log Q(w | best): why the first category beat the second (only jieba
  words are shown, the bigrams count but read poorly).

It learns from ``data/feedback_train.tsv`` (category, tab, text), which is shipped with the code;
``data/feedback_eval.tsv`` is kept apart for measuring it (``bench/feedback_routing.py`` and
the accuracy test) and never used to train. Nothing is downloaded: jieba's dictionary is in
its package. The model is trained once per process, on first use (a fraction of a second).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba

DATA = Path(__file__).resolve().parent / "data"
TRAIN_FILE = DATA / "feedback_train.tsv"
EVAL_FILE = DATA / "feedback_eval.tsv"

_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z]+$")
STOP_WORDS = frozenset(
    line.strip()
    for line in (DATA / "stopwords.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)


def words(text: str) -> list[str]:
    """The jieba words of ``text`` the model reads (no stop words, punctuation or digits)."""
    found = []
    for word in jieba.lcut(text or ""):
        word = word.strip().lower()
        if not word or word in STOP_WORDS or not _WORD.match(word):
            continue
        if len(word) == 1 and not _HAN.match(word):
            continue
        found.append(word)
    return found


def tokens(text: str) -> list[str]:
    """The tokens the model reads of ``text``: its words and Chinese bigrams, each once, in order
    of appearance (see the module docstring)."""
    found = words(text)
    for run in _HAN_RUN.findall(text or ""):
        found += [bigram for i in range(len(run) - 1) if (bigram := run[i : i + 2]) not in STOP_WORDS]
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Suggestion:
    """Categories ranked best first with their probabilities, and why the first won."""

    ranking: tuple[tuple[str, float], ...]
    words: tuple[tuple[str, float], ...]

    @property
    def category(self) -> str:
        return self.ranking[0][0]

    @property
    def confidence(self) -> float:
        return self.ranking[0][1]

    def top(self, n: int) -> list[str]:
        return [c for c, _p in self.ranking[:n]]


class ComplementNaiveBayes:
    """Complement naive Bayes with add-one smoothing (see the module docstring)."""

    def __init__(self, examples: Iterable[tuple[str, Sequence[str]]]):
        word_counts: dict[str, Counter[str]] = {}
        for label, toks in examples:
            word_counts.setdefault(label, Counter()).update(toks)
        if len(word_counts) < 2:
            raise ValueError("the classifier needs examples of at least two categories")
        self.labels = sorted(word_counts)
        everything: Counter[str] = Counter()
        for counts in word_counts.values():
            everything.update(counts)
        self.vocabulary = frozenset(everything)
        v, total = len(self.vocabulary), sum(everything.values())
        self.log_complement: dict[str, dict[str, float]] = {}
        self.log_unseen: dict[str, float] = {}
        for c in self.labels:
            own = word_counts[c]
            denominator = total - sum(own.values()) + v
            self.log_complement[c] = {
                w: math.log((n - own.get(w, 0) + 1) / denominator) for w, n in everything.items()
            }
            self.log_unseen[c] = math.log(1 / denominator)

    def _log_q(self, c: str, word: str) -> float:
        return self.log_complement[c].get(word, self.log_unseen[c])

    def suggest(
        self, toks: Sequence[str], *, explain: int = 5, shown: frozenset[str] | None = None
    ) -> Suggestion:
        """Rank the categories for ``toks``; ``shown``: the tokens that may explain it."""
        known = [w for w in toks if w in self.vocabulary]
        scores = {c: -sum(self._log_q(c, w) for w in known) for c in self.labels}
        best = max(scores.values())
        exp = {c: math.exp(s - best) for c, s in scores.items()}
        total = sum(exp.values())
        ranking = tuple(sorted(((c, exp[c] / total) for c in self.labels), key=lambda cp: (-cp[1], cp[0])))
        first, second = ranking[0][0], ranking[1][0]
        weights = {
            w: self._log_q(second, w) - self._log_q(first, w) for w in known if shown is None or w in shown
        }
        words = tuple(
            (w, round(weight, 2))
            for w, weight in sorted(weights.items(), key=lambda wv: (-wv[1], wv[0]))[:explain]
            if weight > 0
        )
        return Suggestion(ranking=ranking, words=words)


def read_corpus(path: Path) -> list[tuple[str, str]]:
    """(category, text) pairs of a labelled corpus file: ``category<TAB>text`` a line; lines
    starting with ``#`` and blank lines are skipped."""
    pairs = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, _sep, text = line.partition("\t")
        if not text.strip():
            raise ValueError(f"{path.name}: a line without a tab-separated text: {line[:40]!r}")
        pairs.append((label.strip(), text.strip()))
    return pairs


def train(pairs: Iterable[tuple[str, str]]) -> ComplementNaiveBayes:
    return ComplementNaiveBayes((label, tokens(text)) for label, text in pairs)


_model: ComplementNaiveBayes | None = None
_lock = threading.Lock()


def model() -> ComplementNaiveBayes:
    """The model trained on the shipped training corpus (once per process)."""
    global _model  # noqa: PLW0603 — one model per process, built on first use
    if _model is None:
        with _lock:
            if _model is None:
                _model = train(read_corpus(TRAIN_FILE))
    return _model


def suggest(text: str) -> Suggestion:
    """The categories for ``text``, best first, and the words that weighed most."""
    return model().suggest(tokens(text), shown=frozenset(words(text)))
