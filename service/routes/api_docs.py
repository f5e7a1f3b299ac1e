"""The API's Swagger UI, served from the bundled copy (no CDN) under the page's CSP nonce."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/static/swagger-ui"
router = APIRouter(include_in_schema=False)


OAUTH2_REDIRECT = "/docs/oauth2-redirect"  # where FastAPI's own docs page had it


@router.api_route("/api/docs", methods=["GET", "HEAD"])
def api_docs(request: Request) -> HTMLResponse:
    return _with_nonce(request, get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title="Casenotes API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT))


@router.api_route(OAUTH2_REDIRECT, methods=["GET", "HEAD"])
def oauth2_redirect(request: Request) -> HTMLResponse:
    return _with_nonce(request, get_swagger_ui_oauth2_redirect_html())


def _with_nonce(request: Request, page: HTMLResponse) -> HTMLResponse:
    # Each page runs Swagger UI from inline script; the nonce lets just that script run.
    html = bytes(page.body).decode().replace(
        "<script>", f'<script nonce="{request.state.csp_nonce}">')
    return HTMLResponse(html)


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
