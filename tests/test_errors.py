"""Every error class lives in service/errors.py, with its status."""

from __future__ import annotations

import importlib
import pkgutil

import service
from service.errors import CasenotesError


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_error_class_is_in_errors_py() -> None:
    for module in pkgutil.walk_packages(service.__path__, "service."):
        importlib.import_module(module.name)
    errors = _subclasses(CasenotesError)
    assert {"TooLarge", "EngineNotLoaded", "NotYours", "Forbidden"} <= {e.__name__ for e in errors}
    assert {e.__module__ for e in errors} == {"service.errors"}
    assert all(400 <= e.status < 600 for e in errors)


def test_not_yours_answers_as_not_found() -> None:
    from service.errors import NotFound, NotYours

    assert issubclass(NotYours, NotFound) and NotYours.status == NotFound.status == 404
