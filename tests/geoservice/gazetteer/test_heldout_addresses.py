"""Address parsing (地址解析) on the held-out Hubei set (留出集): a regression floor, not a target.

``fixtures/heldout_addresses.jsonl`` was written by a second engineer without reading the parser or the labelled
set (see ``fixtures/README.md``). When it was added the parser scored 782 / 844 = 92.7 % on it: that is the
independent estimate. Its misses then informed fixes (postcodes, former names, short forms, roads starting with a
village's name, standard characters kept by t2s; BENCHMARKS.md "after fixes"), after which it scores 807 / 836 =
96.5 %; the floor below is that, rounded down to the whole percent. It is a guard against regressions, not an
accuracy target — and no longer fully independent; do not edit the lines or their labels to raise it.
"""

from __future__ import annotations

import pytest

from bench.address_parse import load_heldout, score_components, total
from geoservice.gazetteer.addresses import parse_address
from geoservice.gazetteer.divisions import DivisionTree
from tests.geoservice.gazetteer.address_data import full_tree

#: Share of components right on the held-out set after the fixes it informed (96.53 %), rounded down (the
#: independent figure, before them, was 92.65 %). A floor, not a target.
FLOOR = 0.96


@pytest.fixture(scope="module")
def tree() -> DivisionTree:
    return full_tree()


def test_heldout_set__share_right_stays_above_measured_floor(tree: DivisionTree) -> None:
    """Components right over the union of expected and returned ones (the benchmark's scoring) ≥ the floor."""
    lines = load_heldout(tree)
    parsed = [parse_address(line["text"], tree).components for line in lines]
    right, counted = total(score_components(lines, parsed))
    assert len(lines) == 150
    assert right / counted >= FLOOR, f"{right} / {counted} = {right / counted:.3f} < floor {FLOOR}"


def test_heldout_set__expected_ambiguities_reported(tree: DivisionTree) -> None:
    """Every namesake the text cannot tell apart is reported as an ambiguity and left out of the components."""
    lines = load_heldout(tree)
    missing = []
    for line in (line for line in lines if line["ambiguous"]):
        parsed = parse_address(line["text"], tree)
        reported = {a["component"] for a in parsed.ambiguities}
        for component in line["ambiguous"]:
            if component not in reported or component in parsed.components:
                missing.append((line["text"], component, sorted(reported)))
    assert sum(len(line["ambiguous"]) for line in lines) == 10
    assert not missing
