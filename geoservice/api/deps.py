"""Dependencies shared by the routers: the store, the current user, role checks (依赖项)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from pydantic import AfterValidator, BeforeValidator

from geoservice.division_codes import DIVISION_CODE_DESCRIPTION, DIVISION_CODE_PATTERN
from geoservice.errors import AuthenticationError, BadRequestError, ForbiddenError, PreconditionRequiredError
from geoservice.settings import Settings
from geoservice.store import Store, User
from geoservice.users import ROLE_LABELS, authenticate
from layers.admin import division_code

#: A division code in the query string (``?division_code=420100``): any accepted form, the canonical code as value.
DivisionCodeQuery = Annotated[
    str,
    Query(pattern=DIVISION_CODE_PATTERN, description=DIVISION_CODE_DESCRIPTION),
    AfterValidator(division_code),
]
#: A division code in the path (``/publication/directory/420100``), likewise.
DivisionCodePath = Annotated[
    str,
    Path(pattern=DIVISION_CODE_PATTERN, description=DIVISION_CODE_DESCRIPTION),
    AfterValidator(division_code),
]


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The store opened by the app's lifespan."""
    store: Store = request.app.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def optional_user(request: Request, store: StoreDep) -> User | None:
    """The user of the bearer token, ``None`` without a token; 401 for a token nobody holds."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError(
            "认证头格式应为 'Authorization: Bearer <令牌>' / expected 'Authorization: Bearer <token>'",
            field="Authorization",
            value=scheme,
        )
    return authenticate(store, token.strip())


def require_role(*roles: str) -> Callable[..., User]:
    """A dependency that lets through a user with one of ``roles`` (an admin always passes)."""

    def dependency(user: Annotated[User | None, Depends(optional_user)]) -> User:
        if user is None:
            raise AuthenticationError("需要登录令牌 / a bearer token is required for this action")
        if user.role != "admin" and user.role not in roles:
            wanted = ", ".join(ROLE_LABELS.get(r, r) for r in roles)
            raise ForbiddenError(
                f"角色 {user.role} 无权执行此操作,需要:{wanted} / role {user.role!r} may not do this; needs {wanted}",
                details={"role": user.role, "required": list(roles)},
            )
        return user

    return dependency


def read_access(
    request: Request, user: Annotated[User | None, Depends(optional_user)], settings: SettingsDep
) -> User | None:
    """Reads are open unless ``GEOSERVICE_AUTH_REQUIRED_FOR_READS`` is set."""
    if settings.auth_required_for_reads and user is None:
        raise AuthenticationError("本服务的读取也需要令牌 / this service requires a token for reads too")
    return user


OfficerDep = Annotated[User, Depends(require_role("officer"))]
InspectorDep = Annotated[User, Depends(require_role("inspector"))]
PlannerDep = Annotated[User, Depends(require_role("planner"))]
AdminDep = Annotated[User, Depends(require_role("admin"))]
ReaderDep = Annotated[User | None, Depends(read_access)]


#: What ``If-Match`` may hold: a record version (``"3"``, ``W/"3"``, ``3``) or ``*`` (any version).
IF_MATCH_PATTERN = r'^\s*(\*|(W/)?"?[0-9]{1,18}"?)\s*$'
#: What a required ``If-Match`` may hold: a version only (``*`` is answered with 428).
IF_MATCH_VERSION_PATTERN = r'^\s*(W/)?"?[0-9]{1,18}"?\s*$'
IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='记录版本,即 ETag / the record version, the ETag of its GET (e.g. "3")',
        pattern=IF_MATCH_PATTERN,
    ),
]


def if_match_version(value: str | None) -> int | None:
    """The version named by an ``If-Match`` value; ``None`` when absent or ``*`` (any version)."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadRequestError(
            f'If-Match 应为记录版本号(如 "3")/ If-Match must be the record version (e.g. "3"), got {value!r}',
            field="If-Match",
            value=value,
            rule="if_match",
        )
    return int(text)


def optional_version(if_match: IfMatchHeader = None) -> int | None:
    """``If-Match`` where it is optional: the version a change is based on, or ``None``."""
    return if_match_version(if_match)


def required_version(if_match: IfMatchHeader = None) -> int:
    """``If-Match`` of an update of a versioned record: 428 without it (``*`` is not enough), 400 if malformed.

    The OpenAPI document marks the header required on every route that depends on this
    (:func:`geoservice.api.openapi_contract.contract_openapi`).
    """
    version = if_match_version(if_match)
    if version is None:
        raise PreconditionRequiredError(
            '更新记录须带 If-Match 请求头(记录版本,即读取该记录时的 ETag,如 "3")/ an update needs If-Match: '
            'the record version, the ETag of its GET (e.g. "3"), so that a concurrent change is not overwritten',
            field="If-Match",
            value=if_match,
            rule="if_match_required",
        )
    return version


VersionDep = Annotated[int, Depends(required_version)]
OptionalVersionDep = Annotated[int | None, Depends(optional_version)]


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date_only(value: Any) -> Any:
    """A date as ``YYYY-MM-DD`` only: not a number of seconds (pydantic's lax mode reads ``0`` as 1970-01-01)."""
    if isinstance(value, int | float) or (isinstance(value, str) and not _ISO_DATE.match(value)):
        raise ValueError(
            f"日期应写作 YYYY-MM-DD / a date is written YYYY-MM-DD (e.g. 2025-06-30), got {value!r}"
        )
    return value


#: A date in a request (日期): ``YYYY-MM-DD``, as the OpenAPI document says (``format: date``).
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
