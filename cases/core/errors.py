"""Domain errors. They know nothing of HTTP; gateway/problems.py maps them to responses."""
from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Conflict(DomainError):
    """The change conflicts with the current state (stale version, task no longer open...)."""

    code = "conflict"

    def __init__(self, message: str, code: str = "conflict", **details):
        super().__init__(message, **details)
        self.code = code


class TooManyAttempts(DomainError):
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class Gone(DomainError):
    """Something that existed and can no longer be used (an expired survey link)."""

    code = "gone"

    def __init__(self, message: str, code: str = "gone", **details):
        super().__init__(message, **details)
        self.code = code


class TooLarge(DomainError):
    """Content over a size limit (``max_bytes`` names it)."""

    code = "too_large"


class PreconditionRequired(DomainError):
    code = "version_required"


class ValidationFailed(DomainError):
    """Input that breaks a rule; ``errors`` lists {field, message} pairs."""

    code = "validation_failed"

    def __init__(self, message: str, errors: list[dict]):
        super().__init__(message)
        self.errors = errors


class ProcessFailure(DomainError):
    """The process could not take the step (an error in the diagram); nothing was saved."""

    code = "process_error"

    def __init__(self, message: str, element: str | None, line: int | None = None):
        super().__init__(message)
        self.element = element
        self.line = line
        self.instance_id: int | None = None


class InvalidDefinition(DomainError):
    """Process files that cannot be deployed."""

    code = "invalid_definition"

    def __init__(self, message: str, problems: list[dict]):
        super().__init__(message)
        self.problems = problems
