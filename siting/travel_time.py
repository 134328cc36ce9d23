"""Travel-time circles on the road network (出行时间圈): "15-minute walking" as a network distance.

An analysis with ``distance="walk_time"`` or ``"drive_time"`` counts a cell as served when a facility is within
``service_time_min`` minutes at ``speed_kmh`` along the road graph (:mod:`layers.network`), the walk from the cell
to its nearest road node and from the facility to its node included. With one speed for every road this is exactly
a network distance of ``speed × time`` metres, which is how it is computed; the report names the travel time, the
speed and that distance. Driving uses the one speed given (per-road speeds are not modelled here).

Defaults: 15 minutes (the 15-minute community life circle, 15分钟社区生活圈, of the elderly-care plans), walking at
4.5 km/h (docs/STANDARDS.md §3.5, the lower end of 4.5–5 km/h: elderly walkers are slower), driving at 30 km/h.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from layers.network import DEFAULT_DRIVE_SPEED_MPS, DEFAULT_WALK_SPEED_MPS
from layers.problems import Problems

__all__ = ["DEFAULT_SERVICE_TIME_MIN", "TIME_DISTANCES", "TravelTime", "check_travel_time", "travel_time"]

Distance = Literal["euclidean", "network", "walk_time", "drive_time"]
TIME_DISTANCES: tuple[Distance, ...] = ("walk_time", "drive_time")
DEFAULT_SERVICE_TIME_MIN = 15.0
_DEFAULT_SPEED_KMH = {"walk_time": DEFAULT_WALK_SPEED_MPS * 3.6, "drive_time": DEFAULT_DRIVE_SPEED_MPS * 3.6}
_LABEL = {"walk_time": ("步行时间", "walking time"), "drive_time": ("驾车时间", "driving time")}


@dataclass(frozen=True)
class TravelTime:
    """A travel-time threshold and the network distance it equals (出行时间阈值).

    Attributes
    ----------
    mode : {"walk_time", "drive_time"}
    service_time_min : float
        Minutes (服务时间).
    speed_kmh : float
        Travel speed, km/h.
    radius_m : float
        ``speed × time``: the network distance in metres that takes ``service_time_min`` minutes.
    """

    mode: Distance
    service_time_min: float
    speed_kmh: float
    radius_m: float

    @property
    def label(self) -> str:
        """E.g. ``步行时间 15 分钟 (4.5 km/h, 路网 1125 m) / walking time 15 min at 4.5 km/h (1125 m on the roads)``."""
        chinese, english = _LABEL[self.mode]
        return (
            f"{chinese} {self.service_time_min:g} 分钟 ({self.speed_kmh:g} km/h, 路网 {self.radius_m:.0f} m) / "
            f"{english} {self.service_time_min:g} min at {self.speed_kmh:g} km/h ({self.radius_m:.0f} m on the roads)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the summary and the report."""
        return {
            "mode": self.mode,
            "service_time_min": self.service_time_min,
            "speed_kmh": self.speed_kmh,
            "radius_m": self.radius_m,
            "label": self.label,
        }


def _positive(value: float | None) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def check_travel_time(
    distance: str,
    speed_kmh: float | None,
    service_time_min: float | None,
    radius_m: float | None,
    problems: Problems,
) -> None:
    """Add the problems of a travel-time request to ``problems``, each naming its parameter."""
    if speed_kmh is not None and not _positive(speed_kmh):
        problems.add(
            "speed_kmh",
            speed_kmh,
            f"speed_kmh={speed_kmh!r} 须为大于 0 的速度 / speed_kmh={speed_kmh!r} must be a speed > 0 in km/h "
            "(e.g. 4.5 for elderly walking)",
            rule="positive_speed",
        )
    if service_time_min is not None and not _positive(service_time_min):
        problems.add(
            "service_time_min",
            service_time_min,
            f"service_time_min={service_time_min!r} 须为大于 0 的分钟数 / service_time_min={service_time_min!r} "
            "must be a number of minutes > 0 (e.g. 15)",
            rule="positive_minutes",
        )
    if distance not in TIME_DISTANCES and (speed_kmh is not None or service_time_min is not None):
        problems.add(
            "distance",
            distance,
            f"speed_kmh / service_time_min 只用于出行时间 / speed_kmh and service_time_min apply only to "
            f"distance='walk_time' or 'drive_time', not {distance!r}",
            rule="time_needs_time_distance",
        )
    if distance in TIME_DISTANCES and radius_m is not None:
        problems.add(
            "radius_m",
            radius_m,
            f"distance={distance!r} 以时间计,不能同时给 radius_m / distance={distance!r} is a travel time: give "
            "service_time_min (and speed_kmh), not radius_m",
            rule="time_or_radius",
        )


def travel_time(distance: str, speed_kmh: float | None, service_time_min: float | None) -> TravelTime | None:
    """The travel-time threshold of a request, ``None`` for a distance in metres (checked inputs)."""
    if distance not in TIME_DISTANCES:
        return None
    speed = float(speed_kmh) if speed_kmh is not None else _DEFAULT_SPEED_KMH[distance]
    minutes = float(service_time_min) if service_time_min is not None else DEFAULT_SERVICE_TIME_MIN
    return TravelTime(
        mode=distance,  # type: ignore[arg-type]
        service_time_min=minutes,
        speed_kmh=speed,
        radius_m=speed / 3.6 * minutes * 60.0,
    )
