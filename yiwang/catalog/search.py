"""Chinese full-text search over the catalog.

Neither SQLite nor PostgreSQL segments Chinese, so the text is segmented in Python with
jieba (``cut_for_search``) into two stored columns of space-separated words:
``search_title`` (name + aliases) and ``search_body`` (description, conditions, material
names, department name). SQLite indexes them in an FTS5 table (``catalog_item_fts``, rowid =
item id) that :func:`index_items` keeps in sync; PostgreSQL has GIN expression indexes on
``to_tsvector('simple', …)`` of the same columns (both created by the initial migration).

A query is parsed once into a :class:`ParsedQuery` — terms joined by AND, each term a set of
alternatives (the word itself, its sub-words, its synonyms), each alternative a list of words
joined by AND — and rendered for either database. Ranking is tiered: items whose name or
aliases match come first, ranked, then items that match only in the body, by popularity;
ties go to the user's region, then popularity.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
FTS_TABLE = "catalog_item_fts"
MAX_QUERY_LENGTH = 100  # characters a person may type; longer input is refused by forms and the API
MAX_TERMS = 8
MAX_ALTERNATIVES = 8

# Words that carry no meaning in a request ("我要办理…", "怎么申请…"); removed from queries.
STOP_WORDS = frozenset(
    [
        "办理",
        "办",
        "申请",
        "我要",
        "我想",
        "想要",
        "想",
        "要",
        "怎么",
        "怎么样",
        "怎样",
        "如何",
        "的",
        "了",
        "吗",
        "呢",
        "啊",
        "吧",
        "我",
        "你",
        "在",
        "去",
        "到",
        "哪里",
        "哪儿",
        "在哪",
        "在哪里",
        "需要",
        "一下",
        "什么",
        "想开",
        "想办",
        "开一家",
        "开个",
        "办个",
        "可以",
        "能",
        "能否",
        "请问",
        "请",
        "帮",
        "帮我",
        "一个",
        "一家",
        "个",
        "和",
        "与",
        "及",
        "或",
        "是",
        "有",
        "有关",
        "相关",
        "手续",
        "流程",
        "该",
        "应该",
    ]
)

_WORD = re.compile(r"[^\w]+|_", re.UNICODE)


# --- jieba, once per process ---------------------------------------------------------------
_jieba_lock = threading.Lock()
_jieba_ready = False


def ensure_jieba():
    """Initialise jieba once per process (~1 s) with its cache in settings.JIEBA_CACHE_DIR and
    the domain words and synonym terms added as user words."""
    global _jieba_ready
    import jieba

    if _jieba_ready:
        return jieba
    with _jieba_lock:
        if _jieba_ready:
            return jieba
        cache_dir = Path(settings.JIEBA_CACHE_DIR)
        cache_dir.mkdir(parents=True, exist_ok=True)
        jieba.setLogLevel(logging.WARNING)
        jieba.dt.tmp_dir = str(cache_dir)
        jieba.initialize()
        for word in _domain_words():
            jieba.add_word(word)
        for term in _file_synonyms():
            jieba.add_word(term)
        _jieba_ready = True
    return jieba


@lru_cache(maxsize=1)
def _domain_words() -> tuple[str, ...]:
    path = DATA_DIR / "user_words.txt"
    words = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return tuple(w for w in words if w and not w.startswith("#"))


@lru_cache(maxsize=1)
def _file_synonyms() -> dict[str, tuple[str, ...]]:
    data = json.loads((DATA_DIR / "synonyms.json").read_text(encoding="utf-8"))
    return {term: tuple(expansions) for term, expansions in data.items()}


_db_synonyms: dict[str, tuple[str, ...]] | None = None
_db_synonyms_loaded_at = 0.0
SYNONYM_TTL_SECONDS = 60


def synonyms() -> dict[str, tuple[str, ...]]:
    """Built-in synonyms (data/synonyms.json) merged with the Synonym table (cached for a minute)."""
    global _db_synonyms, _db_synonyms_loaded_at
    if _db_synonyms is None or time.monotonic() - _db_synonyms_loaded_at > SYNONYM_TTL_SECONDS:
        from yiwang.catalog.models import Synonym

        jieba = ensure_jieba()
        loaded = {}
        for syn in Synonym.objects.all():
            loaded[syn.term] = tuple(syn.expansion_list)
            jieba.add_word(syn.term)
        _db_synonyms, _db_synonyms_loaded_at = loaded, time.monotonic()
    merged = dict(_file_synonyms())
    for term, expansions in _db_synonyms.items():
        merged[term] = tuple(dict.fromkeys(merged.get(term, ()) + expansions))
    return merged


def clear_caches() -> None:
    """Forget cached synonyms (call after changing the Synonym table)."""
    global _db_synonyms
    _db_synonyms = None


# --- text --------------------------------------------------------------------------------
def normalize(text: str) -> str:
    """NFKC, lower case, control characters and every non-word character (FTS syntax, quotes,
    punctuation) turned into spaces. What is left is safe to quote in any query language."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(_WORD.sub(" ", text).lower().split())


def segment(text: str, memo: dict[str, str] | None = None) -> str:
    """Segmented text for the index: jieba search-mode words separated by spaces.

    ``normalize`` leaves words separated by single spaces, and jieba cuts each run of word
    characters on its own, so the text is segmented word run by word run; ``memo`` keeps the
    runs already segmented (items of one batch repeat their departments, conditions and
    materials), which gives the same result as segmenting the whole text."""
    jieba = ensure_jieba()
    clean = normalize(text)
    if not clean:
        return ""
    if memo is None:
        return " ".join(w for w in jieba.cut_for_search(clean) if w.strip())
    parts = []
    for run in clean.split(" "):
        words = memo.get(run)
        if words is None:
            words = memo[run] = " ".join(w for w in jieba.cut_for_search(run) if w.strip())
        if words:
            parts.append(words)
    return " ".join(parts)


def segment_pair(pair: tuple[str, str], memo: dict[str, str] | None = None) -> tuple[str, str]:
    return segment(pair[0], memo), segment(pair[1], memo)


def _segment_chunk(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    memo: dict[str, str] = {}  # one batch only: the dictionary may gain words between batches
    return [segment_pair(p, memo) for p in pairs]


# --- parsed query ------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    word: str
    alternatives: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    terms: tuple[Term, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not self.terms

    def fts5(self, *, any_term: bool = False, title_only: bool = False) -> str:
        """The query in SQLite FTS5 syntax (every word quoted)."""
        joiner = " OR " if any_term else " AND "
        expr = joiner.join(
            "(" + " OR ".join("(" + " AND ".join(f'"{w}"' for w in alt) + ")" for alt in t.alternatives) + ")"
            for t in self.terms
        )
        return f"title : ({expr})" if title_only else f"({expr})"

    def tsquery(self, *, any_term: bool = False) -> str:
        """The query in PostgreSQL to_tsquery syntax (every word quoted)."""
        joiner = " | " if any_term else " & "
        return joiner.join(
            "(" + " | ".join("(" + " & ".join(f"'{w}'" for w in alt) + ")" for alt in t.alternatives) + ")"
            for t in self.terms
        )

    def matches_tokens(self, tokens: set[str]) -> int:
        """How many terms a set of segmented words satisfies (used for the few bundles)."""
        return sum(1 for t in self.terms if any(all(w in tokens for w in alt) for alt in t.alternatives))


def _phrase_words(jieba, phrase: str) -> tuple[str, ...]:
    words = [w for w in jieba.cut(normalize(phrase)) if w.strip()]
    kept = [w for w in words if w not in STOP_WORDS]
    return tuple(kept or words)


def parse(raw: str) -> ParsedQuery:
    """Parse what a person typed. Never raises: anything that is not a word is dropped."""
    text = normalize((raw or "")[: MAX_QUERY_LENGTH * 2])[:MAX_QUERY_LENGTH]
    if not text:
        return ParsedQuery(text="")
    jieba = ensure_jieba()
    syns = synonyms()
    words = [w for w in jieba.cut(text) if w.strip()]
    kept = [w for w in words if w not in STOP_WORDS] or words
    terms: list[Term] = []
    seen: set[str] = set()
    for word in kept:
        if word in seen:
            continue
        seen.add(word)
        alternatives: list[tuple[str, ...]] = [(word,)]
        if len(word) > 2:
            subs = tuple(w for w in jieba.cut_for_search(word) if w != word and len(w) > 1)
            if subs:
                alternatives.append(subs)
        for expansion in syns.get(word, ()):
            alt = _phrase_words(jieba, expansion)
            if alt:
                alternatives.append(alt)
        terms.append(Term(word=word, alternatives=tuple(dict.fromkeys(alternatives))[:MAX_ALTERNATIVES]))
        if len(terms) >= MAX_TERMS:
            break
    return ParsedQuery(text=text, terms=tuple(terms))


# --- index -------------------------------------------------------------------------------
def item_texts(item, materials: Sequence | None = None) -> tuple[str, str]:
    """(title, body) raw text of an item; materials and department should be prefetched
    (or ``materials`` given, for an item not saved yet)."""
    title = " ".join([item.name, item.aliases.replace(",", " ").replace("，", " ")])
    body = " ".join(
        [
            item.description,
            item.conditions,
            " ".join(m.name for m in (item.materials.all() if materials is None else materials)),
            item.department.name if item.department_id else "",
        ]
    )
    return title, body


def segment_items(items: Sequence, materials: Sequence[Sequence], *, workers: int | None = None) -> None:
    """Set the segmented columns of items not saved yet (bulk creation), ``materials[n]`` being
    the materials of ``items[n]``; write their FTS rows with ``write_fts`` once they have ids."""
    pairs = [item_texts(i, m) for i, m in zip(items, materials, strict=True)]
    segmented = _segment_many(pairs, workers=workers)
    for item, (title, body) in zip(items, segmented, strict=True):
        item.search_title, item.search_body = title, body


def write_fts(items: Sequence) -> None:
    """(SQLite) Write the FTS rows of saved items whose segmented columns are set."""
    if connection.vendor == "sqlite":
        _sqlite_write([(i.pk, i.search_title, i.search_body) for i in items])


def _segment_many(pairs: list[tuple[str, str]], *, workers: int | None = None) -> list[tuple[str, str]]:
    if workers is None or workers <= 1:  # segmenting runs once per word run: one process is enough
        return _segment_chunk(pairs)
    import multiprocessing

    ensure_jieba()  # initialised before the fork, so workers inherit the dictionary
    chunks = [pairs[start : start + 2000] for start in range(0, len(pairs), 2000)]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return [pair for chunk in pool.map(_segment_chunk, chunks) for pair in chunk]


def index_items(items: Sequence, *, workers: int | None = None) -> int:
    """Segment the given items, store the segmented columns and (SQLite) refresh their FTS rows.

    Call inside the transaction that changed the items. Items need ``materials`` and
    ``department`` loaded (or they are fetched one by one)."""
    from yiwang.catalog.models import ServiceItem

    items = list(items)
    if not items:
        return 0
    segmented = _segment_many([item_texts(i) for i in items], workers=workers)
    for item, (title, body) in zip(items, segmented, strict=True):
        item.search_title, item.search_body = title, body
    ServiceItem.objects.bulk_update(items, ["search_title", "search_body"], batch_size=500)
    if connection.vendor == "sqlite":
        _sqlite_write([(i.pk, i.search_title, i.search_body) for i in items])
    return len(items)


def _sqlite_write(rows: list[tuple[int, str, str]]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            ids = [r[0] for r in chunk]
            cursor.execute(
                f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({','.join(['%s'] * len(ids))})",  # noqa: S608
                ids,
            )
            cursor.executemany(f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (%s, %s, %s)", chunk)  # noqa: S608


def unindex_items(ids: Iterable[int]) -> None:
    ids = list(ids)
    if ids and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({','.join(['%s'] * len(ids))})", ids)  # noqa: S608


def reindex_all(*, workers: int | None = None, chunk: int = 2000, stdout=None) -> int:
    """Re-segment every item (after the dictionary or synonyms changed)."""
    from django.db import transaction

    from yiwang.catalog.models import LifeEvent, ServiceItem

    synonyms()  # the Synonym table's terms become jieba words before anything is segmented
    ids = list(ServiceItem.objects.order_by("pk").values_list("pk", flat=True))
    if workers is None:
        workers = 2 if len(ids) > 5000 else 1
    total = 0
    with transaction.atomic():
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {FTS_TABLE}")  # noqa: S608
        for start in range(0, len(ids), chunk):
            batch = list(
                ServiceItem.objects.filter(pk__in=ids[start : start + chunk])
                .select_related("department")
                .prefetch_related("materials")
            )
            total += index_items(batch, workers=workers)
            if stdout is not None:
                stdout.write(f"  indexed {total} / {len(ids)}")
        for bundle in LifeEvent.objects.all():
            bundle.search_text = segment(
                " ".join([bundle.name, bundle.summary, bundle.keywords.replace(",", " ")])
            )
            bundle.save(update_fields=["search_text"])
    return total


# --- search ------------------------------------------------------------------------------
@dataclass
class Filters:
    department_id: int | None = None
    theme_id: int | None = None
    region_id: int | None = None
    item_type: str | None = None
    audience: str | None = None

    def sql(self) -> tuple[list[str], list]:
        where, params = ["i.status = %s"], ["published"]
        if self.department_id:
            where.append("i.department_id = %s")
            params.append(self.department_id)
        if self.region_id:
            where.append("i.region_id = %s")
            params.append(self.region_id)
        if self.item_type:
            where.append("i.item_type = %s")
            params.append(self.item_type)
        if self.audience:
            where.append("i.service_object IN (%s, 'both')")
            params.append(self.audience)
        if self.theme_id:
            where.append(
                "EXISTS (SELECT 1 FROM catalog_serviceitem_themes t "
                "WHERE t.serviceitem_id = i.id AND t.theme_id = %s)"
            )
            params.append(self.theme_id)
        return where, params


@dataclass
class Hits:
    ids: list[int]
    count: int  # exact up to MAX_RESULTS
    title_count: int
    capped: bool = False  # more than MAX_RESULTS items match


# Counting every match of a broad word (身份证 appears in most items' materials) is what costs;
# results are counted and paged up to this many, on both databases alike.
MAX_RESULTS = 1000
ORDER = "ORDER BY CASE WHEN i.region_id = %s THEN 0 ELSE 1 END, i.popularity DESC, i.id LIMIT %s OFFSET %s"


def _rows(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _match(parsed: ParsedQuery, kind: str, any_term: bool) -> tuple[str, str, list]:
    """(FROM, WHERE, params) selecting items whose title ("title"), any text ("full") or only
    the body ("body") matches, for the current database."""
    if connection.vendor == "postgresql":
        frm = "catalog_serviceitem i CROSS JOIN to_tsquery('simple', %s) q"
        where = {
            "full": f"{PG_FULL} @@ q",
            "title": f"{PG_TITLE} @@ q",
            "body": f"{PG_FULL} @@ q AND NOT ({PG_TITLE} @@ q)",
        }[kind]
        return frm, where, [parsed.tsquery(any_term=any_term)]
    full = parsed.fts5(any_term=any_term)
    title = parsed.fts5(any_term=any_term, title_only=True)
    expr = {"full": full, "title": title, "body": f"{full} NOT {title}"}[kind]
    # CROSS JOIN fixes the join order: the full-text match drives, items are fetched by rowid.
    frm = f"{FTS_TABLE} f CROSS JOIN catalog_serviceitem i ON i.id = f.rowid"
    return frm, f"{FTS_TABLE} MATCH %s", [expr]


def _count(frm: str, where: str, params: list) -> int:
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {frm} WHERE {where} LIMIT {MAX_RESULTS + 1}) s"  # noqa: S608
    return _rows(sql, params)[0][0]


def _page(frm: str, where: str, params: list, region: int, limit: int, offset: int) -> list[int]:
    sql = f"SELECT i.id FROM {frm} WHERE {where} {ORDER}"  # noqa: S608
    return [r[0] for r in _rows(sql, [*params, region, limit, offset])]


def search_ids(
    parsed: ParsedQuery,
    filters: Filters | None = None,
    *,
    offset: int = 0,
    limit: int = 20,
    user_region_id: int | None = None,
    any_term: bool = False,
) -> Hits:
    """Ids of published items matching, in tiered order (title matches, then body-only
    matches; each by the user's region, then popularity), with the count."""
    filters = filters or Filters()
    where, params = filters.sql()
    filter_sql = " AND ".join(where)
    region = user_region_id or 0
    limit = max(0, min(limit, MAX_RESULTS - offset))
    if parsed.is_empty:
        frm = "catalog_serviceitem i"
        count = _count(frm, filter_sql, params)
        ids = _page(frm, filter_sql, params, region, limit, offset) if limit else []
        return Hits(ids, min(count, MAX_RESULTS), 0, count > MAX_RESULTS)
    frm, match, match_params = _match(parsed, "full", any_term)
    count = _count(frm, f"{match} AND {filter_sql}", [*match_params, *params])
    if count == 0:
        return Hits([], 0, 0)
    frm, match, match_params = _match(parsed, "title", any_term)
    title_count = _count(frm, f"{match} AND {filter_sql}", [*match_params, *params])
    ids: list[int] = []
    if limit and offset < title_count:
        ids += _page(frm, f"{match} AND {filter_sql}", [*match_params, *params], region, limit, offset)
    if limit and len(ids) < limit and count > title_count:
        frm, match, match_params = _match(parsed, "body", any_term)
        ids += _page(
            frm,
            f"{match} AND {filter_sql}",
            [*match_params, *params],
            region,
            limit - len(ids),
            max(0, offset - title_count),
        )
    return Hits(ids, min(count, MAX_RESULTS), min(title_count, MAX_RESULTS), count > MAX_RESULTS)


# PostgreSQL: stored generated tsvector columns over the segmented text, GIN-indexed (created by
# the initial migration). They avoid recomputing to_tsvector for every candidate row.
PG_TITLE = "i.search_title_tsv"
PG_FULL = "i.search_tsv"
