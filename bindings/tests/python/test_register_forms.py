"""Issue 10's register-form calls across the FFI: who sees sensitive fields (by the role the
server's reference data gives), and the households already at a door. The rules are proven
in Rust (core/tests/doors.rs).
"""

import asyncio

import pytest

import linli
from factories import member, new_household


def test_households_at_a_door(store):
    assert store.households_at_door("u-1-1", "301") == []
    first = store.create_household(new_household("u-1-1", "301", [member("张秀英")]))
    store.create_household(new_household("u-1-2", "301", [member("李四")]))
    assert [h.id for h in store.households_at_door("u-1-1", " 301 ")] == [first]
    assert store.households_at_door("u-1-1", "302") == []
    assert len(store.households_at_door("b-1", "301")) == 2
    with pytest.raises(linli.LinliError.InvalidInput) as e:
        store.households_at_door("g-1", "301")
    assert (e.value.field, e.value.reason) == ("place", "wrong_place")
    with pytest.raises(linli.LinliError.NotFound):
        store.households_at_door("nowhere", "301")


def test_sensitive_fields_by_role(server, tmp_path):
    limei = server.open_store(tmp_path / "limei.db", "user-limei")
    zhao = server.open_store(tmp_path / "zhao.db", "user-zhao")
    # Before the first sync the role is unknown: hidden.
    assert limei.sees_sensitive() is False
    asyncio.run(limei.sync(server.settings("user-limei"), None))
    asyncio.run(zhao.sync(server.settings("user-zhao"), None))
    assert limei.sees_sensitive() is True
    assert zhao.sees_sensitive() is False
