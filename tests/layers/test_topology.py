"""Tests of layers.topology: boundary lines, tri-junctions, gap / overlap checks (界线拓扑)."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Polygon, box

from layers.errors import CRSError, LayerValidationError
from layers.marker_numbers import marker_number, parse_marker_number
from layers.topology import (
    boundary_lines_from_polygons,
    polygon_gaps_and_overlaps,
    runs_against_numbering,
    tri_junctions,
)

# Hand-made polygons in the Wuhan Gauss-Krüger zone (EPSG:4547, metres), near its central meridian.
X0, Y0 = 500_000.0, 3_380_000.0
METRIC = "EPSG:4547"


def squares(
    codes: list[str], boxes: list[tuple[float, float, float, float]], crs: str = METRIC
) -> gpd.GeoDataFrame:
    geoms = [box(X0 + a, Y0 + b, X0 + c, Y0 + d) for a, b, c, d in boxes]
    return gpd.GeoDataFrame({"code": codes}, geometry=geoms, crs=crs)


def two_side_by_side() -> gpd.GeoDataFrame:
    """Two 1 km squares sharing one north–south edge: 420102 west, 420103 east."""
    return squares(["420102", "420103"], [(0, 0, 1000, 1000), (1000, 0, 2000, 1000)])


def two_stacked() -> gpd.GeoDataFrame:
    """A 2 km × 1 km rectangle pair sharing one east–west edge: 420104 south, 420105 north."""
    return squares(["420104", "420105"], [(0, 0, 2000, 1000), (0, 1000, 2000, 2000)])


def three_squares() -> gpd.GeoDataFrame:
    """Two squares side by side under one rectangle: a T-shaped tri-junction at (1000, 1000)."""
    return squares(
        ["420102", "420103", "420104"], [(0, 0, 1000, 1000), (1000, 0, 2000, 1000), (0, 1000, 2000, 2000)]
    )


def to_geographic(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """To CGCS2000 degrees, densified first so straight metric edges stay straight within millimetres."""
    return gdf.set_geometry(gdf.geometry.segmentize(10.0)).to_crs("EPSG:4490")


# --------------------------------------------------------------------------------------------------------------
# boundary_lines_from_polygons


@pytest.mark.parametrize("as_geographic", [False, True], ids=["metric", "cgcs2000-degrees"])
def test_boundary_lines__two_squares_share_one_edge__one_line_north_to_south(as_geographic: bool) -> None:
    layer = two_side_by_side()
    if as_geographic:
        layer = to_geographic(layer)
    lines = boundary_lines_from_polygons(layer, "code", level="county")
    assert len(lines) == 1
    row = lines.iloc[0]
    assert row.line_code == "0203"
    assert row.level == "county"
    assert row.n_parts == 1
    # The edge is north–south, so it runs north → south; walking south, the east square is on the left.
    assert (row.left_code, row.right_code) == ("420103", "420102")
    assert row.length_m == pytest.approx(1000.0, abs=0.01)
    assert lines.crs == layer.crs
    start, end = row.geometry.coords[0], row.geometry.coords[-1]
    assert start[1] > end[1]


def test_boundary_lines__east_west_edge__runs_west_to_east_with_north_on_left() -> None:
    lines = boundary_lines_from_polygons(two_stacked(), "code")
    row = lines.iloc[0]
    assert row.geometry.coords[0][0] < row.geometry.coords[-1][0]
    assert (row.left_code, row.right_code) == ("420105", "420104")
    assert row.length_m == pytest.approx(2000.0)


def test_boundary_lines__edge_split_by_extra_vertices__merged_into_one_line() -> None:
    # The west square carries extra vertices on the shared edge; the east square does not.
    west = Polygon(
        [
            (X0, Y0),
            (X0 + 1000, Y0),
            (X0 + 1000, Y0 + 300),
            (X0 + 1000, Y0 + 700),
            (X0 + 1000, Y0 + 1000),
            (X0, Y0 + 1000),
        ]
    )
    east = box(X0 + 1000, Y0, X0 + 2000, Y0 + 1000)
    layer = gpd.GeoDataFrame({"code": ["420102", "420103"]}, geometry=[west, east], crs=METRIC)
    lines = boundary_lines_from_polygons(layer, "code")
    assert len(lines) == 1
    assert isinstance(lines.geometry.iloc[0], LineString)
    assert lines.geometry.iloc[0].length == pytest.approx(1000.0)


def test_boundary_lines__three_squares__three_lines_with_sides() -> None:
    lines = boundary_lines_from_polygons(three_squares(), "code").set_index("line_code")
    assert sorted(lines.index) == ["0203", "0204", "0304"]
    # 0203: the short north–south edge between the two lower squares, north → south.
    assert (lines.loc["0203", "left_code"], lines.loc["0203", "right_code"]) == ("420103", "420102")
    # 0204 and 0304: east–west edges, west → east, 420104 (north) on the left.
    assert (lines.loc["0204", "left_code"], lines.loc["0204", "right_code"]) == ("420104", "420102")
    assert (lines.loc["0304", "left_code"], lines.loc["0304", "right_code"]) == ("420104", "420103")


def test_boundary_lines__disjoint_contacts__one_multiline_in_numbering_order() -> None:
    # 420102 touches 420103 along two separate edges, split by the small 420104 square between them.
    west = Polygon([(X0, Y0), (X0 + 1000, Y0), (X0 + 1000, Y0 + 3000), (X0, Y0 + 3000)])
    east = Polygon(
        [
            (X0 + 1000, Y0),
            (X0 + 2000, Y0),
            (X0 + 2000, Y0 + 3000),
            (X0 + 1000, Y0 + 3000),
            (X0 + 1000, Y0 + 2000),
            (X0 + 1500, Y0 + 2000),
            (X0 + 1500, Y0 + 1000),
            (X0 + 1000, Y0 + 1000),
        ]
    )
    middle = box(X0 + 1000, Y0 + 1000, X0 + 1500, Y0 + 2000)
    layer = gpd.GeoDataFrame(
        {"code": ["420102", "420103", "420104"]}, geometry=[west, east, middle], crs=METRIC
    )
    lines = boundary_lines_from_polygons(layer, "code").set_index("line_code")
    line = lines.loc["0203", "geometry"]
    assert isinstance(line, MultiLineString)
    assert lines.loc["0203", "n_parts"] == 2
    first, second = line.geoms
    assert first.coords[0][1] > second.coords[0][1]  # parts ordered north → south
    assert lines.loc["0203", "length_m"] == pytest.approx(2000.0)


def test_boundary_lines__include_outer__adds_outline_lines() -> None:
    lines = boundary_lines_from_polygons(two_side_by_side(), "code", include_outer=True)
    assert sorted(lines["line_code"]) == ["0203", "420102-outer", "420103-outer"]
    outer = lines.set_index("line_code").loc["420102-outer"]
    assert outer.right_code == ""
    assert outer.length_m == pytest.approx(3000.0)


def test_boundary_lines__custom_line_code_fn() -> None:
    lines = boundary_lines_from_polygons(
        two_side_by_side(), "code", line_code_fn=lambda a, b: f"X{a[-1]}{b[-1]}"
    )
    assert lines["line_code"].tolist() == ["X23"]


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (gpd.GeoDataFrame({"code": ["1"]}, geometry=[box(0, 0, 1, 1)]), "no CRS"),
        (squares(["420102"], [(0, 0, 1, 1)]).rename(columns={"code": "adcode"}), "no column"),
        (gpd.GeoDataFrame({"code": ["1"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=METRIC), "Polygon"),
    ],
    ids=["no-crs", "missing-column", "lines-not-polygons"],
)
def test_boundary_lines__bad_input__clear_error(layer: gpd.GeoDataFrame, match: str) -> None:
    with pytest.raises((LayerValidationError, CRSError), match=match):
        boundary_lines_from_polygons(layer, "code")


# --------------------------------------------------------------------------------------------------------------
# tri_junctions


def test_tri_junctions__three_squares__one_point_where_they_meet() -> None:
    points = tri_junctions(three_squares(), "code")
    assert len(points) == 1
    row = points.iloc[0]
    assert row.codes == "420102,420103,420104"
    assert row.n_divisions == 3
    assert (row.code_1, row.code_2, row.code_3) == ("420102", "420103", "420104")
    assert not row.on_outer
    assert row.geometry.x == pytest.approx(X0 + 1000) and row.geometry.y == pytest.approx(Y0 + 1000)


def test_tri_junctions__two_squares__none_unless_outside_counts() -> None:
    assert len(tri_junctions(two_side_by_side(), "code")) == 0
    outer = tri_junctions(two_side_by_side(), "code", include_outer=True)
    assert len(outer) == 2
    assert set(outer["codes"]) == {"420102,420103,outside"}
    assert outer["on_outer"].all()


def test_tri_junctions__four_corners__reported_once_with_four_divisions() -> None:
    layer = squares(
        ["420102", "420103", "420104", "420105"],
        [(0, 0, 1000, 1000), (1000, 0, 2000, 1000), (0, 1000, 1000, 2000), (1000, 1000, 2000, 2000)],
    )
    points = tri_junctions(layer, "code")
    assert points["n_divisions"].tolist() == [4]


# --------------------------------------------------------------------------------------------------------------
# polygon_gaps_and_overlaps


def test_gaps_and_overlaps__clean_tiling__nothing_reported() -> None:
    assert len(polygon_gaps_and_overlaps(three_squares(), "code")) == 0


def test_gaps_and_overlaps__overlap__reported_with_area_m2() -> None:
    # The east square reaches 10 m into the west one: a 10 m × 1000 m overlap.
    layer = squares(["420102", "420103"], [(0, 0, 1000, 1000), (990, 0, 2000, 1000)])
    problems = polygon_gaps_and_overlaps(layer, "code")
    assert problems[["kind", "codes"]].values.tolist() == [["overlap", "420102,420103"]]
    assert problems["area_m2"].iloc[0] == pytest.approx(10_000.0)


def test_gaps_and_overlaps__enclosed_gap__reported_with_area_and_neighbours() -> None:
    # A ring of four rectangles around an uncovered 100 m × 100 m hole.
    layer = squares(
        ["a", "b", "c", "d"],
        [(0, 0, 300, 100), (0, 200, 300, 300), (0, 100, 100, 200), (200, 100, 300, 200)],
    )
    problems = polygon_gaps_and_overlaps(layer, "code")
    assert problems[["kind", "codes"]].values.tolist() == [["gap", "a,b,c,d"]]
    assert problems["area_m2"].iloc[0] == pytest.approx(10_000.0)


def test_gaps_and_overlaps__gap_and_overlap_in_degrees__areas_in_m2() -> None:
    layer = squares(
        ["420102", "420103", "420104"], [(0, 0, 1000, 1000), (1020, 0, 2000, 1000), (0, 990, 2000, 2000)]
    )
    problems = polygon_gaps_and_overlaps(to_geographic(layer), "code")
    by_kind = {kind: group for kind, group in problems.groupby("kind")}
    # A gap of 20 m × 990 m between the lower squares, open to the outside at the bottom: only an extent finds it.
    assert set(by_kind) == {"overlap"}
    assert by_kind["overlap"]["area_m2"].sum() == pytest.approx(2 * 10 * 1000 - 10 * 20, rel=1e-3)
    extent = to_geographic(squares(["x"], [(0, 0, 2000, 2000)])).geometry.iloc[0]
    with_extent = polygon_gaps_and_overlaps(to_geographic(layer), "code", extent=extent)
    gaps = with_extent[with_extent["kind"] == "gap"]
    assert len(gaps) == 1
    assert gaps["area_m2"].iloc[0] == pytest.approx(20 * 990, rel=1e-3)
    assert gaps["codes"].iloc[0] == "420102,420103,420104"


def test_gaps_and_overlaps__min_area_filters_slivers() -> None:
    layer = squares(["420102", "420103"], [(0, 0, 1000, 1000), (999.99, 0, 2000, 1000)])
    assert len(polygon_gaps_and_overlaps(layer, "code")) == 1
    assert len(polygon_gaps_and_overlaps(layer, "code", min_area_m2=100.0)) == 0


@pytest.mark.parametrize(
    ("coords", "expected"),
    [
        ([(0, 0), (1000, 10)], False),
        ([(1000, 10), (0, 0)], True),
        ([(0, 1000), (5, 0)], False),
        ([(5, 0), (0, 1000)], True),
    ],
    ids=["west-to-east", "east-to-west", "north-to-south", "south-to-north"],
)
def test_runs_against_numbering(coords: list[tuple[float, float]], expected: bool) -> None:
    assert runs_against_numbering(LineString(coords)) is expected


def test_boundary_lines__markers_placed_by_sequence_follow_line_direction() -> None:
    # Numbering along the returned direction: sequence 1 lies nearest the line's start (the west end).
    line = boundary_lines_from_polygons(two_stacked(), "code").geometry.iloc[0]
    points = [line.interpolate(d) for d in (100.0, 900.0, 1500.0)]
    numbers = [marker_number("0405", i + 1, "Q") for i, _ in enumerate(points)]
    xs = [p.x for p in points]
    assert xs == sorted(xs)
    assert [parse_marker_number(n).sequence for n in numbers] == [1, 2, 3]
    assert shapely.distance(points[0], line) == pytest.approx(0.0, abs=1e-9)
