"""People and devices (/admin/users): an admin creates a grid worker with a first place, makes
an enrolment QR code on their page, a phone exchanges the link for its token through the
bindings and syncs, and the page then lists the phone by its name."""

import asyncio

from selenium.webdriver.support.ui import Select

import linli
from conftest import CHINESE, DB_KEY


def test_create_a_user_and_enrol_their_phone_by_qr_code(signed_in, tmp_path):
    console = signed_in("user-admin")
    console.open("/admin/users")
    assert CHINESE.search(console.text("h1")), console.text("h1")
    assert console.find_all('table#users tr[data-user="user-limei"]')

    form = console.find("form#new-user")
    form.find_element("name", "name").send_keys("浏览器新网格员")
    Select(form.find_element("name", "role")).select_by_value("grid_worker")
    Select(form.find_element("name", "place")).select_by_value("g-2")
    Select(form.find_element("name", "reason")).select_by_value("new_staff")
    console.submit(form)
    assert console.path().startswith("/admin/users/u-"), console.path()
    user_id = console.path().removeprefix("/admin/users/")
    assert "浏览器新网格员" in console.text("h1")
    assert console.find_all('table#grants tr[data-place="g-2"]')

    console.submit(console.find("form#enrol"))
    qr = console.find("#enrolment .qr svg")
    assert qr.size["width"] >= 200, qr.size
    link = console.text("#enrol-link")
    assert link.startswith("linli://enrol?server="), link
    console.screenshot("users-enrolment-qr.png")

    got = asyncio.run(linli.enrol(linli.parse_enrol_link(link), "浏览器测试手机", None))
    assert got.user_id == user_id
    store = linli.LinliStore.open(str(tmp_path / "new.db"), got.device_id, got.user_id, DB_KEY)
    settings = linli.SyncSettings(server_url=got.server_url, token=got.token)
    assert asyncio.run(store.sync(settings, None)).refused == []
    assert [g.place_id for g in store.my_grants()] == ["g-2"]

    console.open(f"/admin/users/{user_id}")
    devices = console.text("table#devices")
    assert "浏览器测试手机" in devices, devices
    console.screenshot("users-device-listed.png")
