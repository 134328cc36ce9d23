"""Dependencies shared by the routers: the store, the current user, role checks (依赖项)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from geoservice.errors import AuthenticationError, ForbiddenError
from geoservice.settings import Settings
from geoservice.store import Store, User
from geoservice.users import ROLE_LABELS, authenticate


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
