"""Division polygons from their children (由下级区划合成的边界面).

The division files give the tree but no boundaries; boundary polygons come from imports, usually for the
lowest levels an office has (districts, townships). A city (``420100`` 武汉市) or a province then has no polygon of
its own, and an analysis of the whole city had nowhere to look. A division without a polygon gets **the union
of its children's polygons**, computed once and stored on the division (``geometry_source =
"children_union"``, ``geometry_partial = true`` when some children had no polygon, so the union covers only
part of the division), never per request:

- :func:`fill_division_polygons` after every import of divisions (the division files, a divisions layer,
  the sample database), bottom-up, so a province gets the union of its cities' unions;
- :func:`division_area` for one division on first use (an analysis of a division imported before this
  existed), stored in the same way.

- :func:`refresh_parent_unions` after a division is created, edited or deleted over HTTP
  (:mod:`geoservice.edit_workflows`), in the edit's transaction: the stored unions above it, up to the root.

Only polygonal children count: a village's seat point is no area. A stored union is replaced by the next
import of divisions or the next edit of a child (children changed), never by a read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any, Final

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from geoservice.division_codes import find_division
from geoservice.store import Feature, Store, Transaction
from layers.admin import division_code

__all__ = ["CHILDREN_UNION", "division_area", "fill_division_polygons", "is_area", "refresh_parent_unions"]

#: ``geometry_source`` of a polygon made from the children's.
CHILDREN_UNION: Final = "children_union"
_REASON: Final = "下级区划边界合成 / polygon = union of the children's polygons"


def is_area(geometry: BaseGeometry | None) -> bool:
    """True for a non-empty polygon or multipolygon (an area, 面)."""
    return isinstance(geometry, Polygon | MultiPolygon) and not geometry.is_empty


def _union(children: list[Feature]) -> tuple[BaseGeometry | None, bool]:
    areas = [c.geometry for c in children if is_area(c.geometry)]
    if not areas:
        return None, True
    merged: BaseGeometry = shapely.make_valid(shapely.union_all(areas))
    if not is_area(merged):  # make_valid may leave a collection: keep its polygon parts
        parts = [g for g in getattr(merged, "geoms", [merged]) if is_area(g)]
        if not parts:
            return None, True
        merged = shapely.union_all(parts)
    return merged, len(areas) < len(children)


def _store_union(tx: Transaction, division: Feature, geometry: BaseGeometry, partial: bool) -> Feature:
    return tx.update(
        "divisions",
        division.id,
        properties={"geometry_source": CHILDREN_UNION, "geometry_partial": partial},
        geometry=geometry,
        expected_version=division.version,
        reason=_REASON,
    )


def _refresh_union(tx: Transaction, division: Feature, children: list[Feature]) -> Feature | None:
    """``division`` with its children's union stored, when it has no polygon or an earlier union; else None.

    The one step of :func:`fill_division_polygons` (an import) and :func:`refresh_parent_unions` (an edit).
    """
    derived = division.properties.get("geometry_source") == CHILDREN_UNION
    if (is_area(division.geometry) and not derived) or not children:
        return None
    geometry, partial = _union(children)
    if geometry is None:
        return None
    return _store_union(tx, division, geometry, partial)


def fill_division_polygons(tx: Transaction) -> int:
    """Give every division without a polygon the union of its children's, deepest first; how many got one.

    Divisions whose polygon is an earlier union are recomputed (their children may have changed).
    """
    divisions = list(tx.iter_features("divisions"))
    children: dict[str, list[Feature]] = defaultdict(list)
    for feature in divisions:
        parent = feature.properties.get("parent_code")
        if parent:
            children[str(parent)].append(feature)
    by_code = {str(f.properties.get("code")): f for f in divisions if f.properties.get("code")}

    def depth(feature: Feature) -> int:
        try:
            return len(division_code(str(feature.properties.get("code"))))
        except ValueError:
            return 0

    filled = 0
    for feature in sorted(divisions, key=depth, reverse=True):
        code = str(feature.properties.get("code"))
        kids = [by_code.get(str(c.properties.get("code")), c) for c in children.get(code, [])]
        stored = _refresh_union(tx, feature, kids)
        if stored is not None:
            by_code[code] = stored
            filled += 1
    return filled


def refresh_parent_unions(tx: Transaction, *parent_codes: Any) -> int:
    """Recompute the stored unions above a changed division (parent, grandparent …); how many were rewritten.

    Parameters
    ----------
    tx : Transaction
        The edit's transaction (编辑事务): the unions change with the child or not at all.
    *parent_codes : str or None
        ``parent_code`` of the division before and after the change (a moved division changes both parents).

    A parent with a polygon of its own (not a union) stops the walk: the unions above it do not change.
    """
    refreshed, seen = 0, set()
    pending = [str(c) for c in parent_codes if c]
    while pending:
        code = pending.pop()
        parent = find_division(tx, code)
        if parent is None or parent.id in seen:
            continue
        seen.add(parent.id)
        parent = tx.get("divisions", parent.id, for_update=True)  # concurrent edits of siblings queue here
        children = tx.query("divisions", filters={"ref": parent.properties.get("code")}, count=False).features
        if _refresh_union(tx, parent, children) is None:
            continue
        refreshed += 1
        if parent.properties.get("parent_code"):
            pending.append(str(parent.properties["parent_code"]))
    return refreshed


def _descendant_union(tx: Transaction, code: str, depth_left: int = 4) -> tuple[BaseGeometry | None, bool]:
    kids = tx.query("divisions", filters={"ref": code}, count=False).features
    if not kids:
        return None, True
    resolved: list[Feature] = []
    for kid in kids:
        if not is_area(kid.geometry) and depth_left > 0:
            geometry, _ = _descendant_union(tx, str(kid.properties.get("code")), depth_left - 1)
            kid = replace(kid, geometry=geometry) if geometry is not None else kid
        resolved.append(kid)
    return _union(resolved)


def division_area(store: Store, code: str, *, user: str = "system") -> tuple[Feature | None, Any]:
    """The division of ``code`` (any accepted form) and its polygon, the children's union stored on first use.

    Returns
    -------
    (Feature or None, geometry or None)
        ``(None, None)`` for an unknown division; the geometry is ``None`` when neither the division nor any
        descendant has a polygon.
    """
    with store.transaction(readonly=True) as tx:
        division = find_division(tx, code)
        if division is None or is_area(division.geometry):
            return division, None if division is None else division.geometry
        geometry, partial = _descendant_union(tx, str(division.properties.get("code")))
    if geometry is None:
        return division, None
    with store.transaction(user=user) as tx:
        current = tx.get("divisions", division.id, for_update=True)
        if is_area(current.geometry):  # another request stored it first
            return current, current.geometry
        stored = _store_union(tx, current, geometry, partial)
    return stored, stored.geometry
