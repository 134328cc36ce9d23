"""Geodata in and out (地理数据读写): CRS, vector and raster I/O, population, road networks, divisions.

No web, no database: ``siting`` and ``geoservice`` build on this package, never the other way round.
"""
