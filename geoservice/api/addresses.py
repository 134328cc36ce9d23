"""Addresses (地址): parse, geocode, reverse geocode, and door plates along a road.

``POST /addresses/parse``, ``GET /geocode``, ``GET /reverse`` are reads (open unless the service requires
tokens for reads); ``POST /roads/{id}/door-plates`` numbers building entrances and is for officers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from shapely.geometry import Point

from geoservice.api.deps import OfficerDep, ReaderDep, StoreDep
from geoservice.api.openapi_contract import VISIBLE_TEXT
from geoservice.errors import InvalidInputError
from geoservice.gazetteer.addresses import parse_address
from geoservice.gazetteer.divisions import tree_for_store
from geoservice.gazetteer.doorplates import assign_and_store
from geoservice.gazetteer.geocode import geocode, reverse_geocode

router = APIRouter(tags=["addresses"])


# -- schemas ------------------------------------------------------------------------------------------------
class AddressParse(BaseModel):
    text: str = Field(
        description="地址原文 the address as given",
        examples=["湖北省武汉市江岸区解放大道八十八号"],
        json_schema_extra=VISIBLE_TEXT,
    )


class DivisionRef(BaseModel):
    name: str
    code: str


class Components(BaseModel):
    """Address components (地址要素); absent ones are omitted from the JSON."""

    province: DivisionRef | None = None
    city: DivisionRef | None = None
    county: DivisionRef | None = None
    township: DivisionRef | None = None
    village: DivisionRef | None = None
    road: str | None = None
    number: str | None = None
    building: str | None = None
    unit: str | None = None
    room: str | None = None
    poi: str | None = None


class Candidate(BaseModel):
    name: str
    code: str
    chain: str


class Ambiguity(BaseModel):
    component: str
    text: str
    reason: Literal["ambiguous", "not_in_context"]
    candidates: list[Candidate]
    levels: list[str] = Field(
        default_factory=list,
        description="every level the namesakes leave open (朝阳区 alone: province, city, county)",
    )


class ParseNote(BaseModel):
    """What the parse accepted that is not the standard form (曾用名, 异写, 重复, 舍弃的文字)."""

    kind: Literal["former_name", "former_type", "variant", "duplicate", "dropped", "moved"]
    text: str
    component: str | None = None
    name: str | None = None
    code: str | None = None


class AddressParsed(BaseModel):
    components: Components
    ambiguities: list[Ambiguity]
    unresolved: str
    notes: list[ParseNote] | None = Field(
        None, description="with ?notes=true: former names, variant spellings, doubled levels, dropped text"
    )


class GeocodeCandidatePublic(BaseModel):
    address: str = Field(description="标准地址 standard address text")
    precision: Literal["door", "road", "village", "township", "county", "city", "province"]
    lon: float
    lat: float
    score: float
    division_code: str | None
    collection: str
    record_id: str | None


class GeocodePublic(BaseModel):
    query: str
    candidates: list[GeocodeCandidatePublic]
    components: Components
    ambiguities: list[Ambiguity]


class DivisionPublic(BaseModel):
    name: str
    code: str
    level: str


class ReversePublic(BaseModel):
    lon: float
    lat: float
    address: str
    precision: str | None
    distance_m: float | None
    door_plate: dict[str, Any] | None
    road: dict[str, Any] | None
    divisions: list[DivisionPublic]
    reason: Literal["outside_china", "outside_divisions", "nothing_nearby"] | None = Field(
        None, description="why nothing (or only divisions) was found"
    )


class Entrance(BaseModel):
    lon: float = Field(
        description="经度 CGCS2000 longitude", json_schema_extra={"minimum": -180, "maximum": 180}
    )
    lat: float = Field(
        description="纬度 CGCS2000 latitude", json_schema_extra={"minimum": -90, "maximum": 90}
    )


class RuleOverrides(BaseModel):
    """Fields of the city's numbering rule to override for this request (门牌编号规则)."""

    origin: Literal["standard", "start", "end"] | None = None
    odd_side: Literal["right", "left"] | None = None
    scheme: Literal["sequential", "metric"] | None = None
    metres_per_number: float | None = Field(None, gt=0, le=100)
    reserve_between: int | None = Field(None, ge=0, le=20)
    reserved: list[int] | None = None
    suffix_style: Literal["dash", "zhi", "jia"] | None = None
    dead_end: Literal["start", "end"] | None = None
    max_offset_m: float | None = Field(None, gt=0, le=1000)


class DoorPlatesCreate(BaseModel):
    entrances: list[Entrance] = Field(
        min_length=1, max_length=2000, description="building entrances to number"
    )
    rule: RuleOverrides | None = None
    dry_run: bool = Field(False, description="compute the numbers without storing them")
    reason: str | None = None


class DoorPlatePublic(BaseModel):
    id: str | None
    index: int
    number: int
    suffix: int | None
    label: str
    side: Literal["odd", "even"]
    side_of_road: Literal["left", "right"]
    chainage_m: float
    offset_m: float
    lon: float
    lat: float
    address: str
    status: str


class DoorPlatesPublic(BaseModel):
    road_id: str
    rule: dict[str, Any]
    stored: bool
    plates: list[DoorPlatePublic]


# -- routes ---------------------------------------------------------------------------------------------------
@router.post(
    "/addresses/parse",
    response_model=AddressParsed,
    response_model_exclude_none=True,
    operation_id="parseAddress",
)
def post_parse_address(
    body: AddressParse,
    store: StoreDep,
    user: ReaderDep,
    notes: Annotated[bool, Query(description="也返回说明 / also say what was not standard")] = False,
) -> dict[str, Any]:
    """Parse a free-text address into components; ambiguous divisions are listed, never guessed."""
    return parse_address(body.text, tree_for_store(store)).to_dict(notes=notes)


@router.get(
    "/geocode", response_model=GeocodePublic, response_model_exclude_none=True, operation_id="geocode"
)
def get_geocode(
    store: StoreDep,
    user: ReaderDep,
    q: Annotated[
        str, Query(description="地址 the address text", max_length=200, json_schema_extra=VISIBLE_TEXT)
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> dict[str, Any]:
    """Ranked points for an address, with precision door / road / village / township / county."""
    parsed, candidates = geocode(store, q, limit=limit)
    return {
        "query": q,
        "candidates": [c.to_dict() for c in candidates],
        "components": parsed.components,
        "ambiguities": parsed.ambiguities,
    }


@router.get("/reverse", response_model=ReversePublic, operation_id="reverseGeocode")
def get_reverse(
    store: StoreDep,
    user: ReaderDep,
    lon: Annotated[
        float,
        Query(
            description="经度 CGCS2000 longitude, −180…180",
            json_schema_extra={"minimum": -180, "maximum": 180},
        ),
    ],
    lat: Annotated[
        float,
        Query(
            description="纬度 CGCS2000 latitude, −90…90", json_schema_extra={"minimum": -90, "maximum": 90}
        ),
    ],
    radius_m: Annotated[
        float,
        Query(
            description="search distance in metres, 1–5000", json_schema_extra={"minimum": 1, "maximum": 5000}
        ),
    ] = 100.0,
) -> dict[str, Any]:
    """The standard address at a point: the nearest door plate or road and the division chain."""
    result = reverse_geocode(store, lon, lat, radius_m=radius_m)
    return {
        "lon": result.lon,
        "lat": result.lat,
        "address": result.address,
        "precision": result.precision,
        "distance_m": result.distance_m,
        "door_plate": result.door_plate,
        "road": result.road,
        "divisions": result.divisions,
        "reason": result.reason,
    }


@router.post(
    "/roads/{road_id}/door-plates",
    response_model=DoorPlatesPublic,
    status_code=201,
    operation_id="assignDoorPlates",
)
def post_door_plates(
    road_id: str, body: DoorPlatesCreate, store: StoreDep, user: OfficerDep
) -> dict[str, Any]:
    """Number building entrances along a road by the city's rule; existing plates are never renumbered."""
    for i, entrance in enumerate(body.entrances):
        if not (-180 <= entrance.lon <= 180 and -90 <= entrance.lat <= 90):
            raise InvalidInputError(
                f"入口坐标超出范围 / entrances[{i}] out of lon/lat range: ({entrance.lon}, {entrance.lat})",
                field=f"entrances[{i}]",
                value=[entrance.lon, entrance.lat],
                rule="lonlat_range",
            )
    overrides = body.rule.model_dump(exclude_none=True) if body.rule else {}
    rule, stored = assign_and_store(
        store,
        road_id,
        [Point(e.lon, e.lat) for e in body.entrances],
        user=user.name,
        rule_overrides=overrides,
        dry_run=body.dry_run,
        reason=body.reason,
    )
    return {
        "road_id": road_id,
        "rule": rule.to_dict(),
        "stored": not body.dry_run,
        "plates": [
            {
                "id": None if body.dry_run else feature.id,
                "index": plate.index,
                "number": plate.number,
                "suffix": plate.suffix,
                "label": plate.label,
                "side": plate.side,
                "side_of_road": plate.side_of_road,
                "chainage_m": plate.chainage_m,
                "offset_m": plate.offset_m,
                "lon": plate.point.x,
                "lat": plate.point.y,
                "address": feature.properties["address"],
                "status": feature.properties["status"],
            }
            for plate, feature in stored
        ],
    }
