"""The one exception tree of Tenure; each error knows its HTTP status and SCIM ``scimType``.

    TenureError
    ├── InvalidInput          400  invalidValue / invalidSyntax
    │   ├── InvalidFilter     400  invalidFilter
    │   ├── InvalidPath       400  invalidPath
    │   ├── NoTarget          400  noTarget
    │   ├── Mutability        400  mutability
    │   └── TooMany           400  tooMany
    ├── Unauthorized          401
    ├── Forbidden             403
    ├── NotFound              404
    ├── MethodNotAllowed      405
    ├── Conflict              409
    │   └── Uniqueness        409  uniqueness
    ├── PreconditionFailed    412
    └── PayloadTooLarge       413

The SCIM edge (``tenure.scim.errors``) and the admin API render these; nothing else does.
"""

from __future__ import annotations

from typing import ClassVar


class TenureError(Exception):
    """Base of every error a client may see; ``detail`` is safe to show."""

    status: ClassVar[int] = 500
    scim_type: ClassVar[str | None] = None
    code: ClassVar[str] = "internal_error"

    def __init__(self, detail: str, *, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if scim_type is not None:
            self.scim_type_override: str | None = scim_type
        else:
            self.scim_type_override = None

    @property
    def effective_scim_type(self) -> str | None:
        return self.scim_type_override or self.scim_type


class InvalidInput(TenureError):
    status = 400
    scim_type = "invalidValue"
    code = "invalid_input"


class InvalidSyntax(InvalidInput):
    scim_type = "invalidSyntax"
    code = "invalid_syntax"


class InvalidFilter(InvalidInput):
    scim_type = "invalidFilter"
    code = "invalid_filter"


class InvalidPath(InvalidInput):
    scim_type = "invalidPath"
    code = "invalid_path"


class NoTarget(InvalidInput):
    scim_type = "noTarget"
    code = "no_target"


class Mutability(InvalidInput):
    scim_type = "mutability"
    code = "mutability"


class TooMany(InvalidInput):
    scim_type = "tooMany"
    code = "too_many"


class Unauthorized(TenureError):
    status = 401
    code = "unauthorized"


class Forbidden(TenureError):
    status = 403
    code = "forbidden"


class NotFound(TenureError):
    status = 404
    code = "not_found"


class MethodNotAllowed(TenureError):
    status = 405
    code = "method_not_allowed"


class Conflict(TenureError):
    status = 409
    code = "conflict"


class Uniqueness(Conflict):
    scim_type = "uniqueness"
    code = "uniqueness"


class PreconditionFailed(TenureError):
    status = 412
    code = "precondition_failed"


class PayloadTooLarge(TenureError):
    status = 413
    code = "payload_too_large"


class Unavailable(TenureError):
    """The database could not be reached (RFC 7644 §3.12 allows 503): the client retries."""

    status = 503
    code = "unavailable"
