"""The classifier on the evaluation set it never learned from, and its rules."""

from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.feedback import classifier
from yiwang.feedback.models import Category

# The floor the shipped model must stay above (measured: see docs/benchmarks.md).
TOP1_FLOOR = 0.82
TOP3_FLOOR = 0.94


def test_the_corpus_is_large_and_the_evaluation_set_is_kept_apart():
    train = classifier.read_corpus(classifier.TRAIN_FILE)
    held_out = classifier.read_corpus(classifier.EVAL_FILE)
    assert len(train) + len(held_out) >= 1500
    assert len(held_out) >= 500
    assert not {t for _c, t in train} & {t for _c, t in held_out}
    assert {c for c, _t in train} == {c for c, _t in held_out} == set(Category.values)


def test_accuracy_on_the_held_out_set_stays_above_the_floor():
    held_out = classifier.read_corpus(classifier.EVAL_FILE)
    top1 = top3 = 0
    for label, text in held_out:
        suggestion = classifier.suggest(text)
        top1 += suggestion.category == label
        top3 += label in suggestion.top(3)
    assert top1 / len(held_out) >= TOP1_FLOOR
    assert top3 / len(held_out) >= TOP3_FLOOR


def test_the_suggestion_explains_itself_with_words_of_the_text():
    suggestion = classifier.suggest("医保卡在外地医院不能直接结算，报销太麻烦")
    assert suggestion.category == Category.MEDICAL_INSURANCE
    assert suggestion.words
    assert all(word in "医保卡在外地医院不能直接结算，报销太麻烦" for word, _w in suggestion.words)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gets_a_full_ranking_that_sums_to_one(text):
    suggestion = classifier.suggest(text)
    assert sorted(c for c, _p in suggestion.ranking) == sorted(Category.values)
    assert abs(sum(p for _c, p in suggestion.ranking) - 1) < 1e-6
    probabilities = [p for _c, p in suggestion.ranking]
    assert probabilities == sorted(probabilities, reverse=True)
