"""Boundary lines, markers and their joint inspections (行政区域界线、界桩与联检).

- :mod:`~geoservice.boundaries.lines` — lines between two divisions (界线), derived from division polygons or
  imported, with gap / overlap checks.
- :mod:`~geoservice.boundaries.markers` — the marker register (界桩登记): numbering, reference objects, checks.
- :mod:`~geoservice.boundaries.inspections` — inspections (检查记录): displacement, flags, rounds (联检轮次).
- :mod:`~geoservice.boundaries.photos` — inspection photos stored by SHA-256 checksum.
- :mod:`~geoservice.boundaries.reports` — line and round reports (JSON / CSV / printable HTML), 界桩成果表.
- :mod:`~geoservice.boundaries.packages` — field packages (外业数据包): GeoPackage out and back in.
"""
