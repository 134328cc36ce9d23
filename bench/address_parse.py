"""Benchmark: address parsing speed and accuracy on the labelled Hubei set (地址解析基准).

Ours: :func:`geoservice.gazetteer.addresses.parse_address` over the whole country's division tree to townships
plus every village file (76,634 divisions), on the labelled set (``tests/geoservice/gazetteer/fixtures/
hubei_addresses.jsonl``) repeated to ≥ 10,000 addresses, one core. Baselines in the same process, on the same
texts: ``cpca`` (province / city / district, batch ``transform``) and ``jionlp`` (``parse_location`` with
``town_village=True``: province / city / county / town / village).

Accuracy is the share of components right, counted over the union of expected and returned components (a
component returned that was not expected counts against). Divisions compare by standard name for every
parser, since cpca and jionlp return names; ours is also scored on all eleven components (divisions by code).
The baselines have no road / number / building / unit / room / POI output, so they are scored on the division
levels they return. Inputs are the raw texts (traditional, full-width, spaces included) for everyone. Rates are per CPU second
of this process (single-threaded), wall time printed beside: the machine's 2 cores are shared.

Further tables score the same parsers, the same way, on each set labelled with codes (:data:`CODED_SETS`): the
national held-out set (``fixtures/heldout_national_addresses.jsonl``, written from issue 11's classes by an
engineer who did not read the parser), a second national held-out set
(``fixtures/heldout_national_addresses_2.jsonl``, 378 addresses from 31 provinces, likewise, by another engineer), a
third (``fixtures/heldout_national_addresses_3.jsonl``, 421 addresses from 31 provinces, likewise, by a third), the
Hubei held-out set (``fixtures/heldout_addresses.jsonl``, 150 addresses, likewise) and the parser author's national development set (``fixtures/national_dev_addresses.jsonl``); division
levels are given there by code and named here from the tree; ours is broken down per component. A last table puts
every set side by side, per component. Speed is measured on the labelled set and on the coded sets' texts.

Run: ``.venv/bin/python -m bench address_parse [--sets 1,2,hubei,dev,labelled] [--no-baselines]`` — ``--sets``
picks the sets scored (keys of :data:`SET_KEYS`; default every set present), ``--no-baselines`` skips cpca and
jionlp. Only aggregate figures are printed, never a line of a set.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from geoservice.gazetteer.addresses import COMPONENTS, component_differences, parse_address
from geoservice.gazetteer.divisions import DivisionTree

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "geoservice" / "gazetteer" / "fixtures"
LABELLED = FIXTURES / "hubei_addresses.jsonl"
HELDOUT = FIXTURES / "heldout_addresses.jsonl"
#: Sets labelled with division codes (held-out sets and the national development set), scored per component.
CODED_SETS = {
    "held-out national": FIXTURES / "heldout_national_addresses.jsonl",
    "held-out national 2": FIXTURES / "heldout_national_addresses_2.jsonl",
    "held-out national 3": FIXTURES / "heldout_national_addresses_3.jsonl",
    "held-out Hubei": HELDOUT,
    "national dev": FIXTURES / "national_dev_addresses.jsonl",
}
#: ``--sets`` keys: the labelled Hubei set and the coded sets by a short key.
SET_KEYS = {
    "labelled": "labelled Hubei",
    "1": "held-out national",
    "2": "held-out national 2",
    "3": "held-out national 3",
    "hubei": "held-out Hubei",
    "dev": "national dev",
}
DIVISION_LEVELS = ("province", "city", "county", "township", "village")
DIVISIONS = ROOT / "data" / "divisions"
TARGET_COUNT = 10_000


def load(path: Path = LABELLED) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_heldout(tree: DivisionTree, path: Path = HELDOUT) -> list[dict[str, Any]]:
    """The held-out set with its division codes written as ``{"name", "code"}`` (standard name from the tree)."""
    lines = load(path)
    for line in lines:
        for level in DIVISION_LEVELS:
            code = line["expected"].get(level)
            if code is not None:
                division = tree.get(code)
                if division is None and level == "city" and tree.get(code[:2]) is not None:
                    # a municipality's grouping code (3101, 5002: 统计用 市辖区 / 县), not a division of the tree:
                    # compared by code; its name is the municipality's
                    division = tree.get(code[:2])
                if division is None:
                    raise KeyError(f"held-out line {line['text']!r}: {level} code {code} not in the tree")
                line["expected"][level] = {"name": division.name, "code": code}
    return lines


def score_components(lines: list[dict[str, Any]], parsed: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Ours, per component: (right, counted), divisions by code (:func:`component_differences`).

    A component counts when it is expected or returned (one returned but not expected counts against).
    """
    right: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    for line, got in zip(lines, parsed, strict=True):
        differing = set(component_differences(line["expected"], got))
        for name in set(line["expected"]) | set(got):
            counted[name] += 1
            right[name] += name not in differing
    return {name: (right[name], counted[name]) for name in COMPONENTS if counted[name]}


def total(per_component: dict[str, tuple[int, int]]) -> tuple[int, int]:
    """(right, counted) summed over the components."""
    return sum(r for r, _ in per_component.values()), sum(c for _, c in per_component.values())


def score(
    lines: list[dict[str, Any]], outputs: list[dict[str, str | None]], levels: Iterable[str]
) -> tuple[int, int]:
    """(right, counted) over ``levels``, comparing names; a level counts when expected or returned."""
    right = counted = 0
    levels = tuple(levels)
    for line, got in zip(lines, outputs, strict=True):
        for level in levels:
            expected = line["expected"].get(level)
            expected_name = expected["name"] if isinstance(expected, dict) else expected
            value = got.get(level) or None
            if expected_name is None and value is None:
                continue
            counted += 1
            right += expected_name == value
    return right, counted


def timed(
    parse_all: Callable[[list[str]], list[dict[str, str | None]]], texts: list[str]
) -> tuple[float, list]:
    """CPU seconds of this process (one core; the 2 shared cores make wall time depend on the neighbours)."""
    start = time.process_time()
    wall = time.perf_counter()
    outputs = parse_all(texts)
    cpu = time.process_time() - start
    print(f"  {len(texts):,} addresses: {cpu:.2f} s CPU, {time.perf_counter() - wall:.2f} s wall")
    return cpu, outputs


def ours(tree: DivisionTree) -> Callable[[list[str]], list[dict[str, str | None]]]:
    def run(texts: list[str]) -> list[dict[str, str | None]]:
        out = []
        for text in texts:
            components = parse_address(text, tree).components
            out.append({k: (v["name"] if isinstance(v, dict) else v) for k, v in components.items()})
        return out

    return run


def cpca_parser() -> Callable[[list[str]], list[dict[str, str | None]]] | None:
    try:
        import cpca
    except ImportError as exc:
        print(f"cpca not available: {exc}")
        return None
    columns = (("province", "省"), ("city", "市"), ("county", "区"))

    def run(texts: list[str]) -> list[dict[str, str | None]]:
        frame = cpca.transform(texts)
        # cpca leaves a level it did not find as NaN (truthy): that is "not returned", not a returned value
        return [
            {
                level: r[column] if isinstance(r[column], str) and r[column] else None
                for level, column in columns
            }
            for r in frame.to_dict("records")
        ]

    return run


def jionlp_parser() -> Callable[[list[str]], list[dict[str, str | None]]] | None:
    try:
        import jionlp
    except ImportError as exc:
        print(f"jionlp not available: {exc}")
        return None

    def run(texts: list[str]) -> list[dict[str, str | None]]:
        out = []
        for text in texts:
            r = jionlp.parse_location(text, town_village=True)
            out.append(
                {
                    "province": r.get("province"),
                    "city": r.get("city"),
                    "county": r.get("county"),
                    "township": r.get("town"),
                    "village": r.get("village"),
                }
            )
        return out

    return run


def _options(argv: tuple[str, ...]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench address_parse")
    parser.add_argument(
        "--sets",
        default=",".join(SET_KEYS),
        help=f"comma-separated sets to score, of {', '.join(SET_KEYS)} (default: every set present)",
    )
    parser.add_argument("--no-baselines", action="store_true", help="skip cpca and jionlp")
    options = parser.parse_args(list(argv))
    keys = [key.strip() for key in options.sets.split(",") if key.strip()]
    unknown = [key for key in keys if key not in SET_KEYS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SET_KEYS)}")
    options.chosen = [SET_KEYS[key] for key in keys]
    return options


def main(*argv: str) -> None:
    options = _options(argv)
    coded = {label: path for label, path in CODED_SETS.items() if label in options.chosen}
    lines = load()
    texts = [line["text"] for line in lines]
    repeats = -(-TARGET_COUNT // len(texts))
    many = texts * repeats
    t0 = time.perf_counter()
    tree = DivisionTree.from_directory(DIVISIONS, villages=True)
    print(f"division tree: {len(tree):,} divisions in {time.perf_counter() - t0:.2f} s")
    print(f"labelled set: {len(lines)} addresses, timed on {len(many):,} (×{repeats})")
    print(f"sets scored: {', '.join(options.chosen)}")

    parse_ours = ours(tree)
    parse_ours(texts[:50])  # warm caches (chains, OpenCC)
    seconds, _ = timed(parse_ours, many)
    our_rate = len(many) / seconds
    national = [line["text"] for path in coded.values() if path.exists() for line in load(path)]
    if national:
        national_many = national * -(-TARGET_COUNT // len(national))
        national_seconds, _ = timed(parse_ours, national_many)
        print(
            f"ours on the scored coded sets' texts: {len(national_many) / national_seconds:,.0f} addresses/s "
            "(one core, CPU)"
        )
    right, counted = total(score_components(lines, [parse_address(t, tree).components for t in texts]))
    our_outputs = parse_ours(texts)
    rows = [("ours (all 11 components)", our_rate, right, counted)]
    for scored, label in (
        (("province", "city", "county"), "p/c/c"),
        (("province", "city", "county", "township", "village"), "5 levels"),
    ):
        r, c = score(lines, our_outputs, scored)
        rows.append((f"ours ({label})", our_rate, r, c))

    baselines: dict[str, tuple[Any, tuple[str, ...], int]] = {} if options.no_baselines else {
        "cpca": (cpca_parser(), ("province", "city", "county"), len(many)),
        "jionlp": (jionlp_parser(), ("province", "city", "county", "township", "village"), 2000)}  # fmt: skip
    rates = {}
    baseline_outputs: dict[str, Callable[[list[str]], list[dict[str, str | None]]]] = {}
    for name, (parser, levels, count) in baselines.items():
        if parser is None:
            continue
        try:
            parser(texts[:20])
            seconds, _ = timed(parser, many[:count])
            outputs = parser(texts)
        except Exception as exc:  # a baseline that fails here is reported, not fatal
            print(f"{name} failed: {type(exc).__name__}: {exc}")
            continue
        rates[name] = count / seconds
        baseline_outputs[name] = parser
        r, c = score(lines, outputs, ("province", "city", "county"))
        rows.append((f"{name} (p/c/c)", rates[name], r, c))
        if len(levels) > 3:
            r, c = score(lines, outputs, levels)
            rows.append((f"{name} (5 levels)", rates[name], r, c))

    print()
    print("| parser (components scored) | addresses/s | right / counted | share right |")
    print("|---|---|---|---|")
    for label, rate, r, c in rows:
        print(f"| {label} | {rate:,.0f} | {r} / {c} | {100 * r / c:.1f} % |")
    for name, rate in rates.items():
        print(f"ratio ours / {name} (speed): {our_rate / rate:.1f}×")
    print(f"components: {', '.join(COMPONENTS)}")
    chosen = {name: (baseline_outputs[name], baselines[name][1]) for name in baseline_outputs}
    for label, path in coded.items():
        if path.exists():
            heldout(tree, parse_ours, chosen, path, label)
        else:
            print(f"\n{label}: {path.name} not found")
    per_level_table(tree, lines if SET_KEYS["labelled"] in options.chosen else None, coded)


def per_level_table(
    tree: DivisionTree, labelled: list[dict[str, Any]] | None, coded: dict[str, Path]
) -> None:
    """One table, every chosen set side by side: share right per component (right / counted)."""
    sets = {SET_KEYS["labelled"]: labelled} if labelled is not None else {}
    for label, path in coded.items():
        if path.exists():
            sets[label] = load_heldout(tree, path)
    scores = {
        label: score_components(lines, [parse_address(line["text"], tree).components for line in lines])
        for label, lines in sets.items()
    }
    print()
    print("| component | " + " | ".join(f"{label} ({len(sets[label])})" for label in sets) + " |")
    print("|---|" + "---|" * len(sets))
    for name in COMPONENTS:
        cells = []
        for label in sets:
            right, counted = scores[label].get(name, (0, 0))
            cells.append(f"{100 * right / counted:.1f} % ({right}/{counted})" if counted else "–")
        print(f"| {name} | " + " | ".join(cells) + " |")
    cells = []
    for label in sets:
        right, counted = total(scores[label])
        cells.append(f"{100 * right / counted:.1f} % ({right}/{counted})")
    print("| all | " + " | ".join(cells) + " |")


def heldout(
    tree: DivisionTree,
    parse_ours: Callable[[list[str]], list[dict[str, str | None]]],
    baselines: dict[str, tuple[Callable[[list[str]], list[dict[str, str | None]]], tuple[str, ...]]],
    path: Path = HELDOUT,
    set_label: str = "held-out set",
) -> None:
    """A set labelled with codes (a held-out set), same parsers, same scoring (accuracy only)."""
    lines = load_heldout(tree, path)
    texts = [line["text"] for line in lines]
    per_component = score_components(lines, [parse_address(t, tree).components for t in texts])
    right, counted = total(per_component)
    rows = [("ours (all 11 components)", right, counted)]
    our_outputs = parse_ours(texts)
    for scored, label in ((DIVISION_LEVELS[:3], "p/c/c"), (DIVISION_LEVELS, "5 levels")):
        rows.append((f"ours ({label})", *score(lines, our_outputs, scored)))
    for name, (parser, levels) in baselines.items():
        outputs = parser(texts)
        rows.append((f"{name} (p/c/c)", *score(lines, outputs, DIVISION_LEVELS[:3])))
        if len(levels) > 3:
            rows.append((f"{name} (5 levels)", *score(lines, outputs, levels)))
    expected_ambiguities = sum(len(line["ambiguous"]) for line in lines)
    reported = 0
    for line in lines:
        parsed = parse_address(line["text"], tree)
        # each ambiguity names its component and every level the namesakes leave open (``levels``)
        found = {level for a in parsed.ambiguities for level in (a["component"], *a.get("levels", ()))}
        found -= set(parsed.components)
        reported += len(set(line["ambiguous"]) & found)
    print()
    print(f"{set_label}: {len(lines)} addresses ({path.name})")
    print("| parser (components scored) | right / counted | share right |")
    print("|---|---|---|")
    for label, r, c in rows:
        print(f"| {label} | {r} / {c} | {100 * r / c:.1f} % |")
    print()
    print("| ours, per component | right / counted | share right |")
    print("|---|---|---|")
    for name, (r, c) in per_component.items():
        print(f"| {name} | {r} / {c} | {100 * r / c:.1f} % |")
    print(f"expected ambiguities reported (and not guessed): {reported} / {expected_ambiguities}")


if __name__ == "__main__":
    main()
