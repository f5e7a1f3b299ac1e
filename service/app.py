"""create_app(settings) -> the FastAPI app. Models and the database are set up in the lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.errors import CasenotesError, NotSignedIn, TooMany
from service.nlp.rule_files import RuleFiles, shared_rule_files
from service.routes import (
    api,
    api_docs,
    pages_admin,
    pages_auth,
    pages_cases,
    pages_chronology,
    pages_dashboard,
    pages_entries,
    pages_people,
    pages_search,
)
from service.routes.limits import BodySizeLimit
from service.routes.security import ErrorPage, SecurityHeaders
from service.routes.timing import ServerTiming
from service.settings import Settings
from service.storage.db import ConnectionPool
from service.storage.migrations import open_migrated
from service.transcription_queue import TranscriptionQueue
from service.web import template_globals


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    open_migrated(settings.database_path).close()  # here and in `casenotes init` only
    app.state.db_pool = ConnectionPool(settings.database_path)
    if settings.load_models and getattr(app.state, "suggester", None) is None:
        from service.nlp import Suggester

        # Loaded once, off the event loop; a test may hand one in to share.
        app.state.suggester = await anyio.to_thread.run_sync(Suggester.load, settings.models_dir)
    app.state.rule_files = await anyio.to_thread.run_sync(_rule_files, app)
    app.state.transcription_queue = TranscriptionQueue(settings, app.state.rule_files)
    app.state.transcription_queue.start()
    yield
    await anyio.to_thread.run_sync(app.state.transcription_queue.stop)
    app.state.db_pool.close()


def _rule_files(app: FastAPI) -> RuleFiles:
    """The one taxonomy and rule set every route reads: the suggester's when it is loaded."""
    settings: Settings = app.state.settings
    suggester = app.state.suggester
    if suggester is None:
        return shared_rule_files(settings.models_dir)
    if suggester.models_dir.resolve() != settings.models_dir.resolve():
        raise RuntimeError("the suggester handed in reads other rule files than models_dir")
    return suggester.rule_files


def create_app(settings: Settings) -> FastAPI:
    settings.check_secret()
    app = FastAPI(
        title="Casenotes",
        summary="Narrative-first case recording for child and family social work",
        version="0.1.0",
        docs_url=None,  # served by routes/api_docs from the bundled Swagger UI
        redoc_url=None,
        openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.suggester = None
    templates = Jinja2Templates(directory=str(settings.web_dir / "templates"))
    templates.env.globals.update(template_globals())
    app.state.templates = templates
    api_docs.mount_assets(app)  # before /static, which would otherwise answer its paths
    app.mount("/static", StaticFiles(directory=str(settings.web_dir / "static")), name="static")
    for router in (pages_auth.router, pages_cases.router, pages_entries.router,
                   pages_people.router, pages_admin.router, pages_dashboard.router,
                   pages_chronology.router, pages_search.router, api.router, api_docs.router):
        app.include_router(router)
    app.add_middleware(BodySizeLimit, max_bytes=2 * 1024 * 1024,
                       upload_bytes=settings.max_audio_mb * 1024 * 1024 + 64 * 1024,
                       upload_prefixes=(api.UPLOAD_PREFIX,))
    app.add_middleware(ServerTiming)
    app.add_middleware(SecurityHeaders, error_page=_add_error_handlers(app, templates))
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", "")


def _add_error_handlers(app: FastAPI, templates: Jinja2Templates) -> ErrorPage:
    """Register the handlers for expected errors; returns the page for unexpected ones."""
    def render(request: Request, status: int, message: str, details: list[str] | None = None
               ) -> Response:
        if _wants_json(request):
            body: dict[str, object] = {"error": message}
            if details:
                body["details"] = details
            return JSONResponse(body, status_code=status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message, "details": details or []},
            status_code=status)

    @app.exception_handler(CasenotesError)
    async def domain_error(request: Request, exc: CasenotesError) -> Response:
        if isinstance(exc, NotSignedIn) and not _wants_json(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        response = render(request, exc.status, exc.message)
        if isinstance(exc, TooMany) and exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        details = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query"))
            details.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return render(request, 422, "The request could not be read: " + "; ".join(details),
                      details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "There is no such page.", 405: "That method is not allowed here."}.get(
            exc.status_code, str(exc.detail))
        return render(request, exc.status_code, message)

    async def unexpected(request: Request, exc: Exception) -> Response:
        # The type and where only: an exception's message can hold narrative text.
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}" if tb else "?"
        logging.getLogger("casenotes").error("unexpected %s at %s on %s %s",
                                             type(exc).__name__, where, request.method,
                                             _route_of(request))
        message = ("Something went wrong on our side; nothing was saved from this request. "
                   "Try again, and tell your administrator if it persists.")
        try:
            return render(request, 500, message)
        except Exception:  # the page itself failed: answer in plain text
            return PlainTextResponse(message, status_code=500)

    return unexpected


def _route_of(request: Request) -> str:
    """The route's pattern (/cases/{case_id}), never the values a request put in the path."""
    route = request.scope.get("route")
    return getattr(route, "path", "(no route)")
