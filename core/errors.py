"""One base for every refusal the domain makes: a code, a sentence, an optional field.

Services raise a `DomainError` (or an app's subclass of it) before they change anything.
The roof maps it once (`lms.http`): an HTML page shows the sentence (as a form field error
when `field` names one), a JSON client gets an RFC 9457 problem body with the code and
field as extension members. The status says which rule refused:

- 400 `invalid`: the input is wrong (`field` says which);
- 403 `forbidden`: the actor may see the thing but not do this to it (yet), the sentence
  says why ("unlocks on 3 Dec", "complete Lesson 2 first");
- 404 `not_found`: the actor may not know the thing exists (same answer as another tenant's);
- 409 `conflict`: the thing changed or the state forbids it (a duplicate, a stale version).
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation, with a machine code, a sentence for a person and an optional field."""

    status: int = 400
    code: str = "invalid"
    title: str = "The request was refused"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def as_problem(self) -> dict:
        """The RFC 9457 members: type, title, status, detail, plus code and (if any) field."""
        body = {
            "type": f"https://lms.invalid/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.message,
            "code": self.code,
        }
        if self.field:
            body["field"] = self.field
        return body


class InvalidRequest(DomainError):
    status = 400
    code = "invalid"
    title = "Invalid input"


class Forbidden(DomainError):
    """Visible but not open to this actor now; the sentence is the reason to show."""

    status = 403
    code = "forbidden"
    title = "Not allowed"


class NotFound(DomainError):
    """What the actor may not know exists: the same answer as an object of another tenant."""

    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict"
