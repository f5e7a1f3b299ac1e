"""Dependencies shared by the routes: the database, the taxonomy and suggester, the
signed-in user, CSRF."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlite_utils import Database

from service import accounts
from service.accounts import User
from service.errors import EngineNotLoaded, Forbidden, NotSignedIn
from service.nlp.rule_files import RuleFiles
from service.nlp.suggester import Suggester
from service.nlp.taxonomy import Taxonomy
from service.settings import Settings

SESSION_COOKIE = "casenotes_session"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


# The dependencies are async on purpose: each sync dependency costs a hop to the thread pool,
# and these do only a few microseconds of SQLite work.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_db(request: Request) -> AsyncIterator[Database]:
    # One connection per request at a time, from the app's pool.
    pool = request.app.state.db_pool
    db = pool.take()
    try:
        yield db
    finally:
        pool.give_back(db)


async def get_rule_files(request: Request) -> RuleFiles:
    return request.app.state.rule_files


async def get_taxonomy(request: Request) -> Taxonomy:
    """The taxonomy in use: the process's one, read again if its file changed (a stat)."""
    return request.app.state.rule_files.taxonomy


async def get_suggester(request: Request) -> Suggester:
    suggester = request.app.state.suggester
    if suggester is None:
        raise EngineNotLoaded("The suggestion engine is not loaded on this server "
                              "(CASENOTES_LOAD_MODELS is off). You can still write and finalise.")
    return suggester


SettingsDep = Annotated[Settings, Depends(get_settings)]
DbDep = Annotated[Database, Depends(get_db)]
RuleFilesDep = Annotated[RuleFiles, Depends(get_rule_files)]
TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]
SuggesterDep = Annotated[Suggester, Depends(get_suggester)]


def templates(request: Request) -> Jinja2Templates:
    return request.app.state.templates


def _session(request: Request, db: Database) -> tuple[User, str] | None:
    if not hasattr(request.state, "session"):
        token = request.cookies.get(SESSION_COOKIE)
        request.state.session = accounts.session_user(db, token) if token else None
    return request.state.session


async def optional_user(request: Request, db: DbDep) -> User | None:
    found = _session(request, db)
    return found[0] if found else None


async def page_user(request: Request, db: DbDep) -> User:
    """The signed-in user of a page; CSRF-checked on every state-changing request."""
    found = _session(request, db)
    if found is None:
        raise NotSignedIn("Sign in to continue.")
    user, csrf = found
    if request.method in UNSAFE:
        _check_csrf(request, csrf)
    request.state.csrf = csrf
    return user


def _check_csrf(request: Request, csrf: str) -> None:
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        # Form posts carry it as a field, in the form `parse_form` read before this check.
        form = getattr(request.state, "form", None)
        sent = form.get("csrf_token") if form is not None else None
    if not sent or not secrets.compare_digest(str(sent), csrf):
        raise Forbidden("This form has expired or did not come from Casenotes. "
                        "Go back, reload the page and try again.")


async def parse_form(request: Request) -> None:
    """Read a posted form before the CSRF check (a no-op for other bodies). Starlette keeps
    the parsed form, so the route's own Form fields read the same one."""
    if request.method in UNSAFE and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        request.state.form = await request.form()


async def api_user(request: Request, db: DbDep) -> User:
    """A script with a bearer token, or the pages' own fetch calls with the session cookie."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = accounts.token_user(db, header[7:].strip())
        if user is None:
            raise NotSignedIn("The bearer token is not valid.")
        return user
    found = _session(request, db)
    if found is None:
        raise NotSignedIn("Sign in, or send a bearer token (casenotes token create USERNAME).")
    if request.method in UNSAFE:
        _check_csrf(request, found[1])
    return found[0]


PageUser = Annotated[User, Depends(page_user)]
ApiUser = Annotated[User, Depends(api_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def render(request: Request, name: str, context: dict | None = None, status: int = 200):
    """A page, with the signed-in user and the CSRF token every form needs."""
    session = getattr(request.state, "session", None)
    base = {"user": session[0] if session else None, "csrf_token": session[1] if session else ""}
    return templates(request).TemplateResponse(request, name, {**base, **(context or {})},
                                               status_code=status)


def cookie_secure(request: Request) -> bool:
    """Secure cookies everywhere but plain-HTTP localhost (the demo and tests)."""
    return request.url.scheme == "https" or request.url.hostname not in (
        "localhost", "127.0.0.1", "::1", "testserver")
