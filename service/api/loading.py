"""Loading a file through any registered loader (multipart upload)."""
from __future__ import annotations


from flask import jsonify, request

from loaders import Source, available, detect, loader_class, plugins
from loaders.safety import parse_json

from ..extensions import gapmap
from ..auth import current_user, require, who
from .blueprint import bp
from .jobs import accepted, wants_async
from .params import BadParameter


@bp.get("/loaders")
def loaders():
    """Available loaders and their options."""
    table = plugins()
    return jsonify({"loaders": [{"name": n, "description": c.description, "media_types": list(table[n].media_types),
                                 "extensions": list(table[n].extensions), "options": c.options}
                                for n, c in available().items()]})


@bp.post("/load")
@require("load")
def load_detected():
    """Upload one file without naming the loader: it is chosen by the file's media type, extension and content
    (``loaders.detect``); a kind of file no loader reads is a 415, one several loaders read ambiguously a 422."""
    f = _file()
    data = f.read()
    return _load(detect(filename=f.filename, media_type=f.mimetype, data=data), f, data)


@bp.post("/load/<loader>")
@require("load")
def load(loader):
    """Upload one file (form field ``file``) for ``loader``; options as form fields or ``options`` JSON."""
    f = _file()
    loader_class(loader)  # an unknown loader is a 404, before the file is read
    return _load(loader, f, f.read())


def _file():
    f = request.files.get("file")
    if f is None or not f.filename:
        said = "the field 'file' is missing" if request.mimetype == "multipart/form-data" else \
            f"the body is {request.mimetype or 'empty'}, not multipart/form-data"
        raise BadParameter(f"{said}: send the file as multipart/form-data in the field 'file'", field="file")
    return f


def _load(loader: str, f, data: bytes):
    options = {k: v for k, v in request.form.items() if k != "options"}
    if request.form.get("options"):
        extra = parse_json(request.form["options"], what="options",
                           error=lambda msg, file=None, row=None: BadParameter(msg, field="options"))
        if not isinstance(extra, dict):
            raise BadParameter("options must be a JSON object", field="options")
        options.update(extra)
    if "user" in loader_class(loader).options:  # PROV "who" is the signed-in user, never a form field
        options["user"] = current_user().name
    if "media_type" in loader_class(loader).options:
        options["media_type"] = f.mimetype
    ws = gapmap()
    source = Source(name=f.filename, data=data)
    if wants_async():  # large loads: 202 + Location: /api/jobs/{id}
        return accepted(ws.jobs.submit("load", lambda progress: ws.load(loader, source, options).to_dict(),
                                       owner=who(), params={"loader": loader, "file": f.filename}))
    res = ws.load(loader, source, options)
    return jsonify({"loader": loader, **res.to_dict()}), 201
