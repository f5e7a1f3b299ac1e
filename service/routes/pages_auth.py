"""Sign in and sign out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from service import accounts
from service.errors import Forbidden, Invalid, TooMany
from service.routes.deps import (
    SESSION_COOKIE,
    DbDep,
    PageUser,
    SettingsDep,
    cookie_secure,
    parse_form,
    render,
)

router = APIRouter(dependencies=[Depends(parse_form)])
LOGIN_CSRF = "casenotes_login_csrf"


def _safe_next(target: str | None) -> str:
    # Only same-site paths, so the sign-in form cannot redirect elsewhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _login_page(request: Request, status: int = 200, error: str | None = None,
                username: str = "", next_path: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "auth/login.html", {"error": error, "username": username,
                                                   "login_csrf": token, "next": next_path},
                      status)
    response.set_cookie(LOGIN_CSRF, token, httponly=True, samesite="strict",
                        secure=cookie_secure(request))
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next_path=_safe_next(next))


@router.post("/login")
def login(request: Request, db: DbDep, settings: SettingsDep,
          username: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=1000)] = "",
          csrf_token: Annotated[str, Form(max_length=200)] = "",
          next: Annotated[str, Form(max_length=2000)] = "/") -> Response:
    expected = request.cookies.get(LOGIN_CSRF, "")
    if not expected or not secrets.compare_digest(expected, csrf_token):
        raise Forbidden("The sign-in form expired. Reload the page and try again.")
    client = request.client.host if request.client else "unknown"
    try:
        user, token, _ = accounts.sign_in(db, username, password, client,
                                          settings.login_free_failures,
                                          settings.session_hours)
    except (Invalid, TooMany) as err:
        page = _login_page(request, err.status if isinstance(err, TooMany) else 400,
                           err.message, username, _safe_next(next))
        if isinstance(err, TooMany) and err.retry_after:
            page.headers["Retry-After"] = str(err.retry_after)
        return page
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=cookie_secure(request), max_age=settings.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout")
def logout(request: Request, db: DbDep, user: PageUser) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        accounts.sign_out(db, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
