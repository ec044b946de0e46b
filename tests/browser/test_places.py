"""The place tree (/admin/places): an admin renames a grid, then moves a building to the other
grid; the grid worker's phone that held its households no longer does after a sync."""

from selenium.webdriver.support.ui import Select

import linli
from conftest import CHINESE


def test_rename_a_grid_and_move_a_building(signed_in, limei):
    here = limei.store.create_household(linli.NewHousehold(
        place_id="u-2-1", room="2108", residency=linli.Residency.RESIDENT,
        housing=linli.Housing.OWNED, tags=[], notes="", members=[]))
    limei.sync()

    console = signed_in("user-admin")
    console.open("/admin/places")
    assert CHINESE.search(console.text("h1")), console.text("h1")
    row = console.find('table#places tr[data-place="g-2"]')
    form = row.find_element("css selector", "form.rename")
    name = form.find_element("name", "name")
    name.clear()
    name.send_keys("第二网格（东区）")
    console.submit(form)
    assert console.path() == "/admin/places"
    assert "第二网格（东区）" in console.text('table#places tr[data-place="g-2"] td.name')

    row = console.find('table#places tr[data-place="b-2"]')
    move = row.find_element("css selector", "form.move")
    Select(move.find_element("name", "grid")).select_by_value("g-2")
    Select(move.find_element("name", "reason")).select_by_value("restructure")
    console.submit(move)
    assert console.path() == "/admin/places"
    console.screenshot("places-moved.png")

    limei.sync()
    held = {h.id for h in limei.store.households_in("c-xingfu")}
    assert here not in held, "the moved building's household left 李梅's phone"
