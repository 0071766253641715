"""Loading a file through any registered loader (multipart upload)."""
from __future__ import annotations

import json

from flask import jsonify, request

from loaders import Source, available

from ..extensions import gapmap
from ..auth import require
from . import bp
from .jobs import accepted, wants_async
from .params import BadParameter


@bp.get("/loaders")
def loaders():
    """Available loaders and their options."""
    return jsonify({"loaders": [{"name": n, "description": c.description, "media_types": list(c.media_types),
                                 "options": c.options} for n, c in available().items()]})


@bp.post("/load/<loader>")
@require("load")
def load(loader):
    """Upload one file (form field ``file``) for ``loader``; options as form fields or ``options`` JSON."""
    f = request.files.get("file")
    if f is None or not f.filename:
        raise BadParameter("send the file as multipart/form-data in the field 'file'", field="file")
    options = {k: v for k, v in request.form.items() if k != "options"}
    if request.form.get("options"):
        try:
            extra = json.loads(request.form["options"])
        except json.JSONDecodeError as e:
            raise BadParameter(f"options is not valid JSON: {e}", field="options") from None
        if not isinstance(extra, dict):
            raise BadParameter("options must be a JSON object", field="options")
        options.update(extra)
    ws = gapmap()
    source = Source(name=f.filename, data=f.read())
    if wants_async():  # large loads: 202 + Location: /api/jobs/{id}
        from loaders import get as get_loader
        get_loader(loader)  # an unknown loader is a 404 now, not a failed job
        return accepted(ws.jobs.submit("load", lambda progress: ws.load(loader, source, options).to_dict(),
                                       params={"loader": loader, "file": f.filename}))
    res = ws.load(loader, source, options)
    return jsonify(res.to_dict()), 201
