"""Domain errors of the service (服务错误) and the one table that maps them to HTTP status codes.

Domain code raises these; it never raises HTTP errors. The API turns them into JSON bodies
``{"error": <code>, "message": <what was wrong and how to fix it>, "details": ...}`` through
:data:`HTTP_STATUS`. Messages are bilingual: Chinese first, English after a `` / ``.

Examples
--------
>>> err = InvalidInputError("名称不能为空 / name must not be empty", field="name", value="", rule="required")
>>> err.code, HTTP_STATUS[type(err)]
('invalid_input', 422)
>>> err.details
{'field': 'name', 'value': '', 'rule': 'required'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class GeoserviceError(Exception):
    """Base of every error the service reports to a user (服务错误基类).

    Parameters
    ----------
    message
        What was wrong, the value given, what was expected and how to fix it (Chinese / English).
    field, value, rule
        The input field, the offending value and the rule it broke; gathered into ``details``.
    details
        Anything else a client needs (conflicting records, a list of problems ...).
    """

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        rule: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        merged: dict[str, Any] = {}
        if field is not None:
            merged["field"] = field
            merged["value"] = _short(value)
        if rule is not None:
            merged["rule"] = rule
        if isinstance(details, dict):
            merged.update(details)
        elif details is not None:
            merged["problems" if isinstance(details, list) else "info"] = details
        self.details: dict[str, Any] | None = merged or None


class BadRequestError(GeoserviceError, ValueError):
    """Malformed request: unknown parameter, wrong type, unparseable value (请求格式错误)."""

    code = "bad_request"


class InvalidInputError(GeoserviceError, ValueError):
    """Well-formed input that breaks a rule: a naming rule, a geometry rule, a range (内容不合规)."""

    code = "invalid_input"


class NotFoundError(GeoserviceError, LookupError):
    """The record or resource does not exist (未找到)."""

    code = "not_found"


class ConflictError(GeoserviceError):
    """The request conflicts with what is stored: a duplicate name, a stale version (冲突)."""

    code = "conflict"


class PreconditionFailedError(ConflictError):
    """``If-Match`` names a version that is no longer current (版本已变更)."""

    code = "version_mismatch"


class PreconditionRequiredError(GeoserviceError):
    """An update of a versioned record sent without ``If-Match`` (须带版本号, 428): the last writer must not
    silently win."""

    code = "if_match_required"


class AuthenticationError(GeoserviceError, PermissionError):
    """No token, or a token that is not known (未认证)."""

    code = "unauthenticated"


class ForbiddenError(GeoserviceError, PermissionError):
    """A known user whose role does not allow the action (无权限)."""

    code = "forbidden"


class MethodNotAllowedError(GeoserviceError):
    """A method the resource does not take (方法不允许, 405), e.g. editing a collection that is read-only
    through OGC API; ``allow`` lists the methods it does take (the ``Allow`` header)."""

    code = "method_not_allowed"

    def __init__(self, message: str, *, allow: list[str], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.allow = allow


class PayloadTooLargeError(GeoserviceError, ValueError):
    """A request body or an upload over its size limit (请求过大)."""

    code = "too_large"


class UnavailableError(GeoserviceError, RuntimeError):
    """A part of the service this request needs is missing, failed or restarting (Chromium for PDF, the
    database …) (服务暂不可用, 503).

    ``retry_after_s``, when a retry soon can help (the database restarting), becomes ``Retry-After``.
    """

    code = "unavailable"

    def __init__(self, message: str, *, retry_after_s: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after_s = retry_after_s


class SettingsError(BadRequestError):
    """A ``GEOSERVICE_*`` setting with a bad value (配置错误); the command line exits with code 2."""

    code = "bad_setting"
    exit_code = 2


class UnsolvableError(InvalidInputError):
    """A location model that cannot be solved as asked (模型无法按要求求解, 422): no feasible solution (demand out
    of every candidate's reach, too few sites), or none found within the time limit. The request has to change
    (more candidates, a larger radius, a longer time limit), not the service."""

    code = "unsolvable"


class StorageError(GeoserviceError, RuntimeError):
    """The database cannot do what was asked (unreachable, wrong schema version) (存储错误)."""

    code = "storage_error"


class NotReadyError(StorageError):
    """The service should not get traffic yet: database down, schema not current, indexes building (未就绪)."""

    code = "not_ready"


class SchemaTooNewError(StorageError):
    """The database was upgraded by a newer geoservice than this one (数据库结构版本过新).

    The command line exits with code 2 (:attr:`exit_code`): the install, not the data, has to change.
    """

    code = "schema_too_new"
    exit_code = 2


#: The one table from error class to HTTP status. The most specific class wins (see :func:`status_for`).
HTTP_STATUS: dict[type[GeoserviceError], int] = {
    GeoserviceError: 400,
    BadRequestError: 400,
    InvalidInputError: 422,
    NotFoundError: 404,
    ConflictError: 409,
    PreconditionFailedError: 412,
    PreconditionRequiredError: 428,
    AuthenticationError: 401,
    ForbiddenError: 403,
    MethodNotAllowedError: 405,
    PayloadTooLargeError: 413,
    UnsolvableError: 422,
    StorageError: 503,
    UnavailableError: 503,
}


def status_for(error: GeoserviceError) -> int:
    """HTTP status of ``error``: the entry of its nearest class in :data:`HTTP_STATUS`."""
    for klass in type(error).__mro__:
        if klass in HTTP_STATUS:
            return HTTP_STATUS[klass]  # type: ignore[index]
    return 400


_AS_CHECKED = object()


def require_choice(
    value: Any,
    choices: Iterable[str],
    *,
    field: str,
    rule: str,
    noun_zh: str,
    noun_en: str,
    error: type[GeoserviceError] = InvalidInputError,
    given: Any = _AS_CHECKED,
    labels: Mapping[str, str] | None = None,
    details_key: str | None = None,
    message: str | None = None,
) -> None:
    """Raise ``error`` unless ``value`` is one of ``choices`` (取值须为所列之一), naming field, value and rule.

    The one check of "a value from an allowed set" with its bilingual message
    ``未知<noun_zh> 'v' / unknown <noun_en> field='v'; use one of a, b``.

    Parameters
    ----------
    value
        The value checked (after any normalisation).
    choices
        The allowed values, in the order the message lists them.
    field, rule
        The input field and the rule's name, as the error's ``details`` carry them.
    noun_zh, noun_en
        What the value is, in Chinese and English ("角色", "role").
    error
        The error class, hence the status: :class:`NotFoundError` (404) for a resource that is not served,
        :class:`BadRequestError` (400) for a malformed request, :class:`InvalidInputError` (422) otherwise.
    given
        The value as the user gave it, echoed in the message and ``details`` (default: ``value``).
    labels
        A label for each choice, listed beside it (``damaged (破损)``).
    details_key
        When given, ``details`` also list the choices under this key (``"allowed"``).
    message
        A message of the caller's own instead of the standard one (one a client already matches on).

    Examples
    --------
    >>> require_choice("planner", ["admin", "planner"], field="role", rule="role", noun_zh="角色", noun_en="role")
    >>> try:
    ...     require_choice("x", ["a", "b"], field="role", rule="role", noun_zh="角色", noun_en="role")
    ... except InvalidInputError as err:
    ...     print(err.message, err.details)
    未知角色 'x' / unknown role role='x'; use one of a, b {'field': 'role', 'value': 'x', 'rule': 'role'}
    """
    allowed = list(choices)
    if value in allowed:
        return
    shown = value if given is _AS_CHECKED else given
    if message is None:
        listed = ", ".join(f"{c} ({labels[c]})" if labels else c for c in allowed)
        message = f"未知{noun_zh} {shown!r} / unknown {noun_en} {field}={shown!r}; use one of {listed}"
    raise error(
        message,
        field=field,
        value=shown,
        rule=rule,
        details={details_key: allowed} if details_key else None,
    )


def choice_or_label(
    value: Any,
    labels: Mapping[str, str],
    *,
    field: str,
    rule: str,
    noun_zh: str,
    noun_en: str,
    aliases: Mapping[str, str] | None = None,
) -> str:
    """The code of ``value`` (代码或中文名): a code of ``labels`` or its Chinese label, else a 422 naming the choices.

    A code is taken in any case, with spaces around and ``-`` for ``_``; ``aliases`` map other spellings met in
    exchanged data to a code. The error is :func:`require_choice`'s, echoing ``value`` as given.

    Parameters
    ----------
    labels
        Code → Chinese label (``{"damaged": "破损"}``), in the order the message lists them.
    field, rule, noun_zh, noun_en
        As for :func:`require_choice`.

    Examples
    --------
    >>> labels = {"intact": "完好", "newly_set": "新埋"}
    >>> choice_or_label("新埋", labels, field="condition", rule="enum", noun_zh="状况", noun_en="condition")
    'newly_set'
    >>> choice_or_label(" Newly-Set ", labels, field="condition", rule="enum", noun_zh="状况", noun_en="condition")
    'newly_set'
    >>> choice_or_label("new", labels, field="condition", rule="enum", noun_zh="状况", noun_en="condition",
    ...                 aliases={"new": "newly_set"})
    'newly_set'
    """
    text = str(value).strip()
    by_label = {label: code for code, label in labels.items()}
    code = by_label.get(text, text.lower().replace("-", "_"))
    code = (aliases or {}).get(code, code)
    require_choice(
        code, labels, field=field, rule=rule, noun_zh=noun_zh, noun_en=noun_en, given=value, labels=labels
    )
    return code


def _short(value: Any, limit: int = 200) -> Any:
    """Echo a value back without echoing a 10 kB string."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"… ({len(value)} chars)"
    return value


def from_library_error(exc: Exception) -> GeoserviceError | None:
    """The domain error for an error raised by ``layers`` or ``siting`` (they know nothing of HTTP)."""
    from layers.errors import CRSError, LayerError, LayerReadError
    from siting.errors import InfeasibleError, SitingError, SolverError

    if isinstance(exc, LayerReadError):
        return BadRequestError(exc.message, details={"problems": exc.problems} if exc.problems else None)
    if isinstance(exc, CRSError | LayerError):
        return InvalidInputError(exc.message, details={"problems": exc.problems} if exc.problems else None)
    if isinstance(exc, SolverError) and "call" in exc.details:
        # a HiGHS call itself failed: the solver (a dependency) is broken, not the request
        return UnavailableError(exc.message, details=exc.details or None)
    if isinstance(exc, SolverError | InfeasibleError):
        return UnsolvableError(exc.message, details=exc.details or None)
    if isinstance(exc, SitingError):
        return InvalidInputError(exc.message, details=exc.details or None)
    return None
