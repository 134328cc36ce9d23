"""A fast Mapbox Vector Tile 2.1 encoder for point layers (点图层编码), in plain Python.

``mapbox_vector_tile.encode`` spends ~60–100 µs a feature checking and converting each geometry and
attribute; an aggregated point tile holds up to 1,024 points, so that alone would eat the cold-tile budget
(< 100 ms). Points need none of its generality: a feature is an id, a few attributes and one ``MoveTo``.
This writes the protobuf by hand (field numbers of ``vector_tile.proto`` 2.1), deduplicating keys and
values per layer as the spec asks, at a few µs a feature. Other geometries still go through
``mapbox_vector_tile``.

Examples
--------
>>> import mapbox_vector_tile
>>> tile = encode_point_layer("facilities", [(7, 10, 20, {"name": "甲", "point_count": 3})])
>>> decoded = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})["facilities"]
>>> decoded["features"][0]["geometry"], decoded["features"][0]["properties"]
({'type': 'Point', 'coordinates': [10, 20]}, {'name': '甲', 'point_count': 3})
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Mapping

PointFeature = tuple[
    int, int, int, Mapping[str, str | int | float | bool]
]  # id, x, y (tile units), attributes


def _varint_long(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL = [_varint_long(v) for v in range(1 << 14)]  # tag indices and coordinates: one lookup, no loop


def _varint(value: int) -> bytes:
    return _SMALL[value] if value < 16384 else _varint_long(value)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _SMALL[(number << 3) | 2] + _varint(len(payload)) + payload


def _value(value: str | int | float | bool) -> bytes:
    if isinstance(value, bool):
        return b"\x38" + _varint(int(value))  # bool_value = 7
    if isinstance(value, int):
        return b"\x30" + _varint(_zigzag(value) & 0xFFFFFFFFFFFFFFFF)  # sint_value = 6
    if isinstance(value, float):
        return b"\x19" + struct.pack("<d", value)  # double_value = 3
    return _field(1, str(value).encode())  # string_value = 1


def encode_point_layer(name: str, features: Iterable[PointFeature], *, extent: int = 4096) -> bytes:
    """One MVT layer of points as tile bytes (``b""`` when there is no feature).

    ``x``/``y`` are tile units (0…``extent``, y down); ``None`` and non-finite attribute values are left out.
    """
    keys: dict[str, int] = {}
    values: dict[tuple[type, str | int | float | bool], int] = {}
    body = bytearray()
    for fid, x, y, attributes in features:
        tags = bytearray()
        for key, value in attributes.items():
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                continue
            k = keys.setdefault(key, len(keys))
            v = values.setdefault((type(value), value), len(values))
            tags += _varint(k)
            tags += _varint(v)
        geometry = b"\x09" + _varint(_zigzag(x)) + _varint(_zigzag(y))  # MoveTo(1), dx, dy from (0, 0)
        feature = b"\x08" + _varint(fid) + _field(2, bytes(tags)) + b"\x18\x01" + _field(4, geometry)
        body += _field(2, feature)
    if not body:
        return b""
    layer = b"\x78\x02" + _field(1, name.encode()) + bytes(body)  # version = 2, name
    layer += b"".join(_field(3, k.encode()) for k in keys)
    layer += b"".join(_field(4, _value(v)) for (_, v) in values)
    layer += b"\x28" + _varint(extent)
    return _field(3, layer)
