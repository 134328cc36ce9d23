"""Benchmark: the persisted name indexes at national scale (issue 17, item 1).

Targets: with 15,000,000 names, server start to first answer < 10 s (after the first build), check p95 < 5 ms,
search p95 < 50 ms, resident memory < 4 GB for 2 workers together, a registration through one worker seen by
the other worker's check at once.

The database (SQLite under /tmp, or PostGIS given a URL) is built once and kept: the divisions of the whole
country (province to township), then N synthetic names of ``bench.names.name_stream`` (seeded; specific parts
of two or three common characters, Zipf-like reuse, every county and city scope, 7 categories), stored by the
bulk path (``geoservice.store.name_bulk.load_rows``: 250,000 records a transaction, rows made in a second
process, then the name tables built set-wise). A later run on the same file skips the build (and rebuilds the
tables set-wise if a build stopped before they were complete).

Measured:

- start to first answer: two uvicorn processes (two workers on one database) from ``Popen`` to the first
  ``POST /names/check`` answered by each, with a bytecode cache (after one compiling start, reported apart);
- check and search p50 / p95 / p99, in process (as ``bench names``) and over HTTP through the two workers;
- RSS of both worker processes after the queries (``/proc/<pid>/status`` VmRSS);
- a registration through worker A, then worker B's check of the same name: duplicate at once;
- baseline in the same run: the in-memory indexes of before (``NameIndex`` + ``SearchIndex`` built from the
  records, as every worker did at start) on the first ``BASELINE`` records, with their check / search p95 on
  the same queries, and the growth of this process's RSS while it builds them (one worker's copy).

Run: ``.venv/bin/python -m bench name_index_scale [N] [DB] [BASELINE] [BUDGET_S] [--cold]``
(default 15,000,000 names, ``/tmp/geoservice-names-<N>.db``, baseline 1,000,000, no build budget: with one,
the build stops after that many seconds and every figure is for the names stored).

``--cold`` (as root): the kernel's page cache is dropped (``sync``, ``3 > /proc/sys/vm/drop_caches``) before
the timed checks, again before the timed searches and again before the two workers start, so those figures
are for a database read from disk, as after a reboot; without it the figures are for whatever the cache holds
(warm after a first run). The output says which.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench._officers import serve
from bench.names import SHARED_DIVISIONS, _percentiles, make_check_queries, make_search_queries, name_stream

BATCH = 250_000
#: The workers keep compiled bytecode as an installed server does (pip compiles it at install; this machine's
#: shell sets PYTHONDONTWRITEBYTECODE, which would compile every module from source at every start).
BYTECODE = {
    "PYTHONDONTWRITEBYTECODE": None,
    "PYTHONPYCACHEPREFIX": f"/tmp/geoservice-names-bench-pycache-{os.getuid()}",
}
SAMPLE_EVERY = 2_000  # one name in this many kept for the queries


#: The properties of a bench record, as a registration stores them (``ordinal`` and ``modifier`` empty).
PROPERTIES = (
    "name",
    "original",
    "specific",
    "generic",
    "stem",
    "ordinal",
    "modifier",
    "category",
    "kind",
    "class_code",
    "class_name",
    "division_code",
    "scope",
    "comparison",
    "romanized",
    "pinyin_key",
    "pinyin_initials",
    "status",
)


def _row(entry: Any) -> tuple[Any, ...]:
    """(key, the ``PROPERTIES`` texts) of one synthetic name: what ``name_bulk.load_rows`` stores."""
    from geoservice.gazetteer.categories import category

    cat = category(entry.category)
    return (
        f"{entry.scope}|{entry.comparison}",
        entry.name,
        entry.name,
        entry.stem,
        entry.generic,
        entry.stem,
        None,
        None,
        entry.category,
        entry.category,
        cat.class_code,
        cat.class_name,
        entry.division_code,
        entry.scope,
        entry.comparison,
        entry.pinyin.capitalize(),
        entry.pinyin,
        entry.initials,
        "current",
    )


def _produce(n: int, queue: Any) -> None:
    """Put batches of rows of the ``n`` synthetic names on ``queue`` (with the sampled entries), then ``None``."""
    stream = name_stream(n, three_char_share=0.25, per_character_pinyin=True)[0]
    batch: list[tuple[Any, ...]] = []
    sampled: list[Any] = []
    for i, entry in enumerate(stream):
        if i % SAMPLE_EVERY == 0:
            sampled.append(entry)
        batch.append(_row(entry))
        if len(batch) >= BATCH:
            queue.put((batch, sampled))
            batch, sampled = [], []
    if batch:
        queue.put((batch, sampled))
    queue.put(None)


def build(url: str, n: int, budget_s: float) -> tuple[list[Any], Any, list[str], float]:
    """Divisions and ``n`` names into the store at ``url`` (skipped when already there); the query sample.

    The build stops after ``budget_s`` seconds with what it stored (the figures then say how many).
    """
    from geoservice.imports import division_features
    from geoservice.store import name_bulk, name_tables, open_store
    from layers.admin import read_divisions

    stream, tree, _pool, common = name_stream(n, three_char_share=0.25, per_character_pinyin=True)
    sample: list[Any] = []
    started = time.perf_counter()
    with open_store(url) as store:
        with store.transaction(readonly=True) as tx:
            have = tx.count("place_names")
        if have:
            print(
                f"database holds {have:,} names: build skipped (query sample from the first ones)", flush=True
            )
            for i, entry in zip(range(min(have, 500_000)), stream, strict=False):
                if i % 200 == 0:
                    sample.append(entry)
            with store.transaction(readonly=True) as tx:
                _, state, _, _ = name_tables.index_state(tx)
            # a build stopped before its tables were complete ("building"); not a count that differs from the
            # build's: each run registers a name, which the tables take in without a rebuild
            if state != "ready":
                with store.transaction(user="bench") as tx:
                    name_bulk.rebuild(tx)
            return sample, tree, common, 0.0
        frame = read_divisions(SHARED_DIVISIONS, villages=False)
        with store.transaction(user="bench") as tx:
            tx.insert_many("divisions", division_features(frame), reason="bench divisions")

        # the rows are made in a second process while this one stores them (two cores)
        queue: Any = multiprocessing.get_context("fork").Queue(maxsize=3)
        producer = multiprocessing.get_context("fork").Process(target=_produce, args=(n, queue), daemon=True)
        producer.start()

        def batches() -> Iterator[list[Any]]:
            done = 0
            while (item := queue.get()) is not None:
                batch, sampled = item
                sample.extend(sampled)
                yield batch
                done += len(batch)
                if time.perf_counter() - started > budget_s:
                    print(f"  build budget of {budget_s:.0f} s spent: stopping at {done:,} names", flush=True)
                    producer.terminate()
                    return

        def told(step: str) -> None:
            print(
                f"  {time.perf_counter() - started:.0f} s: {step} (load {os.getloadavg()[0]:.1f})",
                flush=True,
            )

        # the bulk path: rows in large transactions, the name tables built set-wise after them
        stored = name_bulk.load_rows(
            store, PROPERTIES, batches(), user="bench", reason="bench names", progress=told
        )
        producer.join(timeout=5)
        print(f"  {stored:,} names indexed, gram counts taken", flush=True)
    return sample, tree, common, time.perf_counter() - started


def queries(sample: list[Any], common: list[str], seed: int = 7) -> tuple[list[tuple], list[tuple[str, str]]]:
    """1,000 check and 1,000 search queries (kind, text) on the sampled names, made as ``bench names`` does."""
    from geoservice.gazetteer.romanize import pinyin_key

    rng = np.random.default_rng(seed)
    by_reading: dict[str, list[str]] = defaultdict(list)
    for ch in common:
        by_reading[pinyin_key(ch)].append(ch)
    checks = [q[1:] for q in make_check_queries(sample, rng, common, by_reading)]
    return checks, make_search_queries(sample, rng, common)


def timed(calls: list[Any], kinds: list[str] | None = None) -> dict[str, Any]:
    """Wall-clock p50 / p95 / p99 (ms), and the CPU time's p95 (``cpu_p95``: what the load of others leaves out);
    with ``kinds`` (one per call), the wall-clock p95 of each kind too (``p95_by_kind``)."""
    samples, cpu = [], []
    for call in calls:
        start, cpu_start = time.perf_counter(), time.thread_time()
        call()
        samples.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - cpu_start)
    out: dict[str, Any] = _percentiles(samples) | {"cpu_p95": _percentiles(cpu)["p95"]}
    if kinds is not None:
        by_kind: dict[str, list[float]] = defaultdict(list)
        for kind, sample in zip(kinds, samples, strict=True):
            by_kind[kind].append(sample)
        out["p95_by_kind"] = {kind: _percentiles(s)["p95"] for kind, s in by_kind.items()}
    return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used: its start-up work without the waits for a core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drop_page_cache(cold: bool, before: str) -> None:
    """With ``cold``, write dirty pages out and drop the kernel's page cache (root only), saying so."""
    if not cold:
        return
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as exc:
        raise SystemExit(f"--cold needs root to drop the page cache: {exc}") from exc
    print(f"  page cache dropped before {before} (load {os.getloadavg()[0]:.1f})", flush=True)


def in_process(
    url: str, checks: list[tuple], searches: list[tuple[str, str]], cold: bool = False
) -> tuple[dict, dict]:
    """Check and search p50/p95/p99 (ms) over the persisted tables, in this process (``cold``: from disk)."""
    from geoservice.gazetteer import names
    from geoservice.gazetteer.name_registry import registry_for
    from geoservice.store import open_store

    with open_store(url) as store:
        search = registry_for(store).search_index()
        for name, cat, code in checks[:50]:  # warm-up: division tree, pinyin caches, connections
            names.check(store, name + "村", cat, code)
        drop_page_cache(cold, "the checks")
        check = timed([lambda q=q: names.check(store, *q) for q in checks])
        drop_page_cache(cold, "the searches")
        found = timed([lambda q=q: search.search(q, limit=10) for _, q in searches], [k for k, _ in searches])
    return check, found


def baseline(url: str, size: int, checks: list[tuple], searches: list[tuple[str, str]]) -> dict[str, Any]:
    """Before: the in-memory indexes built from the first ``size`` records (what each worker did at start)."""
    from geoservice.gazetteer.divisions import tree_for_store
    from geoservice.gazetteer.name_index import NameIndex
    from geoservice.gazetteer.name_registry import indexed_from_feature
    from geoservice.gazetteer.rules import check_name
    from geoservice.gazetteer.search import SearchIndex
    from geoservice.store import open_store

    with open_store(url) as store:
        tree = tree_for_store(store)
        rss_before = rss_mib(os.getpid())
        start = time.perf_counter()
        entries = []
        with store.transaction(readonly=True) as tx:
            for feature in tx.iter_features("place_names"):
                entry = indexed_from_feature(feature)
                if entry is not None:
                    entries.append(entry)
                if len(entries) >= size:
                    break
        index, search = NameIndex(entries), SearchIndex(entries)
        build_s = time.perf_counter() - start
        rss_growth = rss_mib(os.getpid()) - rss_before
    check = timed([lambda q=q: check_name(*q, index=index, divisions=tree) for q in checks])
    found = timed([lambda q=q: search.search(q, limit=10) for _, q in searches])
    return {"names": len(entries), "build_s": build_s, "rss_mib": rss_growth, "check": check, "search": found}


def workers(
    url: str,
    checks: list[tuple],
    searches: list[tuple[str, str]],
    common: list[str],
    workdir: Path,
    cold: bool = False,
) -> dict[str, Any]:
    """Two uvicorn workers on the database: start to first answer, HTTP p95, RSS, cross-worker visibility."""
    from contextlib import ExitStack

    from geoservice.store import open_store
    from geoservice.users import add_user

    with open_store(url) as store:
        token = add_user(store, f"bench-{time.time_ns()}", "officer")
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    name, cat, code = checks[0]
    body = {"name": name, "category": cat, "division_code": code}

    def first_answer(stack: ExitStack) -> tuple[str, int, float, float]:
        started = time.perf_counter()
        base, process = stack.enter_context(serve(url, workdir, BYTECODE))
        httpx.post(f"{base}/names/check", json=body, headers=headers, timeout=120).raise_for_status()
        return base, process.pid, time.perf_counter() - started, cpu_s(process.pid)

    with ExitStack() as stack:  # the first start after an install compiles the modules to bytecode
        out["compiling_start"] = first_answer(stack)[2:]
    drop_page_cache(cold, "the two workers start")
    with ExitStack() as stack:
        bases, pids, starts, start_cpu = [], [], [], []
        for _ in range(2):
            base, pid, wall_s, cpu = first_answer(stack)
            bases.append(base)
            pids.append(pid)
            starts.append(wall_s)
            start_cpu.append(cpu)
        out["start_s"], out["start_cpu_s"] = starts, start_cpu
        with httpx.Client(headers=headers, timeout=60) as http:
            calls = [
                lambda i=i, q=q: http.post(
                    f"{bases[i % 2]}/names/check",
                    json={"name": q[0], "category": q[1], "division_code": q[2]},
                ).raise_for_status()
                for i, q in enumerate(checks[:400])
            ]
            out["http_check"] = timed(calls)
            out["http_search"] = timed(
                [
                    lambda i=i, q=q: http.get(
                        f"{bases[i % 2]}/names/search", params={"q": q}
                    ).raise_for_status()
                    for i, (_, q) in enumerate(searches[:400])
                ]
            )
            out["rss_mib"] = [rss_mib(pid) for pid in pids]
            rng = np.random.default_rng(time.time_ns())
            fresh = "".join(common[int(i)] for i in rng.integers(0, len(common), 4)) + "路"
            body = {"name": fresh, "category": "road", "division_code": checks[0][2], "reason": "bench"}
            created = http.post(f"{bases[0]}/names", json=body)
            seen = http.post(
                f"{bases[1]}/names/check", json={k: body[k] for k in ("name", "category", "division_code")}
            )
            rules = [i["rule"] for i in seen.json().get("issues", [])]
            out["visible"] = (created.status_code, "duplicate" in rules)
    return out


def main(*args: str) -> None:
    cold = "--cold" in args
    n_arg, db_arg, baseline_arg, budget_arg = [*(a for a in args if a != "--cold"), None, None, None, None][
        :4
    ]
    n = int(n_arg) if n_arg else 15_000_000
    budget_s = float(budget_arg) if budget_arg else float("inf")
    url = db_arg or f"sqlite:////tmp/geoservice-names-{n}.db"
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    size = int(baseline_arg) if baseline_arg else 1_000_000
    cache = (
        "cold: page cache dropped before each timed phase" if cold else "as found (warm after a first run)"
    )
    print(f"database {url}, {n:,} names; page cache {cache}; load average {os.getloadavg()}", flush=True)
    sample, _tree, common, build_s = build(url, n, budget_s)
    from geoservice.store import open_store

    with open_store(url) as store, store.transaction(readonly=True) as tx:
        n = tx.count("place_names")
    if build_s:
        print(f"built {n:,} names in {build_s:.0f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    checks, searches = queries(sample, common)
    check, search = in_process(url, checks, searches, cold)
    print(f"in process: check {check} ms, search {search} ms; load {os.getloadavg()}", flush=True)
    workdir = Path(f"/tmp/geoservice-names-bench-{os.getpid()}")
    workdir.mkdir(exist_ok=True)
    served = workers(url, checks, searches, common, workdir, cold)
    print(f"two workers: {served}; load {os.getloadavg()}", flush=True)
    base = baseline(url, min(size, n), checks, searches)
    print(f"baseline in memory ({base['names']:,} names): {base}; load {os.getloadavg()}", flush=True)

    print()
    print(f"page cache: {cache}")
    print(
        "| measure | persisted tables, {:,} names | in-memory rebuild, {:,} names | ratio |".format(
            n, base["names"]
        )
    )
    print("|---|---|---|---|")
    first = max(served["start_s"])
    print(
        f"| start to first answer (s) | {first:.1f} (each worker: {served['start_s'][0]:.1f}, "
        f"{served['start_s'][1]:.1f}) | {first + base['build_s']:.1f} (start + {base['build_s']:.1f} rebuild) "
        f"| {(first + base['build_s']) / first:.1f}× |"
    )
    cpu = served["start_cpu_s"]
    print(f"| CPU seconds each worker used to its first answer | {cpu[0]:.1f}, {cpu[1]:.1f} | | |")
    compiling = served["compiling_start"]
    print(
        f"| first start after an install, compiling the bytecode (s, CPU s) | {compiling[0]:.1f}, "
        f"{compiling[1]:.1f} | | |"
    )
    for label, ours, old in (("check", check, base["check"]), ("search", search, base["search"])):
        print(
            f"| {label} p50 / p95 / p99 (ms), CPU p95, in process | {ours['p50']:.2f} / {ours['p95']:.2f} / "
            f"{ours['p99']:.2f}, CPU {ours['cpu_p95']:.2f} | {old['p50']:.2f} / {old['p95']:.2f} / "
            f"{old['p99']:.2f}, CPU {old['cpu_p95']:.2f} | p95 {ours['p95'] / old['p95']:.1f}× the in-memory |"
        )
    kinds = ", ".join(f"{kind} {p95:.1f}" for kind, p95 in search["p95_by_kind"].items())
    print(f"| search p95 by query kind, in process (ms) | {kinds} | | |")
    hc, hs = served["http_check"], served["http_search"]
    print(f"| check / search p95 over HTTP, 2 workers (ms) | {hc['p95']:.1f} / {hs['p95']:.1f} | | |")
    rss = served["rss_mib"]
    print(
        f"| RSS of the 2 workers (MiB) | {rss[0]:.0f} + {rss[1]:.0f} = {sum(rss):.0f} | {base['rss_mib']:.0f} per worker for its copy | |"
    )
    print(
        f"| registration via A, duplicate in B's check at once | HTTP {served['visible'][0]}, {served['visible'][1]} | | |"
    )
    print(f"load average at the end: {os.getloadavg()}")
