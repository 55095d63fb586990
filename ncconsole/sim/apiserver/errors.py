"""API errors shaped like the real apiserver's: a `kind: Status` body with reason and code.

Raise `ApiError` anywhere below the HTTP layer; the server turns it into the response body
(`ApiError.status()`) with the same HTTP code. The constructors reproduce the messages that
clients and users recognise, e.g. `pods "x" not found`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A `kind: Status` failure document as the apiserver sends it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details.update(extra)
    return details


def _shown(value: Any) -> str:
    """A bad value as Kubernetes prints it: strings quoted, numbers and booleans bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return f'"{value}"'


def _qualified(plural: str, group: str) -> str:
    return f"{plural}.{group}" if group else plural


@dataclass(frozen=True)
class FieldError:
    """One k8s.io/apimachinery field.Error: FieldValueInvalid or FieldValueRequired."""

    reason: str  # FieldValueInvalid | FieldValueRequired
    field: str
    value: Any = ""
    detail: str = ""

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str) -> FieldError:
        return cls("FieldValueInvalid", field, value, detail)

    @classmethod
    def required(cls, field: str, detail: str = "") -> FieldError:
        return cls("FieldValueRequired", field, "", detail)

    @property
    def body(self) -> str:
        """field.Error.ErrorBody(): `Invalid value: "x": why` or `Required value`."""
        if self.reason == "FieldValueRequired":
            return "Required value" + (f": {self.detail}" if self.detail else "")
        return f"Invalid value: {_shown(self.value)}" + (f": {self.detail}" if self.detail else "")

    def __str__(self) -> str:
        return f"{self.field}: {self.body}"


class ApiError(Exception):
    """An error answered to the client as a Status document with HTTP `code`."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        return status_body(self.code, self.reason, self.message, self.details)

    # --- the errors a real apiserver returns, with its wording -------------------------------
    @classmethod
    def not_found(cls, plural: str, group: str, name: str) -> ApiError:
        q = _qualified(plural, group)
        return cls(404, "NotFound", f'{q} "{name}" not found', _details(name, group, plural))

    @classmethod
    def already_exists(cls, plural: str, group: str, name: str) -> ApiError:
        q = _qualified(plural, group)
        return cls(
            409, "AlreadyExists", f'{q} "{name}" already exists', _details(name, group, plural)
        )

    @classmethod
    def conflict(cls, plural: str, group: str, name: str) -> ApiError:
        q = _qualified(plural, group)
        msg = (
            f'Operation cannot be fulfilled on {q} "{name}": the object has been modified; '
            "please apply your changes to the latest version and try again"
        )
        return cls(409, "Conflict", msg, _details(name, group, plural))

    @classmethod
    def forbidden(
        cls, user: str, verb: str, resource: str, group: str, namespace: str, name: str = ""
    ) -> ApiError:
        plural = resource.split("/")[0]
        subject = f'{_qualified(plural, group)} "{name}"' if name else _qualified(plural, group)
        where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
        msg = (
            f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
            f'in API group "{group}" {where}'
        )
        return cls(403, "Forbidden", msg, _details(name, group, plural))

    @classmethod
    def invalid(
        cls, kind: str, group: str, name: str, causes: list[tuple[str, Any, str]]
    ) -> ApiError:
        """`causes` are (field, bad value, why) triples, as FieldValueInvalid causes."""
        return cls.invalid_fields(
            kind, group, name, [FieldError.invalid(f, v, why) for f, v, why in causes]
        )

    @classmethod
    def invalid_fields(cls, kind: str, group: str, name: str, errors: list[FieldError]) -> ApiError:
        """The 422 of apierrors.NewInvalid: `Kind.group "name" is invalid: <errors>`, one
        error as is, several as `[a, b]`, each also a cause."""
        msgs = [str(e) for e in errors]
        shown = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
        q = f"{kind}.{group}" if group else kind
        causes = [{"reason": e.reason, "message": e.body, "field": e.field} for e in errors]
        return cls(
            422, "Invalid", f'{q} "{name}" is invalid: {shown}',
            _details(name, group, kind, causes=causes),
        )  # fmt: skip

    @classmethod
    def forbidden_list_option(cls, field: str, why: str) -> ApiError:
        """A ListOptions field that may not be used as given (FieldValueForbidden)."""
        return cls(
            422,
            "Invalid",
            f'ListOptions.meta.k8s.io "" is invalid: {field}: Forbidden: {why}',
            {
                "group": "meta.k8s.io",
                "kind": "ListOptions",
                "causes": [
                    {
                        "reason": "FieldValueForbidden",
                        "message": f"Forbidden: {why}",
                        "field": field,
                    }
                ],
            },
        )

    @classmethod
    def rejected_patch(cls) -> ApiError:
        """A JSON patch whose `test` operation failed, in the real server's words."""
        return cls(
            422, "Invalid", "the server rejected our request due to an error in our request", {}
        )

    @classmethod
    def expired(cls, message: str) -> ApiError:
        return cls(410, "Expired", message)

    @classmethod
    def gone(cls, message: str) -> ApiError:
        return cls(410, "Gone", message)

    @classmethod
    def unauthorized(cls) -> ApiError:
        return cls(401, "Unauthorized", "Unauthorized")

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def unsupported_media_type(cls, content_type: str, accepted: list[str]) -> ApiError:
        return cls(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(accepted),
        )

    @classmethod
    def method_not_allowed(cls) -> ApiError:
        return cls(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )

    @classmethod
    def path_not_found(cls) -> ApiError:
        return cls(404, "NotFound", "the server could not find the requested resource", {})
