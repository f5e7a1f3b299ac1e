"""One error class for everything a user or script can get wrong; one handler renders it."""

from __future__ import annotations


class CasenotesError(Exception):
    """An error with a message a worker can read and the HTTP status it maps to."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(CasenotesError):
    status = 422


class NotFound(CasenotesError):
    status = 404


class NotYours(NotFound):
    """Missing, or on a case this user cannot see: both answer alike, so that an id does not
    tell someone without access that the record exists."""


class Forbidden(CasenotesError):
    status = 403


class NotSignedIn(CasenotesError):
    status = 401


class Conflict(CasenotesError):
    status = 409


class TooLarge(CasenotesError):
    """A request body or recording over its size limit."""

    status = 413


class TooMany(CasenotesError):
    status = 429

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after  # seconds, sent as Retry-After


class EngineNotLoaded(CasenotesError):
    """The suggestion engine is off on this server (CASENOTES_LOAD_MODELS=0)."""

    status = 503
