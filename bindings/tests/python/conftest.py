"""Fixtures for the binding tests: the generated module, device stores, a real demo server.

The tests load the Python bindings that `bindings/generate.sh debug` writes to
`target/bindings/debug/python` (`linli.py` next to `liblinli.so`; the module loads the
library from its own directory). `run.sh` generates them first. Two environment variables
point elsewhere: LINLI_PY_BINDINGS (the directory of linli.py) and LINLI_SYNC_SERVER (the
server binary).
"""

import os
import queue
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
BINDINGS = Path(os.environ.get("LINLI_PY_BINDINGS", ROOT / "target/bindings/debug/python"))
SERVER = Path(os.environ.get("LINLI_DEMO", ROOT / "target/debug/linli-demo"))

if not (BINDINGS / "linli.py").exists():
    raise pytest.UsageError(
        f"no generated bindings in {BINDINGS}: run bindings/generate.sh debug "
        "(or bindings/tests/python/run.sh)"
    )
sys.path.insert(0, str(BINDINGS))

import linli  # noqa: E402  (needs the path above)

from factories import DB_KEY, demo_places  # noqa: E402


@pytest.fixture
def store(tmp_path):
    """An offline store of grid worker 李梅 (g-1) holding the demo place tree."""
    s = linli.LinliStore.open(
        str(tmp_path / "limei.db"), str(uuid.uuid4()), "user-limei", DB_KEY
    )
    s.put_places(demo_places())
    return s


@dataclass
class Device:
    user_id: str
    device_id: str
    token: str


@dataclass
class DemoServer:
    url: str
    devices: dict  # user_id -> Device

    def settings(self, user_id, token=None):
        return linli.SyncSettings(
            server_url=self.url, token=token or self.devices[user_id].token
        )

    def open_store(self, path, user_id):
        """A fresh device store for a demo user, under the device id the server enrolled."""
        return linli.LinliStore.open(
            str(path), self.devices[user_id].device_id, user_id, DB_KEY
        )


def _pump(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


@pytest.fixture
def server(tmp_path):
    """`linli-demo --no-simulate` on a free loopback port with its own database, stopped after."""
    if not SERVER.exists():
        pytest.fail(f"no demo binary at {SERVER}: cargo build -p linli-demo")
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(
        [str(SERVER), "--db", str(tmp_path / "server" / "demo.db"),
         "--listen", "127.0.0.1:0", "--no-simulate"],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    # A reader thread, so a server that hangs before printing fails the test instead of it.
    lines = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    devices, url = {}, None
    try:
        while url is None:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                pytest.fail("demo server printed no address within 30 s")
            if line is None:
                pytest.fail(f"demo server exited ({proc.wait()}): see {tmp_path}/server.log")
            line = line.rstrip("\n")
            if line.startswith("listening on "):
                url = line.removeprefix("listening on ")
                continue
            cols = line.split("\t")
            if len(cols) == 5 and cols[0] != "user":
                _name, _role, user_id, device_id, token = cols
                devices[user_id] = Device(user_id, device_id, token)
        assert {"user-limei", "user-zhao"} <= devices.keys(), devices.keys()
        yield DemoServer(url, devices)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
