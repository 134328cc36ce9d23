"""Facility-siting analysis (设施选址分析): coverage, access, location models and reports.

Pure functions and small classes over GeoDataFrames and arrays; builds on ``layers`` only.
"""
