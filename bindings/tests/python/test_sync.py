"""Sync across the FFI against a real `linli-demo` process.

`LinliStore.sync` is an async method: in Python a coroutine, awaited on an asyncio loop
while the Rust future runs on the library's tokio runtime.
"""

import asyncio
import socket

import pytest

import linli
from factories import demo_places, member, new_household, patch


class Progress(linli.SyncListener):
    def __init__(self):
        self.seen = []

    def on_progress(self, progress):
        self.seen.append(progress)


class Changes(linli.ChangeListener):
    def __init__(self):
        self.seen = []

    def on_change(self, change):
        self.seen.append(change)


def sync(store, settings, listener=None):
    return asyncio.run(store.sync(settings, listener))


def test_two_devices_converge_through_the_server(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    zhao = server.open_store(tmp_path / "zhao.db", "user-zhao")

    # A fresh device knows no places; its first sync brings the tree of its scope.
    assert limei.places_under(None) == []
    report = sync(limei, server.settings("user-limei"))
    assert report.refused == []
    assert {p.id for p in limei.places_under("g-1")} == {"b-1", "b-2"}
    assert {p.id for p in limei.places_under("b-1")} == {"u-1-1", "u-1-2"}
    assert limei.sync_state().reference_version > 0

    hh = limei.create_household(new_household(
        "u-1-1", "302", [member("张秀英", phone="13812345678", birth_year=1941)],
        tags=[linli.CareTag.ELDERLY_ALONE]))
    assert limei.sync_state().pending_docs == 1
    report = sync(limei, server.settings("user-limei"))
    assert report.progress.docs_up == 1
    assert limei.sync_state().pending_docs == 0

    # The building leader of b-1 receives it, and his screens hear of it.
    heard = Changes()
    zhao.subscribe(heard)
    sync(zhao, server.settings("user-zhao"))
    assert [h.id for h in zhao.households_in("b-1")] == [hh]
    assert any(c.from_sync and c.households and hh in c.doc_ids for c in heard.seen)
    assert zhao.household(hh) == limei.household(hh)

    # Both edit different fields offline; both edits survive, identically on both phones.
    limei.update_household(hh, patch(notes="女儿在成都，每周回来一次"))
    zhao.update_household(hh, patch(housing=linli.Housing.RENTED))
    sync(limei, server.settings("user-limei"))
    sync(zhao, server.settings("user-zhao"))
    sync(limei, server.settings("user-limei"))

    a, b = limei.household(hh), zhao.household(hh)
    assert a == b
    assert a.notes == "女儿在成都，每周回来一次"
    assert a.housing == linli.Housing.RENTED
    assert a.members[0].phone == "13812345678"
    assert {(e.op, e.user_id) for e in zhao.history(hh)} == {
        ("household.create", "user-limei"),
        ("household.update", "user-limei"),
        ("household.update", "user-zhao"),
    }
    for s in (limei, zhao):
        state = s.sync_state()
        assert state.pending_docs == 0 and state.last_sync_at is not None


def test_a_sync_listener_receives_progress(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    limei_settings = server.settings("user-limei")
    sync(limei, limei_settings)
    limei.create_household(new_household("u-1-1", "301", [member("张三")]))
    limei.create_household(new_household("u-1-2", "402", [member("李四")]))

    listener = Progress()
    report = sync(limei, limei_settings, listener)
    assert listener.seen, "no progress reported"
    assert [p.rounds for p in listener.seen] == list(range(1, len(listener.seen) + 1))
    assert listener.seen[-1] == report.progress
    assert report.progress.docs_up == 2
    assert report.progress.bytes_up > 0 and report.progress.bytes_down > 0


def test_sync_is_a_coroutine_that_leaves_the_loop_free_and_can_be_cancelled(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    zhao = server.open_store(tmp_path / "zhao.db", "user-zhao")

    # A server that accepts the connection and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        stuck = linli.SyncSettings(server_url=f"http://{host}:{port}",
                                   token=server.devices["user-limei"].token)

        async def cancel_a_stuck_sync():
            loop = asyncio.get_running_loop()
            silent.setblocking(False)
            task = asyncio.create_task(limei.sync(stuck, None))
            # The loop stays free while Rust waits: it accepts the request here, on the
            # same loop, and the sync is still waiting for an answer.
            conn, _ = await asyncio.wait_for(loop.sock_accept(silent), 10)
            with conn:
                request = await asyncio.wait_for(loop.sock_recv(conn, 65536), 10)
                await asyncio.sleep(0.2)
                assert not task.done()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                # The cancel reached Rust: the request was dropped and its connection
                # closed (end of stream), not left waiting in the background.
                rest = await asyncio.wait_for(loop.sock_recv(conn, 65536), 10)
                while rest:
                    rest = await asyncio.wait_for(loop.sock_recv(conn, 65536), 10)
            return request

        request = asyncio.run(cancel_a_stuck_sync())
        assert request.startswith(b"POST /v1/sync")

    pending = limei.sync(server.settings("user-limei"), None)
    assert asyncio.iscoroutine(pending)

    async def both():
        return await asyncio.gather(pending, zhao.sync(server.settings("user-zhao"), None))

    # Two stores sync concurrently on one loop; the cancelled store syncs normally after.
    reports = asyncio.run(both())
    assert all(isinstance(r, linli.SyncReport) for r in reports)
    assert limei.places_under("g-1") and zhao.sync_state().last_sync_at is not None


def test_a_bad_token_is_unauthorized_and_keeps_the_records(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    sync(limei, server.settings("user-limei"))
    limei.create_household(new_household("u-1-1", "301", [member("张三")]))

    with pytest.raises(linli.LinliError.Unauthorized):
        sync(limei, server.settings("user-limei", token="0" * 64))
    assert limei.sync_state().pending_docs == 1

    sync(limei, server.settings("user-limei"))
    assert limei.sync_state().pending_docs == 0


def test_no_server_is_a_network_error(store):
    with socket.socket() as s:  # a port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(linli.LinliError.Network):
        sync(store, linli.SyncSettings(server_url=f"http://127.0.0.1:{port}", token="x"))


def test_a_record_outside_the_area_is_in_the_report_not_an_error(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    limei.put_places(demo_places())  # as if it knew b-9, which is not in her grid
    inside = limei.create_household(new_household("u-1-1", "301", [member("张三")]))
    outside = limei.create_household(new_household("u-9-1", "101", [member("李四")]))

    listener = Progress()
    report = sync(limei, server.settings("user-limei"), listener)
    assert report.refused == [
        linli.RefusedDoc(doc_id=outside, outcome=linli.PushOutcome.OUT_OF_SCOPE)
    ]
    # The rest of the sync completed: the report has its progress and clock offset.
    assert report.progress.docs_up == 2 and listener.seen[-1] == report.progress
    assert abs(report.clock_offset_ms) < 60_000
    state = limei.sync_state()
    assert state.last_sync_at is not None and state.reference_version > 0
    # The refused record stays on the phone, pending; the accepted one is synced.
    assert state.pending_docs == 1
    assert limei.household(outside).members[0].name == "李四"
    assert limei.household(inside).id == inside


def test_a_held_wait_hears_another_devices_change_and_times_out_quietly(server, tmp_path):
    """`wait_for_changes` is a coroutine too: it holds the server's long poll until a
    change in the device's scope, not its own, and answers False at its timeout."""
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    zhao = server.open_store(tmp_path / "zhao.db", "user-zhao")
    sync(limei, server.settings("user-limei"))
    sync(zhao, server.settings("user-zhao"))

    before = len(limei.households_in("b-1"))

    # Up to date and nothing happens: False once its second is up.
    assert asyncio.run(limei.wait_for_changes(server.settings("user-limei"), 1)) is False

    async def wait_while_zhao_writes():
        wait = asyncio.ensure_future(
            limei.wait_for_changes(server.settings("user-limei"), 30))
        await asyncio.sleep(0.3)
        assert not wait.done()
        zhao.create_household(new_household("u-1-1", "501", [member("王建国")]))
        await zhao.sync(server.settings("user-zhao"), None)
        return await asyncio.wait_for(wait, 25)

    assert asyncio.run(wait_while_zhao_writes()) is True
    # Told, the phone syncs and has it.
    report = sync(limei, server.settings("user-limei"))
    assert report.progress.docs_down >= 1
    assert len(limei.households_in("b-1")) == before + 1


def test_trusted_certificates_that_are_not_pem_are_refused_before_any_request(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    plain = server.settings("user-limei")
    assert plain.trusted_certificates is None
    bad = linli.SyncSettings(
        server_url=plain.server_url, token=plain.token, trusted_certificates="no certificate here"
    )
    with pytest.raises(linli.LinliError.InvalidInput) as refused:
        sync(limei, bad)
    assert refused.value.field == "trusted_certificates"
    # Nothing was pulled: the store still knows no places; the plain settings then work.
    assert limei.places_under(None) == []
    sync(limei, plain)
    assert [p.id for p in limei.places_under(None)] == ["c-xingfu"]
