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
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

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
        "怎么办",
        "咋办",
        "咋",
        "啥",
        "哪些",
        "办什么",
        "要什么",
        "上",
        "开",
        "多久",
        "多少",
        "能不能",
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


@lru_cache(maxsize=1)
def _variants() -> tuple[dict[int, str], tuple[tuple[str, str], ...]]:
    """(character table, word replacements longest first) from data/variants.json."""
    data = json.loads((DATA_DIR / "variants.json").read_text(encoding="utf-8"))
    chars = {ord(k): v for k, v in data["characters"].items()}
    words = sorted(data["words"].items(), key=lambda kv: -len(kv[0]))
    return chars, tuple(words)


def normalize_query(text: str) -> str:
    """:func:`normalize`, then what people type told apart from what the catalog writes:
    traditional characters as simplified and common misspellings (身分证, 户囗) corrected."""
    chars, words = _variants()
    text = normalize(text).translate(chars)
    for wrong, right in words:
        if wrong in text:
            text = text.replace(wrong, right)
    return text


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
    direct: int = 1  # the first ``direct`` alternatives are the word and its sub-words; then synonyms
    strong: int = 99  # alternatives from ``strong`` on are synonyms of a sub-word only (weaker)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    terms: tuple[Term, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not self.terms

    @property
    def words(self) -> frozenset[str]:
        """Every word the query looks for, its synonyms' included."""
        return frozenset(w for t in self.terms for alt in t.alternatives for w in (t.word, *alt))

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
    """The words of a synonym's expansion, all required. A long word is replaced by its
    sub-words: the index holds 食品经营许可 as 食品 经营 许可 食品经营许可, so 食品经营 must be
    looked for as 食品 and 经营."""
    words = [w for w in jieba.cut(normalize(phrase)) if w.strip()]
    kept = [w for w in words if w not in STOP_WORDS] or words
    out: list[str] = []
    for w in kept:
        subs = [s for s in jieba.cut_for_search(w) if s != w and len(s) > 1] if len(w) > 3 else []
        out += subs or [w]
    return tuple(dict.fromkeys(out))


def parse(raw: str) -> ParsedQuery:
    """Parse what a person typed. Never raises: anything that is not a word is dropped."""
    text = normalize_query((raw or "")[: MAX_QUERY_LENGTH * 2])[:MAX_QUERY_LENGTH]
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
        direct = len(alternatives)
        # Synonyms of the word, or when it has none, weaker, of its sub-words (生二胎 → 二胎 → 生育登记).
        own = syns.get(word, ())
        sources = (word,) if own else (alternatives[1] if len(alternatives) > 1 else ())
        for source in sources:
            for expansion in syns.get(source, ()):
                alt = _phrase_words(jieba, expansion)
                if alt:
                    alternatives.append(alt)
        alternatives = list(dict.fromkeys(alternatives))[:MAX_ALTERNATIVES]
        strong = len(alternatives) if own else direct
        terms.append(Term(word=word, alternatives=tuple(alternatives), direct=direct, strong=strong))
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
    basic_id: int | None = None  # one service: the basic item and its implementations

    def sql(self, *, status_index: bool = True) -> tuple[list[str], list]:
        """WHERE conditions over ``i``. ``status_index=False`` keeps the planner from driving the
        query by the status index (SQLite picks it over a more selective one otherwise)."""
        where = ["i.status = %s" if status_index else "i.status || '' = %s"]
        params: list = ["published"]
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
        if self.basic_id:
            where.append("(i.id = %s OR i.basic_item_id = %s)")
            params += [self.basic_id, self.basic_id]
        if self.theme_id:
            where.append(
                "EXISTS (SELECT 1 FROM catalog_serviceitem_themes t "
                "WHERE t.serviceitem_id = i.id AND t.theme_id = %s)"
            )
            params.append(self.theme_id)
        return where, params


@dataclass(frozen=True)
class Place:
    """Where the visitor is: their region and its ancestors (whose items serve them too)."""

    region_id: int
    ancestor_ids: tuple[int, ...] = ()

    def sql(self) -> tuple[str, list]:
        """A SQL expression: 2 for an item of the visitor's region, 1 of an ancestor, else 0."""
        if not self.ancestor_ids:
            return "CASE WHEN i.region_id = %s THEN 2 ELSE 0 END", [self.region_id]
        marks = ",".join(["%s"] * len(self.ancestor_ids))
        return (
            f"CASE WHEN i.region_id = %s THEN 2 WHEN i.region_id IN ({marks}) THEN 1 ELSE 0 END",
            [self.region_id, *self.ancestor_ids],
        )


NOWHERE = Place(region_id=0)


@dataclass
class Hits:
    ids: list[int]
    count: int  # exact up to MAX_RESULTS (groups when grouped)
    title_count: int
    capped: bool = False  # more than MAX_RESULTS items match
    relaxed: bool = False  # no item had every word: items with some of them, most first
    others: dict[int, int] = field(default_factory=dict)  # grouped: id -> other regions' items


# Ranking reads at most this many matching rows (items, or groups when grouped) per tier, on
# both databases alike: counting and sorting every match of a broad word (身份证 appears in
# most items' materials) is what costs.
MAX_RESULTS = 1000
SCAN_LIMIT = 5000  # matching rows read to group them into services, in the name tier
# The description tier comes after every name match and is ordered by region and popularity
# only; its first rows (basic items are created before their implementations) already name
# the services it adds, so it reads fewer.
BODY_SCAN_LIMIT = 2000


def _rows(sql: str, params: list) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@contextmanager
def _index_scans():
    """Keep PostgreSQL from scanning the table for the tiers' full-text matches: with a broad
    word (身份证 is in most items' materials) and the scan limit, its planner picks a sequential
    scan that reads every row's body vector; the GIN index is 3-4 times faster. One setting per
    search, put back after."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("RESET enable_seqscan")
        except DatabaseError:  # a failed transaction: its rollback undoes the setting
            pass


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


GROUP_KEY = "COALESCE(i.basic_item_id, i.id)"


@dataclass
class _Row:
    key: int  # item id, or the basic item's id when grouped
    basic: int  # the basic item's id (the service)
    members: int
    popularity: int
    local: int
    score: float = 0.0


def _tier(parsed, kind, any_term, filters, place, grouped) -> tuple[list[_Row], bool]:
    """Up to MAX_RESULTS rows matching in the tier, nearest and most used first; and whether
    more matched."""
    where, params = filters.sql()
    frm, match, match_params = _match(parsed, kind, any_term)
    local_sql, local_params = place.sql()
    if grouped:
        # Grouping reads at most SCAN_LIMIT matching rows: a service's basic item is created
        # before its implementations, so the first rows already name nearly every service.
        scan = BODY_SCAN_LIMIT if kind == "body" else SCAN_LIMIT
        sql = (
            "SELECT g, g, count(*), max(p), max(near) AS n FROM ("  # noqa: S608
            f"SELECT {GROUP_KEY} AS g, i.popularity AS p, {local_sql} AS near "
            f"FROM {frm} WHERE {match} AND {' AND '.join(where)} LIMIT {scan}) s "
            "GROUP BY g ORDER BY n DESC, max(p) DESC, g LIMIT %s"
        )
        rows = _rows(sql, [*local_params, *match_params, *params, MAX_RESULTS + 1])
        scanned = sum(r[2] for r in rows)
        return [_Row(*r) for r in rows[:MAX_RESULTS]], len(rows) > MAX_RESULTS or scanned >= scan
    sql = (
        f"SELECT i.id, {GROUP_KEY}, 1, i.popularity, {local_sql} AS near "  # noqa: S608
        f"FROM {frm} WHERE {match} AND {' AND '.join(where)} "
        f"ORDER BY near DESC, i.popularity DESC, i.id LIMIT %s"
    )
    rows = _rows(sql, [*local_params, *match_params, *params, MAX_RESULTS + 1])
    out = [_Row(*r) for r in rows[:MAX_RESULTS]]
    return out, len(rows) > MAX_RESULTS


@lru_cache(maxsize=4096)
def _service_words(name: str, aliases: str) -> tuple[frozenset[str], frozenset[str]]:
    """The segmented words of a service's name and of its aliases (cached: names repeat)."""
    return frozenset(segment(name).split()), frozenset(segment(aliases.replace(",", " ")).split())


# A word in the name counts most; in the aliases (other names people use) a little less; a
# synonym less than the word itself, a sub-word's synonym less again.
NAME_WEIGHT, ALIAS_WEIGHT, EVIDENCE_BONUS = 1.0, 0.8, 0.05
SYNONYM_FACTOR, SUBWORD_SYNONYM_FACTOR = 0.8, 0.5


def _score(parsed: ParsedQuery, name_words: frozenset[str], alias_words: frozenset[str]) -> float:
    """How well a service's name and aliases answer the query: per term, its best alternative,
    a name match above an alias match, the word itself above a synonym."""
    total = 0.0
    for term in parsed.terms:
        found = []
        for n, alt in enumerate(term.alternatives):
            factor = 1.0 if n < term.direct else SYNONYM_FACTOR if n < term.strong else SUBWORD_SYNONYM_FACTOR
            if all(w in name_words for w in alt):
                found.append(NAME_WEIGHT * factor)
            elif all(w in alias_words for w in alt):
                found.append(ALIAS_WEIGHT * factor)
        if found:  # the best alternative, and a little more for each further one that agrees
            total += max(found) + EVIDENCE_BONUS * (len(found) - 1)
    if total and name_words & LATER_ACTIONS and not name_words & LATER_ACTIONS & parsed.words:
        total -= LATER_ACTION_PENALTY  # 营业执照 asks for a licence, not for replacing a lost one
    return round(total, 3)


# What is done to something one already has; a query that names none of them asks for the
# thing itself (getting it first), so items named by one of them come after.
LATER_ACTIONS = frozenset(
    [
        "补领",
        "补办",
        "补发",
        "补证",
        "遗失",
        "挂失",
        "变更",
        "注销",
        "延续",
        "延期",
        "换领",
        "换发",
        "换证",
        "签注",
        "停发",
        "复核",
        "更正",
        "抵押",
        "校验",
        "转出",
        "转入",
        "转移",
        "备案",
    ]
)
LATER_ACTION_PENALTY = 0.5


def _rank(parsed: ParsedQuery, rows: list[_Row]) -> list[_Row]:
    from yiwang.catalog.models import ServiceItem

    basics = {r.basic for r in rows}
    texts = {
        pk: _service_words(name, aliases)
        for pk, name, aliases in ServiceItem.objects.filter(pk__in=basics).values_list(
            "pk", "name", "aliases"
        )
    }
    for r in rows:
        if r.basic in texts:
            r.score = _score(parsed, *texts[r.basic])
    return sorted(rows, key=lambda r: (-r.score, -r.local, -r.popularity, r.key))


def _representatives(
    keys: list[int], filters: Filters, place: Place
) -> tuple[dict[int, int], dict[int, int]]:
    """For each service (basic item id) the item to show — the visitor's region's own, else an
    ancestor region's, else the most used — and how many other items offer it."""
    if not keys:
        return {}, {}
    where, params = filters.sql(status_index=False)
    cond = " AND ".join(where)
    marks = ",".join(["%s"] * len(keys))
    chosen: dict[int, tuple[int, int, int]] = {}  # service -> (near, popularity, id)
    if place.region_id:
        near_ids = [place.region_id, *place.ancestor_ids]
        local_sql, local_params = place.sql()
        region_marks = ",".join(["%s"] * len(near_ids))
        sql = (
            f"SELECT i.id, {GROUP_KEY}, {local_sql}, i.popularity FROM catalog_serviceitem i "  # noqa: S608
            f"WHERE i.region_id IN ({region_marks}) AND {cond} "
            f"AND (i.basic_item_id IN ({marks}) OR i.id IN ({marks}))"
        )
        for pk, g, near, pop in _rows(sql, [*local_params, *near_ids, *params, *keys, *keys]):
            best = chosen.get(g)
            if best is None or (near, pop, -pk) > (best[0], best[1], -best[2]):
                chosen[g] = (near, pop, pk)
    # How many items offer each service (its implementations, and the basic item if shown).
    counts: dict[int, int] = {}
    own: set[int] = set()
    sql = (
        f"SELECT i.basic_item_id, count(*), 0 FROM catalog_serviceitem i "  # noqa: S608
        f"WHERE i.basic_item_id IN ({marks}) AND {cond} GROUP BY i.basic_item_id "
        f"UNION ALL SELECT i.id, 1, 1 FROM catalog_serviceitem i WHERE i.id IN ({marks}) AND {cond}"
    )
    for g, n, is_basic in _rows(sql, [*keys, *params, *keys, *params]):
        counts[g] = counts.get(g, 0) + n
        if is_basic:
            own.add(g)
    rest = [k for k in keys if k not in chosen]
    if rest:
        rest_marks = ",".join(["%s"] * len(rest))
        sql = (
            "SELECT id, g FROM (SELECT i.id, i.basic_item_id AS g, ROW_NUMBER() OVER ("  # noqa: S608
            "PARTITION BY i.basic_item_id ORDER BY i.popularity DESC, i.id) AS rn "
            f"FROM catalog_serviceitem i WHERE i.basic_item_id IN ({rest_marks}) AND {cond}) s WHERE rn = 1"
        )
        found = dict((g, pk) for pk, g in _rows(sql, [*rest, *params]))
        for k in rest:
            if k in own:
                chosen[k] = (0, 0, k)
            elif k in found:
                chosen[k] = (0, 0, found[k])
    return {g: c[2] for g, c in chosen.items()}, {g: max(0, counts.get(g, 0) - 1) for g in chosen}


def search_ids(
    parsed: ParsedQuery,
    filters: Filters | None = None,
    *,
    offset: int = 0,
    limit: int = 20,
    place: Place | None = None,
    any_term: bool = False,
    grouped: bool = False,
    relax: bool = False,
) -> Hits:
    """Ids of published items matching, best first: name/alias matches ranked by how well the
    name answers the query, then description-only matches; within each, the visitor's region
    first, then popularity. ``grouped`` returns one item per service (basic item), the one of
    the visitor's region when there is one, with how many other regions offer it. ``relax``
    falls back to items with some of the words when none has all of them."""
    filters = filters or Filters()
    place = place or NOWHERE
    limit = max(0, min(limit, MAX_RESULTS - offset))
    if parsed.is_empty:
        rows, capped = _browse(filters, place, grouped)
        title_count = 0
    else:
        with _index_scans():
            rows, capped, title_count = _tiers(parsed, filters, place, grouped, any_term)
            if not rows and relax and not any_term and len(parsed.terms) > 1:
                rows, capped, title_count = _tiers(parsed, filters, place, grouped, True)
                any_term = True
    page = rows[offset : offset + limit]
    if not grouped:
        return Hits([r.key for r in page], len(rows), title_count, capped, any_term)
    chosen, more = _representatives([r.key for r in page], filters, place)
    ids = [chosen[r.key] for r in page if r.key in chosen]
    others = {chosen[r.key]: more[r.key] for r in page if r.key in chosen}
    return Hits(ids, len(rows), title_count, capped, any_term, others)


def _browse(filters: Filters, place: Place, grouped: bool) -> tuple[list[_Row], bool]:
    where, params = filters.sql()
    local_sql, local_params = place.sql()
    if grouped:
        sql = (
            f"SELECT {GROUP_KEY}, {GROUP_KEY}, count(*), max(i.popularity), max({local_sql}) AS near "  # noqa: S608
            f"FROM catalog_serviceitem i WHERE {' AND '.join(where)} GROUP BY {GROUP_KEY} "
            f"ORDER BY near DESC, max(i.popularity) DESC, {GROUP_KEY} LIMIT %s"
        )
    else:
        sql = (
            f"SELECT i.id, {GROUP_KEY}, 1, i.popularity, {local_sql} AS near "  # noqa: S608
            f"FROM catalog_serviceitem i WHERE {' AND '.join(where)} "
            f"ORDER BY near DESC, i.popularity DESC, i.id LIMIT %s"
        )
    rows = _rows(sql, [*local_params, *params, MAX_RESULTS + 1])
    return [_Row(*r) for r in rows[:MAX_RESULTS]], len(rows) > MAX_RESULTS


def _tiers(parsed, filters, place, grouped, any_term) -> tuple[list[_Row], bool, int]:
    """Name/alias matches ranked, then description-only matches; at most MAX_RESULTS rows."""
    title, capped = _tier(parsed, "title", any_term, filters, place, grouped)
    title = _rank(parsed, title)
    rows = list(title)
    # A capped name tier already says "more than N": the description tier would only add to
    # a count that is not shown exactly, after results nobody pages to.
    if len(rows) < MAX_RESULTS and not capped:
        body, body_capped = _tier(parsed, "body", any_term, filters, place, grouped)
        seen = {r.key for r in rows}
        rows += [r for r in body if r.key not in seen]
        capped = capped or body_capped or len(rows) > MAX_RESULTS
        rows = rows[:MAX_RESULTS]
    return rows, capped, len(title)


# PostgreSQL: stored generated tsvector columns over the segmented text, GIN-indexed (created by
# the initial migration). They avoid recomputing to_tsvector for every candidate row.
PG_TITLE = "i.search_title_tsv"
PG_FULL = "i.search_tsv"
