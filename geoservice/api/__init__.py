"""The HTTP service (HTTP 接口): ``create_app(settings)`` assembles one router per area."""

from geoservice.api.app import create_app

__all__ = ["create_app"]
