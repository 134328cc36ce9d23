"""Editing collections through OGC API – Features Part 4 (要素编辑): one workflow per collection.

:data:`EDIT_WORKFLOWS` maps a collection to its workflow; a collection not in it cannot be edited this way
(inspections, analyses and signs have their own routes). Every write is one store transaction, so it leaves
its audit row and its change (which invalidates the tiles it touches). Updates and deletes take the
version the client read (``If-Match``): 412 when the record has changed since.

What DELETE does (``on_delete``):

- ``place_names``: never deleted — a planned or proposed name is refused (拒绝), any other is retired (废弃);
  the record and its history stay, the name is free again. Creating and changing go through the name check
  and the lifecycle (:mod:`geoservice.gazetteer.names`): a duplicate is 409.
- ``boundary_markers``: superseded (作废): status ``superseded``, its number freed for the replacement; the
  record, its inspections and history stay. Creating and changing go through the marker checks.
- ``addresses`` (door plates): retired (status ``retired``), the label freed.
- ``roads``: deleted (the audit keeps the last state); refused (409) while current door plates hang off it.
- ``facilities``: deleted (the audit keeps the last state).
- ``divisions`` (admins only): deleted (the audit keeps the last state); refused (409) while it has children.
  Creating, changing or deleting one recomputes the stored unions of its parents in the same transaction
  (:func:`geoservice.division_areas.refresh_parent_unions`, the ``after_edit`` write hook ``division_unions``
  of :mod:`geoservice.store.write_hooks`), so a city's polygon follows its districts'.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geoservice.boundaries.lines import resolve_line
from geoservice.boundaries.markers import marker_feature
from geoservice.division_areas import refresh_parent_unions
from geoservice.errors import ConflictError, InvalidInputError
from geoservice.feature_checks import CHECKS, check_geometry
from geoservice.gazetteer import names as registry
from geoservice.store import Feature, Store, utc_now, write_hooks
from geoservice.store.transaction import Transaction, require_version
from geoservice.store.write_hooks import Write, WriteHook
from layers.problems import Problems

Role = Literal["officer", "admin"]


@dataclass(frozen=True)
class FeatureEdit:
    """A feature as sent (要素编辑内容): properties, geometry (``has_geometry``: sent at all), a reason."""

    properties: dict[str, Any]
    geometry: BaseGeometry | None = None
    has_geometry: bool = True
    reason: str | None = None


def merge_patch(before: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """JSON Merge Patch (RFC 7396) of properties: a ``null`` removes the property.

    >>> merge_patch({"a": 1, "b": 2}, {"b": None, "c": 3})
    {'a': 1, 'c': 3}
    """
    merged = {**before, **patch}
    return {k: v for k, v in merged.items() if v is not None or k not in patch}


def _conflict_if_taken(tx: Transaction, collection: str, key: str | None, own_id: str | None) -> None:
    if key is None:
        return
    other = tx.find_by_key(collection, key)
    if other is not None and other.id != own_id:
        raise ConflictError(
            f"{collection} 中已有同一记录 {key!r}(id {other.id})/ {collection} already holds {key!r} "
            f"(id {other.id})",
            field="key",
            value=key,
            rule="unique",
            details={"conflicts": [other.id]},
        )


def _edited(before: Feature, edit: FeatureEdit, replace: bool) -> tuple[dict[str, Any], BaseGeometry | None]:
    props = dict(edit.properties) if replace else merge_patch(before.properties, edit.properties)
    geometry = edit.geometry if (replace or edit.has_geometry) else before.geometry
    return props, geometry


# -- plain collections: checked, then written ----------------------------------------------------------------
def _division_written(tx: Transaction, write: Write) -> None:
    """The unions above a division whose polygon or parent changed, recomputed in the edit's transaction."""
    before = write.before[0] if write.before else None
    after = write.after[0] if write.after else None
    if before is not None and after is not None:
        same_parent = before.properties.get("parent_code") == after.properties.get("parent_code")
        old, new = before.geometry, after.geometry
        same_area = old is new or (old is not None and new is not None and old.equals(new))
        if same_parent and same_area:
            return  # a rename: no union changes
    refresh_parent_unions(tx, *(f.properties.get("parent_code") for f in (before, after) if f is not None))


write_hooks.register(WriteHook("division_unions", "after_edit", _division_written, frozenset({"divisions"})))


def _record_create(collection: str) -> Callable[[Store, FeatureEdit, str], Feature]:
    def create(store: Store, edit: FeatureEdit, user: str) -> Feature:
        props = dict(edit.properties)
        with store.transaction(user=user) as tx:
            key = CHECKS[collection](tx, props, edit.geometry)
            _conflict_if_taken(tx, collection, key, None)
            created = tx.insert(collection, Feature.new(props, edit.geometry, key=key), reason=edit.reason)
            tx.run_hooks("after_edit", collection, [], [created])
            return created

    return create


def _record_update(collection: str) -> Callable[[Store, str, FeatureEdit, str, int, bool], Feature]:
    def update(store: Store, id: str, edit: FeatureEdit, user: str, version: int, replace: bool) -> Feature:
        with store.transaction(user=user) as tx:
            before = tx.get(collection, id, for_update=True)
            require_version(before, version)
            props, geometry = _edited(before, edit, replace)
            key = CHECKS[collection](tx, props, geometry)
            _conflict_if_taken(tx, collection, key, before.id)
            after = tx.update(
                collection,
                before.id,
                properties=props,
                geometry=geometry,
                key=key,
                expected_version=version,
                replace_properties=True,
                reason=edit.reason,
            )
            tx.run_hooks("after_edit", collection, [before], [after])
            return after

    return update


def _record_delete(
    collection: str, refusal: Callable[[Transaction, Feature], str | None] | None = None
) -> Callable[[Store, str, str, int, str | None], None]:
    def delete(store: Store, id: str, user: str, version: int, reason: str | None) -> None:
        with store.transaction(user=user) as tx:
            before = tx.get(collection, id, for_update=True)
            require_version(before, version)
            why = refusal(tx, before) if refusal else None
            if why:
                raise ConflictError(why, field="featureId", value=id, rule="still_referenced")
            tx.delete(collection, before.id, reason=reason)
            tx.run_hooks("after_edit", collection, [before], [])

    return delete


def _road_in_use(tx: Transaction, road: Feature) -> str | None:
    plates = tx.query("addresses", filters={"ref": road.id}, count=False).features
    current = [p for p in plates if p.properties.get("status") != "retired"]
    if not current:
        return None
    return (
        f"道路 {road.properties.get('name')} 仍有 {len(current)} 个现行门牌,先废弃门牌 / the road still has "
        f"{len(current)} door plates that are not retired; retire them first"
    )


def _division_in_use(tx: Transaction, division: Feature) -> str | None:
    code = division.properties.get("code")
    if not tx.query("divisions", filters={"ref": code}, limit=1).features:
        return None
    return f"区划 {code} 仍有下级区划 / division {code} still has child divisions; change those first"


def _end_of_life(
    collection: str, status: str, action: str
) -> Callable[[Store, str, str, int, str | None], None]:
    """A DELETE that keeps the record: ``status`` and its time set, the natural key freed, audited as ``action``."""

    def end(store: Store, id: str, user: str, version: int, reason: str | None) -> None:
        with store.transaction(user=user) as tx:
            tx.update(
                collection,
                id,
                properties={"status": status, f"{status}_at": utc_now()},
                key=None,
                expected_version=version,
                action=action,
                reason=reason,
            )

    return end


# -- place names: the name check and the lifecycle -----------------------------------------------------------
#: The lifecycle action that leads to each status.
ACTION_TO: Final[dict[str, registry.Action]] = {
    target: action  # type: ignore[misc]
    for action, (_, target, _) in registry.ACTIONS.items()
}
_NAME_FIELDS: Final = ("meaning", "origin", "history", "location_description", "approving_body")


def _name_create(store: Store, edit: FeatureEdit, user: str) -> Feature:
    props = edit.properties
    problems = Problems()
    for field in ("name", "category", "division_code"):
        if not isinstance(props.get(field), str) or not props[field].strip():
            problems.add(
                field, props.get(field), f"地名登记须有 {field} / a place name needs {field}", rule="required"
            )
    status = props.get("status", "proposed")
    problems.raise_if_any(InvalidInputError, "地名登记不合规 / place name registration is not valid: ")
    data = registry.NameInput(
        name=props["name"],
        category=props["category"],
        division_code=props["division_code"],
        geometry=edit.geometry,
        reason=edit.reason,
        status=status,
        **{f: props[f] for f in _NAME_FIELDS if isinstance(props.get(f), str)},
    )
    return registry.register(store, data, user=user)


def _name_update(store: Store, id: str, edit: FeatureEdit, user: str, version: int, replace: bool) -> Feature:
    before = registry.get_name(store, id)
    require_version(before, version)
    wanted = edit.properties
    changed = sorted(
        k for k, v in wanted.items() if k not in ("name", "status") and before.properties.get(k) != v
    )
    if edit.has_geometry and edit.geometry is not None and not edit.geometry.equals(before.geometry):
        changed.append("geometry")
    if changed:
        raise InvalidInputError(
            f"地名只能更名或改变状态 / a place name changes only by rename (name) or lifecycle (status); "
            f"{', '.join(changed)} cannot be changed here",
            field=changed[0],
            value=wanted.get(changed[0]),
            rule="name_lifecycle_only",
        )
    feature = before
    if "name" in wanted and wanted["name"] != before.properties.get("name"):
        feature = registry.rename(
            store, id, str(wanted["name"]), user=user, reason=edit.reason or "", expected_version=version
        )
    status = wanted.get("status")
    if status is not None and status != feature.properties.get("status"):
        if status not in ACTION_TO:
            raise InvalidInputError(
                f"地名状态不能改为 {status!r} / a name cannot be moved to status {status!r}; one of "
                f"{', '.join(ACTION_TO)}",
                field="status",
                value=status,
                rule="transition",
            )
        feature = registry.transition(
            store,
            id,
            ACTION_TO[status],
            user=user,
            approving_body=wanted.get("approving_body"),
            reason=edit.reason,
            expected_version=feature.version,
        )
    return feature


def _name_delete(store: Store, id: str, user: str, version: int, reason: str | None) -> None:
    status = registry.get_name(store, id).properties.get("status")
    action: registry.Action = "refuse" if status in ("planned", "proposed") else "retire"
    registry.transition(store, id, action, user=user, reason=reason, expected_version=version)


# -- boundary markers: the marker checks; superseded, never deleted -----------------------------------------
_INSPECTION_FIELDS: Final[tuple[str, ...]] = (
    "photos",
    "condition",
    "last_inspected_at",
    "last_inspection_id",
    "last_flags",
    "inspected_rounds",
)


def _marker(
    tx: Transaction, props: Mapping[str, Any], geometry: BaseGeometry | None, id: str | None
) -> Feature:
    problems = Problems()
    check_geometry(problems, geometry, ("Point",))
    problems.raise_if_any(InvalidInputError, "界桩登记不合规 / marker registration is not valid: ")
    assert isinstance(geometry, Point)
    line = resolve_line(tx, str(props.get("line_id") or props.get("line_code") or ""))
    references = props.get("reference_objects") or []
    return marker_feature(
        line,
        number=str(props.get("number") or ""),
        lon=geometry.x,
        lat=geometry.y,
        elevation_m=props.get("elevation_m"),
        reference_objects=references if isinstance(references, list) else [],
        installed_on=props.get("installed_on"),
        kind=props.get("marker_kind"),
        id=id,
    )


def _marker_create(store: Store, edit: FeatureEdit, user: str) -> Feature:
    with store.transaction(user=user) as tx:
        feature = _marker(tx, edit.properties, edit.geometry, None)
        _conflict_if_taken(tx, "boundary_markers", feature.key, None)
        return tx.insert("boundary_markers", feature, reason=edit.reason)


def _marker_update(
    store: Store, id: str, edit: FeatureEdit, user: str, version: int, replace: bool
) -> Feature:
    with store.transaction(user=user) as tx:
        before = tx.get("boundary_markers", id, for_update=True)
        require_version(before, version)
        if before.properties.get("status") == "superseded":
            raise ConflictError(
                "界桩已作废,不能修改 / the marker is superseded and cannot change; register its replacement",
                field="status",
                value="superseded",
                rule="superseded",
            )
        props, geometry = _edited(before, edit, replace)
        checked = _marker(tx, props, geometry, before.id)
        _conflict_if_taken(tx, "boundary_markers", checked.key, before.id)
        kept = {k: before.properties[k] for k in _INSPECTION_FIELDS if k in before.properties}
        return tx.update(
            "boundary_markers",
            before.id,
            properties={**checked.properties, **kept},
            geometry=checked.geometry,
            key=checked.key,
            expected_version=version,
            replace_properties=True,
            reason=edit.reason,
        )


@dataclass(frozen=True)
class EditWorkflow:
    """How one collection is edited (编辑流程): who may, and the functions that create, change and delete."""

    role: Role
    create: Callable[[Store, FeatureEdit, str], Feature]
    update: Callable[[Store, str, FeatureEdit, str, int, bool], Feature]
    delete: Callable[[Store, str, str, int, str | None], None]
    on_delete: str


def _plain(collection: str, role: Role, delete: Callable[..., None], on_delete: str) -> EditWorkflow:
    return EditWorkflow(role, _record_create(collection), _record_update(collection), delete, on_delete)


#: collection → its workflow (the one dispatch table of Part 4).
EDIT_WORKFLOWS: Final[dict[str, EditWorkflow]] = {
    "place_names": EditWorkflow(
        "officer", _name_create, _name_update, _name_delete, "refused (planned/proposed) or retired, kept"
    ),
    "boundary_markers": EditWorkflow(
        "officer",
        _marker_create,
        _marker_update,
        _end_of_life("boundary_markers", "superseded", "supersede"),
        "superseded, kept",
    ),
    "addresses": _plain(
        "addresses", "officer", _end_of_life("addresses", "retired", "retire"), "retired, kept"
    ),
    "roads": _plain(
        "roads", "officer", _record_delete("roads", _road_in_use), "deleted (409 while door plates)"
    ),
    "facilities": _plain("facilities", "officer", _record_delete("facilities"), "deleted"),
    "divisions": _plain(
        "divisions", "admin", _record_delete("divisions", _division_in_use), "deleted (409 with children)"
    ),
}
