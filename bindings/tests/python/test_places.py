"""The user's places and refused records (issue 10) across the FFI, against a real
`linli-demo` process: grants arrive with the first sync, a write outside them is refused on
the phone, and a record the server refused is listed with why, then fixed or discarded.
"""

import asyncio

import pytest

import linli
from factories import demo_places, member, new_household, patch

GRID_1 = {"g-1", "b-1", "b-2", "u-1-1", "u-1-2", "u-2-1", "u-2-2"}


def sync(store, settings):
    return asyncio.run(store.sync(settings, None))


def incident_at(place_id):
    return linli.NewIncident(
        category=linli.IncidentCategory.NOISE,
        description="楼上深夜装修",
        place_id=place_id,
        household_id=None,
        priority=linli.Priority.NORMAL,
        assignee=None,
        dispute=None,
    )


def test_a_grid_workers_picker_holds_only_grid_one(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    assert limei.my_grants() is None
    sync(limei, server.settings("user-limei"))

    grants = limei.my_grants()
    assert [(g.place_id, g.kind) for g in grants] == [("g-1", linli.PlaceKind.GRID)]
    mine = limei.my_places()
    assert {p.id for p in mine} == GRID_1
    assert mine[0].id == "g-1", "parents first"
    # The tree the device holds is the community's; the picker is only hers.
    assert any(p.id == "b-9" for p in limei.places_under("g-2"))


def test_a_write_to_grid_two_is_refused_on_the_phone(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    sync(limei, server.settings("user-limei"))
    home = limei.create_household(new_household("u-1-1", "301", [member("张秀英")]))
    before = limei.sync_state().pending_docs

    with pytest.raises(linli.LinliError.OutsideMyPlaces) as refused:
        limei.create_household(new_household("b-9", "101", [member("王建国")]))
    assert refused.value.field == "place"
    with pytest.raises(linli.LinliError.OutsideMyPlaces):
        limei.update_household(home, patch(place_id="u-9-1"))
    with pytest.raises(linli.LinliError.OutsideMyPlaces):
        limei.report_incident(incident_at("g-2"))
    assert limei.households_in("b-9") == []
    assert limei.household(home).address.unit_id == "u-1-1"
    assert limei.sync_state().pending_docs == before


def test_a_refused_record_is_listed_fixed_and_accepted(server, tmp_path):
    settings = server.settings("user-limei")
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    # Written offline before the first sync brought her grants: the phone allowed it.
    limei.put_places(demo_places())
    stray = limei.create_household(new_household("b-9", "101", [member("王建国")]))
    noise = limei.report_incident(incident_at("b-9"))

    report = sync(limei, settings)
    assert sorted((r.doc_id, r.outcome) for r in report.refused) == sorted([
        (stray, linli.PushOutcome.OUT_OF_SCOPE), (noise, linli.PushOutcome.OUT_OF_SCOPE)
    ])
    [listed] = [r for r in limei.refused_documents() if r.doc_id == stray]
    assert listed.doc_id == stray
    assert listed.kind == linli.DocKind.HOUSEHOLD
    assert listed.outcome == linli.PushOutcome.OUT_OF_SCOPE
    assert "101" in listed.label
    assert not listed.changed_since

    # Not pushed again unchanged: no repeated refusal.
    report = sync(limei, settings)
    assert report.refused == []
    assert report.progress.docs_up == 0
    assert len(limei.refused_documents()) == 2

    # Fixed: moved into her places (the incident by its place, refused on the phone
    # outside them). The next sync pushes them and the server takes them.
    limei.update_household(stray, patch(place_id="u-1-2"))
    with pytest.raises(linli.LinliError.OutsideMyPlaces):
        limei.set_incident_place(noise, "u-9-1")
    limei.set_incident_place(noise, "b-2")
    assert all(r.changed_since for r in limei.refused_documents())
    report = sync(limei, settings)
    assert report.refused == []
    assert report.progress.docs_up == 2
    assert limei.refused_documents() == []
    assert limei.sync_state().pending_docs == 0

    # Another device of grid 1 receives it where it now is.
    zhao = server.open_store(tmp_path / "zhao.db", "user-zhao")
    sync(zhao, server.settings("user-zhao"))
    assert stray in [h.id for h in zhao.households_in("b-1")]


def test_another_refused_record_is_discarded(server, tmp_path):
    settings = server.settings("user-limei")
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    limei.put_places(demo_places())
    stray = limei.create_household(new_household("b-9", "102", [member("李桂兰")]))
    report_id = limei.report_incident(incident_at("u-9-2"))
    sync(limei, settings)
    assert {r.doc_id for r in limei.refused_documents()} == {stray, report_id}

    # The server never had them: discarding deletes them on the phone.
    assert limei.discard_local_changes(stray) == linli.Discarded.DELETED
    assert limei.discard_local_changes(report_id) == linli.Discarded.DELETED
    assert limei.refused_documents() == []
    assert limei.households_in("b-9") == []
    with pytest.raises(linli.LinliError.NotFound):
        limei.household(stray)
    assert limei.sync_state().pending_docs == 0
    report = sync(limei, settings)
    assert report.refused == [] and report.progress.docs_up == 0

    # A record the server holds is never lost by a discard: nothing unacknowledged, nothing
    # dropped.
    home = limei.create_household(new_household("u-1-1", "303", [member("赵大爷")]))
    sync(limei, settings)
    assert limei.discard_local_changes(home) == linli.Discarded.NOTHING
    assert limei.household(home).address.room == "303"
