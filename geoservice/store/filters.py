"""Query filters (查询条件): the WHERE and ORDER BY of a record query, from a bbox, filters, a CQL2 filter
and sort columns.

Filter names are checked (a plain identifier; a promoted column or a JSON property; a queryable in a CQL2
filter or a ``sortby``), values are always parameters, so a filter can never carry SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from geoservice.errors import BadRequestError, require_choice
from geoservice.store.columns import IDENTIFIER, RECORD
from geoservice.store.cql import CqlFilter, cql_clause, property_sql
from geoservice.store.dialect import Dialect
from geoservice.store.queryables import queryables
from geoservice.store.records import Between
from geoservice.store.schema import COLLECTIONS

__all__ = ["order_clause", "sort_clause", "where_clause"]


def where_clause(
    dialect: Dialect,
    collection: str,
    bbox: Sequence[float] | None,
    filters: Mapping[str, Any] | None,
    cql: CqlFilter | None = None,
) -> tuple[str, list[Any]]:
    """`` WHERE …`` (or ``""``) and its parameters for a bbox (lon/lat, intersects), property filters and a
    CQL2 filter.

    See :meth:`~geoservice.store.transaction.Transaction.query` for what ``filters`` may hold.
    """
    clauses: list[str] = []
    params: list[Any] = []
    if cql is not None:
        sql, cql_params = cql_clause(dialect, collection, cql)
        clauses.append(sql)
        params += cql_params
    if bbox is not None:
        exact = COLLECTIONS[collection].geometry_type != "Point"
        clauses.append(dialect.bbox_clause(collection, exact))
        params += dialect.bbox_params(bbox, exact)
    for name, value in (filters or {}).items():
        if not IDENTIFIER.match(name):
            raise BadRequestError(
                f"无效的筛选字段 {name!r} / invalid filter field {name!r}", field=name, value=value
            )
        if isinstance(value, Between):
            if name not in RECORD.ranged:
                raise BadRequestError(
                    f"只能对 {sorted(RECORD.ranged)} 做区间筛选 / a range filter applies to "
                    f"{sorted(RECORD.ranged)} only, not {name!r}",
                    field=name,
                    value=repr(value),
                )
            if value.low is not None:
                clauses.append(f"{name} >= ?")
                params.append(value.low)
            if value.high is not None:
                clauses.append(f"{name} <= ?")
                params.append(value.high)
            continue
        column = name if name in RECORD.filterable else dialect.json_field(name)
        if value is None:
            clauses.append(f"{column} IS NULL")
        elif isinstance(value, list | tuple | set | frozenset):
            values = [str(v) for v in value]
            if not values:
                clauses.append("1 = 0")
                continue
            clauses.append(f"{column} IN ({', '.join('?' for _ in values)})")
            params += values
        else:
            clauses.append(f"{column} = ?")
            params.append(str(value))
    return ((" WHERE " + " AND ".join(clauses)) if clauses else "", params)


#: ``order_by`` value: records with a geometry first, then those without, each in ``fid`` order (OGC items:
#: QGIS and GDAL take a layer's geometry type from the first page).
GEOMETRY_FIRST = "geometry_first"


def order_clause(order_by: str) -> str:
    """``ORDER BY`` terms for a column name, optionally prefixed with ``-`` (descending); then by fid."""
    if order_by == GEOMETRY_FIRST:
        return "(geom IS NULL) ASC, fid ASC"
    desc = order_by.startswith("-")
    column = order_by.lstrip("-")
    if column not in RECORD.sortable:
        raise BadRequestError(
            f"无效的排序字段 / invalid sort field {column!r}", field="order_by", value=column
        )
    return (
        f"{column} {'DESC' if desc else 'ASC'}, fid ASC"
        if column != "fid"
        else f"fid {'DESC' if desc else 'ASC'}"
    )


def sort_clause(dialect: Dialect, collection: str, terms: Sequence[tuple[str, bool]]) -> str:
    """``ORDER BY`` terms for ``sortby``: (queryable, descending) pairs, records without a value last, then fid.

    A name that is not a sortable queryable of ``collection`` is a 400 naming it and listing those that are.
    """
    known = {name: q for name, q in queryables(collection).items() if q.type != "geometry"}
    out = []
    for name, descending in terms:
        require_choice(
            name,
            known,
            field="sortby",
            rule="sortable_queryable",
            noun_zh="排序字段",
            noun_en="sort key",
            error=BadRequestError,
            details_key="sortable",
            message=f"不能按 {name!r} 排序 / cannot sort {collection} by {name!r}; sortable: {', '.join(known)}",
        )
        expression = property_sql(dialect, known[name])
        out.append(f"{expression} IS NULL, {expression} {'DESC' if descending else 'ASC'}")
    return ", ".join([*out, "fid ASC"])
