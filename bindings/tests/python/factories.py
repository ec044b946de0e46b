"""Records for the tests, built from the generated module (conftest.py puts it on the path)."""

import linli

# The device database key of every test store (an app generates 32 random bytes once and
# keeps them in the Android Keystore / iOS Keychain).
DB_KEY = bytes(range(1, 33))

# The demo community as `linli-demo` seeds it (sync-server/src/admin.rs),
# parents first, for stores that never meet a server.
DEMO_PLACES = [
    ("c-xingfu", linli.PlaceKind.COMMUNITY, None, "幸福社区"),
    ("g-1", linli.PlaceKind.GRID, "c-xingfu", "第一网格"),
    ("g-2", linli.PlaceKind.GRID, "c-xingfu", "第二网格"),
    ("b-1", linli.PlaceKind.BUILDING, "g-1", "安置小区1栋"),
    ("b-2", linli.PlaceKind.BUILDING, "g-1", "安置小区2栋"),
    ("b-9", linli.PlaceKind.BUILDING, "g-2", "桂花苑9栋"),
    ("u-1-1", linli.PlaceKind.UNIT, "b-1", "1单元"),
    ("u-1-2", linli.PlaceKind.UNIT, "b-1", "2单元"),
    ("u-2-1", linli.PlaceKind.UNIT, "b-2", "1单元"),
    ("u-2-2", linli.PlaceKind.UNIT, "b-2", "2单元"),
    ("u-9-1", linli.PlaceKind.UNIT, "b-9", "1单元"),
    ("u-9-2", linli.PlaceKind.UNIT, "b-9", "2单元"),
]


def demo_places():
    return [linli.Place(id=i, kind=k, parent_id=p, name=n) for i, k, p, n in DEMO_PLACES]


def member(name, relation=linli.Relation.HEAD, phone=None, birth_year=None):
    return linli.NewMember(
        name=name, relation=relation, birth_year=birth_year, phone=phone, id_number=None
    )


def new_household(place_id, room, members, tags=(), notes=""):
    return linli.NewHousehold(
        place_id=place_id,
        room=room,
        residency=linli.Residency.RESIDENT,
        housing=linli.Housing.RESETTLEMENT,
        tags=list(tags),
        notes=notes,
        members=list(members),
    )


def patch(**fields):
    """A HouseholdPatch with only the given fields set."""
    base = dict(place_id=None, room=None, residency=None, housing=None, notes=None)
    base.update(fields)
    return linli.HouseholdPatch(**base)
