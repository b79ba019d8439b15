"""The 双随机 draw: deterministic, documented (docs/supervision.md), and free of Django, so the
replay command, the benchmark and anyone holding the published inputs compute the same thing.

Inputs (published with every draw, canonical JSON):
    {"version": 1, "plan": 7, "ratios": {"A": 100, "B": 500, "C": 2000, "D": 10000},
     "k": 2, "entities": [["91610100…", "B"], …], "inspectors": ["I12", …],
     "conflicts": [["I12", "91610100…"], …]}
``ratios`` are basis points (1/10,000) per credit tier; ``k`` inspectors per entity; entities and
inspectors are sorted and unique; a conflict keeps an inspector from one entity.

The draw, with ``seed`` 32 bytes and ``H(label, x) = HMAC-SHA256(seed, label + x)``:
1. per tier t with n_t entities, take ``ceil(n_t × ratio_t / 10000)`` entities: those with the
   smallest ``H("entity:", credit code)``;
2. order every entity taken by that same value (ties cannot happen between distinct codes in
   practice; the code breaks them);
3. order the inspectors by ``H("inspector:", inspector code)`` into a ring; walk the entities in
   order with one cursor on the ring: for each, take the next ``k`` inspectors on the ring that
   do not conflict with it (skipping those that do), and leave the cursor after the last one
   looked at. Every inspector gets a near-equal share; the cursor never needs more than one turn.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

TIERS = ("A", "B", "C", "D")
MAX_BASIS_POINTS = 10_000
VERSION = 1
SEED_LABEL = b"yiwang/supervision/draw-seed/v1"
_ENTITY, _INSPECTOR = b"entity:", b"inspector:"


class DrawInfeasibleError(ValueError):
    """The inputs admit no draw that keeps every rule (see ``problems``)."""


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def digest(value) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def pack(inputs: Mapping) -> bytes:
    return zlib.compress(canonical(inputs), 6)


def unpack(blob: bytes | memoryview) -> dict:
    return json.loads(zlib.decompress(bytes(blob)))


def make_inputs(
    *,
    plan: int,
    ratios: Mapping[str, int],
    k: int,
    entities: Iterable[tuple[str, str]],
    inspectors: Iterable[str],
    conflicts: Iterable[tuple[str, str]],
) -> dict:
    """The canonical inputs: sorted, unique, only conflicts between pool and population kept."""
    ents = sorted({code: tier for code, tier in entities}.items())
    pool = sorted(set(inspectors))
    codes, members = {c for c, _ in ents}, set(pool)
    confl = sorted({(i, c) for i, c in conflicts if i in members and c in codes})
    return {
        "version": VERSION,
        "plan": int(plan),
        "ratios": {t: int(ratios.get(t, 0)) for t in TIERS},
        "k": int(k),
        "entities": [list(e) for e in ents],
        "inspectors": pool,
        "conflicts": [list(c) for c in confl],
    }


def derive_seed(
    *, plan: int, inputs_digest: str, commit_leaf_index: int, tree_size: int, timestamp: int, root_hash: bytes
) -> str:
    """The seed of a plan: SHA-256 over the plan, its committed inputs' digest, the index of the
    commitment entry in the audit log and a signed tree head of that log which includes it."""
    if tree_size <= commit_leaf_index:
        raise ValueError("the tree head must include the plan's commitment entry")
    text = f"|{plan}|{inputs_digest}|{commit_leaf_index}|{tree_size}|{timestamp}|".encode()
    return hashlib.sha256(SEED_LABEL + text + root_hash).hexdigest()


def quota(count: int, basis_points: int) -> int:
    """How many of ``count`` entities a ratio takes: rounded up, so a ratio above 0 takes one."""
    return (count * basis_points + MAX_BASIS_POINTS - 1) // MAX_BASIS_POINTS


def problems(inputs: Mapping, counts: Mapping[str, int] | None = None) -> list[tuple[str, object]]:
    """Why no draw can be made from ``inputs`` ([] when one can): ('ratio', tier) for a ratio out
    of 0..10000, ('k', k) for fewer than two inspectors per entity, ('pool', size) for a pool
    smaller than k, ('empty', None) when the ratios take nobody, ('short', [codes]) for entities
    with fewer than k inspectors free of conflict."""
    found: list[tuple[str, object]] = []
    ratios, k = inputs["ratios"], inputs["k"]
    found += [("ratio", t) for t in TIERS if not 0 <= int(ratios.get(t, 0)) <= MAX_BASIS_POINTS]
    if k < 2:
        found.append(("k", k))
    pool = len(inputs["inspectors"])
    if pool < k:
        found.append(("pool", pool))
    if counts is None:
        counts = dict.fromkeys(TIERS, 0)
        for _code, tier in inputs["entities"]:
            counts[tier] += 1
    if not found and sum(quota(counts[t], int(ratios.get(t, 0))) for t in TIERS) == 0:
        found.append(("empty", None))
    conflicted: dict[str, int] = {}
    for _inspector, code in inputs["conflicts"]:
        conflicted[code] = conflicted.get(code, 0) + 1
    short = sorted(code for code, n in conflicted.items() if pool - n < k)
    if short and pool >= k:
        found.append(("short", short))
    return found


def _pads(key: bytes):
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104); the same bytes as ``hmac.digest(key, message, "sha256")``."""
    return ranks(key, b"", [message.decode()])[0]


def ranks(key: bytes, label: bytes, values: Sequence[str], *, tagged: bool = False) -> list[bytes]:
    """``HMAC-SHA256(key, label + value)`` of every value, with the padded key's two hash states
    computed once (three times faster than ``hmac.digest`` a million times). ``tagged``: each
    followed by the value's UTF-8 bytes, so that sorting them sorts the values by rank."""
    inner, outer = _pads(key)
    inner.update(label)  # the label is the start of every message: hash it once
    icopy, ocopy = inner.copy, outer.copy
    out = []
    append = out.append
    for value in values:
        encoded = value.encode()
        i = icopy()
        i.update(encoded)
        o = ocopy()
        o.update(i.digest())
        append(o.digest() + encoded if tagged else o.digest())
    return out


def _smallest(values: list[bytes], m: int) -> list[bytes]:
    """The ``m`` smallest of ``values`` in order. HMACs are uniform, so the m smallest are almost
    surely below a bound a little above m/n of the range: keep those below it and sort only them
    (a full sort when, unluckily, fewer than m are). The same result as sorting everything."""
    n = len(values)
    if m >= n:
        return sorted(values)
    share = (m * 1.1 + 64) / n
    if share < 0.5:
        bound = int(share * 2**64).to_bytes(8, "big")
        below = [v for v in values if v < bound]
        if len(below) >= m:
            below.sort()
            return below[:m]
    values.sort()
    return values[:m]


@dataclass(frozen=True)
class Assignment:
    credit_code: str
    tier: str
    inspectors: tuple[str, ...]


def run(inputs: Mapping, seed_hex: str) -> list[Assignment]:
    """The draw of ``inputs`` under ``seed_hex`` (see the module docstring). Raises
    ``DrawInfeasibleError`` when ``problems`` finds any."""
    ratios, k = inputs["ratios"], inputs["k"]
    by_tier: dict[str, list[str]] = {t: [] for t in TIERS}
    for code, tier in inputs["entities"]:
        by_tier[tier].append(code)
    found = problems(inputs, {t: len(by_tier[t]) for t in TIERS})
    if found:
        raise DrawInfeasibleError(found)
    seed = bytes.fromhex(seed_hex)
    taken: list[bytes] = []  # HMAC (32 bytes) + credit code, so one sort orders them by rank
    tier_of: dict[str, str] = {}
    for tier in TIERS:
        codes = by_tier[tier]
        m = quota(len(codes), int(ratios[tier]))
        if not m:
            continue
        ranked = _smallest(ranks(seed, _ENTITY, codes, tagged=True), m)
        taken.extend(ranked)
        tier_of.update((r[32:].decode(), tier) for r in ranked)
    taken.sort()
    pool = inputs["inspectors"]
    ring = [i for _h, i in sorted(zip(ranks(seed, _INSPECTOR, pool), pool, strict=True))]
    conflicts: dict[str, set[str]] = {}
    for inspector, code in inputs["conflicts"]:
        conflicts.setdefault(code, set()).add(inspector)
    size, cursor = len(ring), 0
    result = []
    for tagged in taken:
        code = tagged[32:].decode()
        tier = tier_of[code]
        barred = conflicts.get(code, ())
        chosen: list[str] = []
        looked = 0
        while len(chosen) < k:  # problems() guaranteed k free inspectors on the ring
            inspector = ring[(cursor + looked) % size]
            looked += 1
            if inspector not in barred:
                chosen.append(inspector)
        cursor = (cursor + looked) % size
        result.append(Assignment(code, tier, tuple(chosen)))
    return result


def result_json(result: Sequence[Assignment]) -> list:
    return [[a.credit_code, a.tier, list(a.inspectors)] for a in result]


def violations(inputs: Mapping, result: Sequence[Assignment]) -> list[str]:
    """Every rule the result breaks ([] when none): k distinct inspectors per entity from the pool,
    no conflict, each entity of the population at most once, exactly the quota of every tier."""
    out = []
    tiers = {code: tier for code, tier in inputs["entities"]}
    pool = set(inputs["inspectors"])
    barred = {(c, i) for i, c in inputs["conflicts"]}
    seen: set[str] = set()
    counts = dict.fromkeys(TIERS, 0)
    for a in result:
        if a.credit_code in seen:
            out.append(f"{a.credit_code} drawn twice")
        seen.add(a.credit_code)
        if tiers.get(a.credit_code) != a.tier:
            out.append(f"{a.credit_code} is not in the population with tier {a.tier}")
        counts[a.tier] = counts.get(a.tier, 0) + 1
        if len(set(a.inspectors)) != inputs["k"] or len(a.inspectors) != inputs["k"]:
            out.append(f"{a.credit_code} has not {inputs['k']} distinct inspectors")
        out += [f"{i} is not in the pool" for i in a.inspectors if i not in pool]
        out += [f"{i} conflicts with {a.credit_code}" for i in a.inspectors if (a.credit_code, i) in barred]
    population = dict.fromkeys(TIERS, 0)
    for tier in tiers.values():
        population[tier] += 1
    for tier in TIERS:
        want = quota(population[tier], int(inputs["ratios"][tier]))
        if counts.get(tier, 0) != want:
            out.append(f"tier {tier}: {counts.get(tier, 0)} drawn, the ratio takes {want}")
    return out


def replay_bundle(bundle: Mapping) -> tuple[bool, str]:
    """Check a published draw (the JSON of ``GET /api/supervision/draws/{id}/replay``) from its own
    contents: the inputs' digest, the seed's derivation from the tree head, then the draw itself
    against the published result. Returns (identical, what was found). Checking the tree head's
    signature and that the commitment entry is in the log is the audit log's part (docs/audit.md)."""
    import base64

    inputs = bundle["inputs"]
    if digest(inputs) != bundle["inputs_digest"]:
        return False, "the inputs do not match their committed digest"
    head = bundle["tree_head"]
    try:
        seed = derive_seed(
            plan=inputs["plan"],
            inputs_digest=bundle["inputs_digest"],
            commit_leaf_index=bundle["commit_leaf_index"],
            tree_size=head["tree_size"],
            timestamp=head["timestamp"],
            root_hash=base64.b64decode(head["root_hash"]),
        )
    except ValueError as exc:
        return False, str(exc)
    if seed != bundle["seed"]:
        return False, "the seed does not follow from the tree head"
    result = result_json(run(inputs, seed))
    if result != bundle["result"]:
        differ = sum(1 for a, b in zip(result, bundle["result"], strict=False) if a != b)
        return False, f"the recomputed draw differs from the published result ({differ} rows differ)"
    if digest(result) != bundle["result_digest"]:
        return False, "the result does not match its recorded digest"
    return True, f"{len(result)} entities and their inspectors, result digest {bundle['result_digest']}"
