"""The browsable API reference at /api/docs: Swagger UI over /api/openapi.json, served from the
``flask-swagger-ui`` package's copy of swagger-ui's dist files (no CDN: it works offline), started by
/static/apidocs.js (no inline script: the Content-Security-Policy allows scripts from 'self' only)."""
from __future__ import annotations

from pathlib import Path

from flask import Response, abort, send_from_directory, url_for
from markupsafe import escape

from .blueprint import bp


def _dist() -> Path:
    import flask_swagger_ui
    return Path(flask_swagger_ui.__file__).resolve().parent / "dist"


#: the files of swagger-ui's dist that the page loads (nothing else of the package is served)
ASSETS = frozenset({"swagger-ui.css", "index.css", "swagger-ui-bundle.js", "favicon-32x32.png",
                    "favicon-16x16.png"})


@bp.get("/docs")
def docs():
    """The API reference (Swagger UI): every operation, its parameters, bodies and answers; try them out."""
    from service.auth import csrf_token, current_user
    asset = lambda name: escape(url_for("api.docs_asset", name=name))  # noqa: E731
    csrf = f'<meta name="csrf-token" content="{escape(csrf_token())}">' if current_user() else ""
    html = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Gapmap API</title>
  {csrf}
  <meta name="gapmap-openapi" content="{escape(url_for('api.openapi'))}">
  <link rel="stylesheet" href="{asset('swagger-ui.css')}">
  <link rel="stylesheet" href="{asset('index.css')}">
  <link rel="icon" type="image/png" href="{asset('favicon-32x32.png')}" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"><noscript>The API reference needs JavaScript; the document itself is
    <a href="{escape(url_for('api.openapi'))}">/api/openapi.json</a>.</noscript></div>
  <script src="{asset('swagger-ui-bundle.js')}"></script>
  <script src="{escape(url_for('static', filename='apidocs.js'))}"></script>
</body>
</html>
"""
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})


@bp.get("/docs/<name>")
def docs_asset(name):
    """A static file of the API reference (swagger-ui's dist, from the flask-swagger-ui package)."""
    if name not in ASSETS:
        abort(404)
    return send_from_directory(_dist(), name, max_age=86400)
