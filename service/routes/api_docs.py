"""The API's Swagger UI, served from the bundled copy (no CDN) under the page's CSP nonce."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

ASSETS = "/static/swagger-ui"
router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
def api_docs(request: Request) -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=request.app.openapi_url, title="Casenotes API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png")
    # The page starts Swagger UI with one inline script; the nonce lets just that one run.
    html = bytes(page.body).decode().replace(
        "<script>", f'<script nonce="{request.state.csp_nonce}">')
    return HTMLResponse(html)


def mount_assets(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui")
