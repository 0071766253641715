"""An Oxigraph SPARQL server for tests of the remote store (started per module on 127.0.0.1:5171-5189;
skipped with the reason when the ``oxigraph`` server CLI is not installed: ``pip install oxigraph``)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

PORTS = range(5171, 5190)  # this suite's ports (127.0.0.1 only)


def oxigraph_binary() -> str | None:
    here = Path(sys.executable).parent / "oxigraph"
    return str(here) if here.exists() else shutil.which("oxigraph")


def _free_port() -> int:
    for p in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
                return p
            except OSError:
                continue
    pytest.skip("no free port in 5171-5189")


@pytest.fixture(scope="module")
def oxigraph_server(tmp_path_factory):
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server CLI is not installed (pip install oxigraph==0.5.13)")
    port = _free_port()
    loc = tmp_path_factory.mktemp("oxigraph")
    proc = subprocess.Popen([binary, "serve", "--location", str(loc), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/query?query=ASK%7B%7D", timeout=2).read()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("oxigraph server did not start")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


