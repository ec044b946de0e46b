"""Enrolment by QR code across the FFI, against a real demo server: the link that
`linli-sync-server admin enrol-code` prints (the console's QR code holds the same) is read by
`parse_enrol_link`, exchanged by `enrol` for a token, and the new device syncs; the code works
once; bad links are typed errors.
"""

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

import linli
from factories import DB_KEY

ROOT = Path(__file__).resolve().parents[3]
ADMIN = Path(os.environ.get("LINLI_SYNC_SERVER", ROOT / "target/debug/linli-sync-server"))
CODE = "0123456789abcdef0123456789abcdef"


def enrol_link(tmp_path, server, user):
    if not ADMIN.exists():
        pytest.fail(f"no server binary at {ADMIN}: cargo build -p linli-sync-server")
    out = subprocess.run(
        [str(ADMIN), "admin", "--db", str(tmp_path / "server" / "demo.db"),
         "enrol-code", "--user", user, "--server", server.url],
        capture_output=True, text=True, check=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    return out.stdout.splitlines()[0]


def test_a_qr_link_enrols_a_phone_that_then_syncs(server, tmp_path):
    text = enrol_link(tmp_path, server, "user-wangqiang")
    assert text.startswith("linli://enrol?server=")
    link = linli.parse_enrol_link(text)
    assert link.server_url == server.url

    got = asyncio.run(linli.enrol(link, "王强的手机", None))
    assert got.user_id == "user-wangqiang"
    assert got.user_name == "王强"
    assert got.role == linli.Role.GRID_WORKER
    assert len(got.token) == 64

    store = linli.LinliStore.open(str(tmp_path / "wang.db"), got.device_id, got.user_id, DB_KEY)
    settings = linli.SyncSettings(server_url=got.server_url, token=got.token)
    report = asyncio.run(store.sync(settings, None))
    assert report.refused == []
    assert [g.place_id for g in store.my_grants()] == ["g-2"]

    with pytest.raises(linli.LinliError.InvalidInput) as spent:
        asyncio.run(linli.enrol(link, "另一部手机", None))
    assert (spent.value.field, spent.value.reason) == ("enrol_code", "used_or_expired")


@pytest.mark.parametrize("text, field, reason", [
    ("https://example.com", "link", "bad_format"),
    (f"linli://enrol?code={CODE}", "server", "required"),
    ("linli://enrol?server=http%3A%2F%2F10.0.0.2", "code", "required"),
    (f"linli://enrol?server=ftp%3A%2F%2Fa&code={CODE}", "server", "bad_format"),
    ("linli://enrol?server=http%3A%2F%2Fa&code=ABC", "code", "bad_format"),
])
def test_bad_links_are_typed_errors(text, field, reason):
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        linli.parse_enrol_link(text)
    assert (e.value.field, e.value.reason) == (field, reason)
