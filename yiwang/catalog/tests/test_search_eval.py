"""The hand-judged evaluation set keeps the search honest: a change that makes citizens' own
words find less fails here (issue 9 §4). Runs on the tests' small demo catalog (the province
and 西安市, ten department kinds): the queries whose wanted services it holds."""

import pytest

from bench import search_eval
from yiwang.catalog import selectors
from yiwang.catalog.models import ServiceItem

pytestmark = pytest.mark.django_db

# Measured 0.994 on 146 queries, none empty, on this catalog when written; the full demo's
# figures are in docs/benchmarks.md.
PRECISION_FLOOR = 0.9


def _judged_in(catalog_codes: set[str]) -> list[search_eval.Judged]:
    out = []
    for j in search_eval.load_set():
        wanted = j.wanted & catalog_codes
        if wanted:
            out.append(search_eval.Judged(j.query, frozenset(wanted), j.area))
    return out


def test_the_evaluation_set_is_large_and_judged_against_real_services():
    judged = search_eval.load_set()
    assert len(judged) >= 150
    assert len({j.query for j in judged}) == len(judged), "each query once"
    assert len({j.area for j in judged}) >= 15


def test_citizens_words_find_what_they_want_above_the_floor(catalog):
    codes = set(ServiceItem.objects.filter(basic_item__isnull=True).values_list("code", flat=True))
    judged = _judged_in(codes)
    assert len(judged) >= 80
    province = selectors.default_region()
    outcomes = search_eval.run(judged, search_eval.page_search(province.pk))
    m = search_eval.metrics(outcomes)
    misses = [(o.judged.query, o.shown) for o in outcomes if o.precision < 1]
    assert m["zero_queries"] == []
    assert m["precision"] >= PRECISION_FLOOR, misses
