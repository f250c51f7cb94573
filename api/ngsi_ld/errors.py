"""NGSI-LD errors: problem details (RFC 7807) with the ETSI error types.

::

    NgsiLdError
    ├── BadRequestData          400  a query parameter or an id that cannot be used
    ├── ResourceNotFound        404  no entity has this id
    ├── NotAcceptable           406  the Accept header names no JSON form we answer
    └── OperationNotSupported   422  a part of the API this read-only endpoint does not implement
"""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi.responses import JSONResponse

__all__ = [
    "ERRORS",
    "BadRequestData",
    "NgsiLdError",
    "NotAcceptable",
    "OperationNotSupported",
    "ResourceNotFound",
    "http_problem",
]

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"


class NgsiLdError(Exception):
    """An error answered as NGSI-LD problem details."""

    status: ClassVar[int] = 400
    kind: ClassVar[str] = "BadRequestData"
    title: ClassVar[str] = "Bad request data"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def document(self) -> dict[str, Any]:
        return {"type": ERRORS + self.kind, "title": self.title, "detail": self.detail}

    def response(self) -> JSONResponse:
        return JSONResponse(
            self.document(), status_code=self.status, headers={"Cache-Control": "no-store"}
        )


class BadRequestData(NgsiLdError):
    pass


class ResourceNotFound(NgsiLdError):
    status = 404
    kind = "ResourceNotFound"
    title = "Resource not found"


class NotAcceptable(NgsiLdError):
    status = 406
    kind = "NotAcceptable"
    title = "Not acceptable"


class OperationNotSupported(NgsiLdError):
    status = 422
    kind = "OperationNotSupported"
    title = "Operation not supported"


def http_problem(status: int, message: str) -> JSONResponse:
    """An HTTP error of the framework (no route for the path, method not allowed) under
    ``/ngsi-ld/``, as problem details too: ResourceNotFound for 404, BadRequestData otherwise."""
    if status == 404:
        return ResourceNotFound(message).response()
    problem = BadRequestData(message).document()
    return JSONResponse(problem, status_code=status, headers={"Cache-Control": "no-store"})
