"""Benchmark: the name check and name search with 1,000,000 registered names, in process.

Targets (issue 3): check p95 < 5 ms, search p95 < 50 ms with 1,000,000 names.

Synthetic but realistic registry, seeded: specific parts (专名) from random bigrams of the 2,500 most common
characters of 通用规范汉字表 tier 1, a generic part (通名) drawn per category (roads, streets, lanes,
residential areas, buildings, villages, communities), placed in a random township of one of the ~2,850
real county-level divisions (data/divisions), so names spread over every county scope and every city's
built-up area. Duplicates within a scope are skipped, as the registry would refuse them.

Queries (1,000 each), mixed:
- check: a registered name in its scope (duplicate), a registered name's homophone (one character replaced
  by another with the same toneless reading), the same stem with another generic, a fresh name;
- search: exact, prefix (first two characters), one wrong character, full pinyin, initials, traditional form.

Baselines, in the same process: the check as a pandas filter over the registry table (scope and name /
pinyin / stem masks), and search as ``rapidfuzz.process.extract`` over every name (a linear scan); each run
on fewer queries (they are slow) and reported per query.

Run: ``.venv/bin/python -m bench names [N]`` (N names, default 1,000,000).
"""

from __future__ import annotations

import gc
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED_DIVISIONS = ROOT.parent / "shared" / "data" / "divisions"

CATEGORY_MIX = {  # category → share of names
    "road": 0.30,
    "street": 0.06,
    "lane": 0.06,
    "residential": 0.18,
    "building": 0.08,
    "village": 0.24,
    "community": 0.08,
}


def _percentiles(samples_s: list[float]) -> dict[str, float]:
    ms = np.asarray(samples_s) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
    }


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n: int, seed: int = 20240501):  # type: ignore[no-untyped-def]
    """Synthetic registry: IndexedName entries, the division tree, the specific-part pool, common characters."""
    stream, tree, pool, common = name_stream(n, seed)
    return list(stream), tree, pool, common


def name_stream(  # type: ignore[no-untyped-def]
    n: int, seed: int = 20240501, *, three_char_share: float = 0.0, per_character_pinyin: bool = False
):
    """Synthetic registry, one name at a time (the national-scale benchmark cannot hold them all).

    ``three_char_share``: the share of three-character specific parts (0 keeps the 1M benchmark's names);
    ``per_character_pinyin``: a specific part's pinyin joined from its characters' readings (minutes faster
    for millions of specific parts; polyphones read as single characters).
    Returns the stream of IndexedName entries, the division tree, the specific-part pool, common characters.
    """
    from geoservice.gazetteer.categories import categories
    from geoservice.gazetteer.charset import standard_table
    from geoservice.gazetteer.divisions import DivisionTree
    from geoservice.gazetteer.name_index import IndexedName, comparison_form
    from geoservice.gazetteer.romanize import initials_key, pinyin_key
    from geoservice.gazetteer.rules import scope_of
    from layers.admin import read_divisions

    rng = np.random.default_rng(seed)
    frame = read_divisions(SHARED_DIVISIONS, villages=False)
    tree = DivisionTree.from_frame(frame)
    townships = frame[frame["level"] == "township"]
    by_county: dict[str, list[str]] = defaultdict(list)
    for code, parent in zip(townships["code"], townships["parent_code"], strict=True):
        if isinstance(parent, str) and tree.get(parent) is not None and tree.get(parent).level == "county":  # type: ignore[union-attr]
            by_county[parent].append(str(code))
    counties = sorted(by_county)
    table, _ = standard_table()
    common = [c for c, tier in table.items() if tier == 1][:2500]
    # a pool of specific parts (专名) from character bigrams, Zipf-like reuse as in real registries
    pool_size = max(2000, n // 8)
    first = rng.integers(0, len(common), pool_size)
    second = rng.integers(0, len(common), pool_size)
    pool_set = {common[a] + common[b] for a, b in zip(first, second, strict=True)}
    if three_char_share:
        third = rng.integers(0, len(common), pool_size)
        longer = rng.random(pool_size) < three_char_share
        pool_set = {
            common[a] + common[b] + (common[c] if long else "")
            for a, b, c, long in zip(first, second, third, longer, strict=True)
        }
    pool = sorted(pool_set)
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.6
    weights /= weights.sum()
    if per_character_pinyin:
        readings = {c: (pinyin_key(c), initials_key(c)) for c in common}
        pool_pinyin = {
            s: ("".join(readings[c][0] for c in s), "".join(readings[c][1] for c in s)) for s in pool
        }
    else:
        pool_pinyin = {s: (pinyin_key(s), initials_key(s)) for s in pool}
    cats = list(CATEGORY_MIX)
    cat_p = np.asarray([CATEGORY_MIX[c] for c in cats])
    generic_keys = {g: (pinyin_key(g), initials_key(g)) for c in cats for g in categories()[c].generics}
    scope_cache: dict[tuple[str, str], object] = {}

    def stream():  # type: ignore[no-untyped-def]
        seen: set[int] = set()  # hashes of (scope, name): duplicates within a scope are skipped
        made = 0
        batch = 200_000
        while made < n:
            specs = rng.choice(len(pool), size=batch, p=weights)
            cat_idx = rng.choice(len(cats), size=batch, p=cat_p)
            county_idx = rng.integers(0, len(counties), size=batch)
            picks = rng.random(batch)
            for s_i, c_i, k_i, pick in zip(specs, cat_idx, county_idx, picks, strict=True):
                category = cats[c_i]
                cat = categories()[category]
                generic = cat.generics[int(pick * len(cat.generics))]
                specific = pool[s_i]
                township_codes = by_county[counties[k_i]]
                code = township_codes[int(pick * 7919) % len(township_codes)]
                key = (category, code[:6])
                scope = scope_cache.get(key)
                if scope is None:
                    scope = scope_cache[key] = scope_of(category, code, tree)
                name = specific + generic
                unique = hash((scope.code, name))  # type: ignore[attr-defined]
                if unique in seen:
                    continue
                seen.add(unique)
                sp, si = pool_pinyin[specific]
                gp, gi = generic_keys[generic]
                yield IndexedName(
                    id=f"n{made}",
                    name=name,
                    comparison=comparison_form(name),
                    category=category,
                    division_code=code,
                    scope=scope.code,  # type: ignore[attr-defined]
                    pinyin=sp + gp,
                    initials=si + gi,
                    stem=specific,
                    generic=generic,
                    series=cat.series,
                    status="current",
                )
                made += 1
                if made >= n:
                    break

    return stream(), tree, pool, common


def homophone_of(name: str, rng: np.random.Generator, by_reading: dict[str, list[str]]) -> str | None:
    """``name`` with its first character replaced by another of the same toneless reading."""
    from geoservice.gazetteer.romanize import pinyin_key

    reading = pinyin_key(name[0])
    others = [c for c in by_reading.get(reading, []) if c != name[0]]
    if not others:
        return None
    return others[int(rng.integers(0, len(others)))] + name[1:]


def make_check_queries(
    entries: list, rng: np.random.Generator, common: list[str], by_reading: dict[str, list[str]]
) -> list[tuple[str, str, str, str]]:
    """1,000 check queries (kind, name, category, division code): a registered name in its scope (duplicate),
    a homophone of one, the same stem with another generic, a fresh name."""
    picks = rng.integers(0, len(entries), 1000)
    check_queries: list[tuple[str, str, str, str]] = []
    for i, p in enumerate(picks):
        e = entries[int(p)]
        kind = ("duplicate", "homophone", "same_stem", "fresh")[i % 4]
        name = e.name
        if kind == "homophone":
            name = homophone_of(e.name, rng, by_reading) or e.name
        elif kind == "same_stem" and e.series:
            name = e.stem + ("大道" if e.generic != "大道" else "路")
        elif kind == "fresh":
            name = common[int(rng.integers(0, 2500))] + common[int(rng.integers(0, 2500))] + e.generic
        check_queries.append((kind, name, e.category, e.division_code))
    return check_queries


def make_search_queries(entries: list, rng: np.random.Generator, common: list[str]) -> list[tuple[str, str]]:
    """1,000 search queries (kind, text): exact, prefix, one wrong character, pinyin, initials, traditional."""
    import opencc

    s2t = opencc.OpenCC("s2t")
    search_queries: list[tuple[str, str]] = []
    kinds = (
        "exact",
        "prefix",
        "fuzzy",
        "pinyin",
        "initials",
        "traditional",
        "exact",
        "prefix",
        "fuzzy",
        "fuzzy",
    )
    for i, p in enumerate(rng.integers(0, len(entries), 1000)):
        e = entries[int(p)]
        kind = kinds[i % len(kinds)]
        if kind == "exact":
            q = e.name
        elif kind == "prefix":
            q = e.name[:2]
        elif kind == "fuzzy":
            pos = int(rng.integers(0, len(e.name)))
            q = e.name[:pos] + common[int(rng.integers(0, 2500))] + e.name[pos + 1 :]
        elif kind == "pinyin":
            q = e.pinyin
        elif kind == "initials":
            q = e.initials
        else:
            q = s2t.convert(e.name)
        search_queries.append((kind, q))
    return search_queries


def main(n_arg: str | None = None) -> None:
    import pandas as pd
    from rapidfuzz import fuzz, process

    from geoservice.gazetteer.name_index import NameIndex
    from geoservice.gazetteer.romanize import pinyin_key
    from geoservice.gazetteer.rules import check_name
    from geoservice.gazetteer.search import SearchIndex

    n = int(n_arg) if n_arg else 1_000_000
    rng = np.random.default_rng(7)
    t0 = time.perf_counter()
    entries, tree, _pool, common = generate(n)
    t_generate = time.perf_counter() - t0
    scopes = len({e.scope for e in entries})
    print(f"generated {len(entries):,} names over {scopes:,} scopes in {t_generate:.1f} s", flush=True)

    t0 = time.perf_counter()
    index = NameIndex(entries)
    t_index = time.perf_counter() - t0
    t0 = time.perf_counter()
    search = SearchIndex(entries)
    t_search_build = time.perf_counter() - t0
    gc.collect()
    gc.freeze()  # as NameRegistry does after building: long-lived index objects leave the cyclic GC
    print(
        f"check index {t_index:.1f} s, search index {t_search_build:.1f} s, peak RSS {_rss_mib():,.0f} MiB",
        flush=True,
    )

    by_reading: dict[str, list[str]] = defaultdict(list)
    for ch in common:
        by_reading[pinyin_key(ch)].append(ch)

    # -- check queries ---------------------------------------------------------------------------------
    check_queries = make_check_queries(entries, rng, common, by_reading)
    # warm-up on other names (a running service has its syllable caches filled)
    for e in (entries[int(p)] for p in rng.integers(0, len(entries), 300)):
        check_name(
            common[int(rng.integers(0, 2500))] + e.name,
            e.category,
            e.division_code,
            index=index,
            divisions=tree,
        )
    times, cpu_times, flagged = [], [], 0
    for _kind, name, category, code in check_queries:
        start, cpu_start = time.perf_counter(), time.thread_time()
        result = check_name(name, category, code, index=index, divisions=tree)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.thread_time() - cpu_start)
        flagged += bool(result.issues)
    check_stats = _percentiles(times)
    check_cpu = _percentiles(cpu_times)
    print(f"check: wall {check_stats} ms, cpu {check_cpu} ms, {flagged} of 1000 flagged", flush=True)

    # baseline: pandas masks over the registry table (same lookups: name, pinyin, stem within the scope)
    frame = pd.DataFrame(
        {
            "scope": [e.scope for e in entries],
            "comparison": [e.comparison for e in entries],
            "pinyin": [e.pinyin for e in entries],
            "stem": [e.stem for e in entries],
        }
    )
    base_times = []
    for _kind, name, category, code in check_queries[:100]:
        start = time.perf_counter()
        from geoservice.gazetteer.rules import scope_of

        scope = scope_of(category, code, tree).code
        in_scope = frame["scope"].to_numpy() == scope
        rows = frame[in_scope]
        _ = rows[rows["comparison"] == name]
        _ = rows[rows["pinyin"] == pinyin_key(name)]
        _ = rows[rows["stem"] == name[:2]]
        base_times.append(time.perf_counter() - start)
    base_check = _percentiles(base_times)
    print(f"check baseline (pandas filter, 100 queries): {base_check} ms", flush=True)

    # -- search queries --------------------------------------------------------------------------------
    search_queries = make_search_queries(entries, rng, common)
    for e in (entries[int(p)] for p in rng.integers(0, len(entries), 300)):  # warm-up on other names
        search.search(e.name[:2], limit=10)
    times, cpu_times = [], []
    per_kind: dict[str, list[float]] = defaultdict(list)
    found = 0
    for kind, q in search_queries:
        start, cpu_start = time.perf_counter(), time.thread_time()
        hits = search.search(q, limit=10)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        cpu_times.append(time.thread_time() - cpu_start)
        per_kind[kind].append(elapsed)
        found += bool(hits)
    search_stats = _percentiles(times)
    search_cpu = _percentiles(cpu_times)
    print(f"search: wall {search_stats} ms, cpu {search_cpu} ms, {found} of 1000 with hits", flush=True)
    for kind, samples in sorted(per_kind.items()):
        print(f"  {kind:12} p95 {_percentiles(samples)['p95']:.2f} ms", flush=True)

    names = [e.name for e in entries]
    base_times = []
    for _kind, q in search_queries[:30]:
        start = time.perf_counter()
        process.extract(q, names, scorer=fuzz.WRatio, limit=10)
        base_times.append(time.perf_counter() - start)
    base_search = _percentiles(base_times)
    print(
        f"search baseline (rapidfuzz.process.extract over all names, 30 queries): {base_search} ms",
        flush=True,
    )

    print()
    print(
        "| measure | ours wall p50 / p95 / p99 (ms) | ours CPU p95 (ms) | baseline p50 / p95 (ms) | baseline / ours (p95) |"
    )
    print("|---|---|---|---|---|")
    print(
        f"| check, {len(entries):,} names | {check_stats['p50']:.2f} / {check_stats['p95']:.2f} / {check_stats['p99']:.2f}"
        f" | {check_cpu['p95']:.2f} | {base_check['p50']:.1f} / {base_check['p95']:.1f}"
        f" | {base_check['p95'] / check_stats['p95']:.0f}× |"
    )
    print(
        f"| search, {len(entries):,} names | {search_stats['p50']:.2f} / {search_stats['p95']:.2f} / {search_stats['p99']:.2f}"
        f" | {search_cpu['p95']:.2f} | {base_search['p50']:.0f} / {base_search['p95']:.0f}"
        f" | {base_search['p95'] / search_stats['p95']:.0f}× |"
    )
    print(
        f"builds: generate {t_generate:.1f} s, check index {t_index:.1f} s, search index {t_search_build:.1f} s; "
        f"peak RSS {_rss_mib():,.0f} MiB"
    )


if __name__ == "__main__":
    main(*sys.argv[1:2])
