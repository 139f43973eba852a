"""The API's documentation pages, `/docs` (Swagger UI) and `/redoc`, served with every asset from the service.

FastAPI's own pages load their scripts, styles, favicon and (for ReDoc) fonts from CDNs: on a host without
the internet they render blank. Here the pages point at the copies shipped in the `fastapi-offline` package,
served under `/docs-static/`, so the documentation works wherever the service runs.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_URL = "/docs-static"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
ASSETS = Path(str(files("fastapi_offline") / "static"))
REDOC_JS = "redoc.standalone.js"
# ReDoc 2 always shows Redocly's logo in its menu, fetched from their CDN: a request to a third party from
# every reader's browser (and a failed one offline). The bundle is served with the image pointing at nothing;
# the image hides itself when it fails to load.
REDOC_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"

# Swagger UI asks an online validator for a badge unless told not to; offline that request hangs or fails.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def install(app: FastAPI) -> None:
    """Mount the assets and the three pages; the app must be built with `docs_url=None, redoc_url=None`."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        return

    @app.get(f"{STATIC_URL}/{REDOC_JS}", include_in_schema=False, response_class=Response)
    async def redoc_bundle() -> Response:  # before the mount, so it answers for the file
        return Response(_redoc_bundle(), media_type="text/javascript")

    app.mount(STATIC_URL, StaticFiles(directory=ASSETS), name="docs-static")

    @app.get(DOCS_URL, include_in_schema=False, response_class=HTMLResponse)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{root}{OAUTH2_REDIRECT_URL}",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            swagger_ui_parameters=SWAGGER_PARAMETERS,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False, response_class=HTMLResponse)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False, response_class=HTMLResponse)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )


@functools.cache
def _redoc_bundle() -> bytes:
    return (ASSETS / REDOC_JS).read_bytes().replace(REDOC_LOGO, b"data:,")
