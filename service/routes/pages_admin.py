"""Pages for admins: users, roles, teams, cases, allocations, a case's access log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from service import access, accounts, cases
from service.errors import CasenotesError
from service.nlp.rule_files import RuleFiles
from service.routes.deps import DbDep, PageUser, parse_form, render
from service.storage.migrations import ROLES

router = APIRouter(dependencies=[Depends(parse_form)])
Text = Annotated[str, Form(max_length=500)]
Roles = Annotated[list[str], Form()]


def _admin_page(request: Request, db: Any, user: Any, error: str | None = None,
                status: int = 200, values: dict[str, Any] | None = None) -> Response:
    access.require_admin(db, user, "admin.view")
    rule_files: RuleFiles = request.app.state.rule_files
    rule_files.current()  # look at the files now, so an edit just saved is reported
    return render(request, "admin/index.html", {
        "users": accounts.list_users(db), "teams": accounts.list_teams(db),
        "cases": cases.all_cases(db, user), "roles": ROLES, "error": error,
        "values": values or {}, "rules_error": rule_files.error}, status)


def _done(anchor: str) -> Response:
    return RedirectResponse(f"/admin?done=1#{anchor}", status_code=303)


@router.get("/admin")
def admin_home(request: Request, db: DbDep, user: PageUser) -> Response:
    return _admin_page(request, db, user)


@router.post("/admin/users")
def add_user(request: Request, db: DbDep, user: PageUser, username: Text = "",
             display_name: Text = "", password: Text = "", team: Text = "",
             roles: Roles = []) -> Response:  # noqa: B006
    access.require_admin(db, user, "user.add")
    try:
        added = accounts.add_user(db, username, password, roles, team or None,
                                  display_name.strip() or None)
    except CasenotesError as err:
        return _admin_page(request, db, user, err.message, err.status,
                           {"username": username, "display_name": display_name, "team": team,
                            "roles": roles})
    access.record(db, user, "user.add", detail=added.username)
    return _done("users")


@router.post("/admin/users/{username}")
def update_user(request: Request, db: DbDep, user: PageUser, username: str,
                team: Text = "", roles: Roles = []) -> Response:  # noqa: B006
    access.require_admin(db, user, "user.edit")
    try:
        accounts.set_roles(db, username, roles)
        accounts.set_team(db, username, team or None)
    except CasenotesError as err:
        return _admin_page(request, db, user, err.message, err.status)
    access.record(db, user, "user.edit", detail=f"{username}: {','.join(roles)} team={team}")
    return _done("users")


@router.post("/admin/teams")
def add_team(request: Request, db: DbDep, user: PageUser, name: Text = "") -> Response:
    access.require_admin(db, user, "team.add")
    try:
        accounts.add_team(db, name)
    except CasenotesError as err:
        return _admin_page(request, db, user, err.message, err.status)
    access.record(db, user, "team.add", detail=name)
    return _done("teams")


@router.post("/admin/cases")
def add_case(request: Request, db: DbDep, user: PageUser, reference: Text = "",
             family_name: Text = "", team: Text = "") -> Response:
    try:
        cases.create_case(db, user, reference, family_name, team or None)
    except CasenotesError as err:
        return _admin_page(request, db, user, err.message, err.status)
    return _done("cases")


@router.post("/admin/cases/{case_id}/allocations")
def allocate(request: Request, db: DbDep, user: PageUser, case_id: int, username: Text = "",
             action: Text = "allocate") -> Response:
    try:
        if action == "end":
            cases.deallocate(db, user, case_id, username)
        else:
            cases.allocate(db, user, case_id, username)
    except CasenotesError as err:
        return _admin_page(request, db, user, err.message, err.status)
    return _done("cases")


@router.get("/admin/cases/{case_id}/access-log")
def access_log(request: Request, db: DbDep, user: PageUser, case_id: int) -> Response:
    rows = access.case_log(db, user, case_id)
    case = next(c for c in cases.all_cases(db, user) if c["id"] == case_id)
    return render(request, "admin/access_log.html", {"rows": rows, "case": case})
