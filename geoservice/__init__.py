"""geoservice — place names, administrative boundaries and facility siting for civil-affairs map work.

地名管理、行政区域界线与民政设施选址服务。
"""

__version__ = "0.1.0"
