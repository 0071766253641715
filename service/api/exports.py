"""Standard-format exports: CASE CFPackage, MedBiquitous Curriculum Inventory, committee workbooks/reports."""
from __future__ import annotations

import json

from flask import Response

from ..app import gapmap
from . import bp


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/frameworks/<fw>/case")
def framework_case(fw):
    """The framework (and its mapping links) as a 1EdTech CASE v1p0 CFPackage."""
    from loaders.case import export_package
    ws = gapmap()
    pkg = export_package(ws.store, ws.ids, fw)
    return _download(json.dumps(pkg, indent=2, ensure_ascii=False), "application/json", f"{fw}-case.json")


@bp.get("/programs/<program>/curriculum-inventory")
def program_curriculum_inventory(program):
    """The program as MedBiquitous Curriculum Inventory v1 XML."""
    from loaders.medbiq_ci import export_ci
    ws = gapmap()
    return _download(export_ci(ws.store, ws.ids, program), "application/xml", f"{program}-curriculum-inventory.xml")
