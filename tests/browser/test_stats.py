"""Statistics (/admin/stats): the SVG charts and rates render, a phone's report shows in the
figures, choosing another period reloads them; a screenshot is kept."""

import re

import linli
from selenium.webdriver.support.ui import Select

from conftest import CHINESE


def incidents_total(console):
    heading = console.text("#incidents h2")
    return int(re.search(r"共 (\d+) 件", heading).group(1))


def bar_value(console, chart, label):
    return console.js(
        "const b = document.querySelector(`svg#${arguments[0]} rect.bar[data-label='${arguments[1]}']`);"
        "return b ? Number(b.dataset.value) : 0;", chart, label)


def test_the_statistics_page_shows_a_new_report(signed_in, limei):
    console = signed_in("user-admin")
    console.open("/admin/stats")
    before = incidents_total(console)
    noise_before = bar_value(console, "by-category", "噪音扰民")

    visits_before = int(re.search(r"共 (\d+) 次", console.text("#visits h2")).group(1))

    # 李梅 knocks on a door of a new household and reports a noise complaint.
    hid = limei.store.create_household(linli.NewHousehold(
        place_id="b-2", room="统计-1", residency=linli.Residency.RESIDENT,
        housing=linli.Housing.OWNED, tags=[], notes="", members=[]))
    limei.store.record_visit(linli.NewVisit(
        household_id=hid, at=None, purpose=linli.VisitPurpose.ROUTINE, needs=[],
        done_on_spot="", follow_up=False))
    limei.report("统计页测试：楼道噪音", category=linli.IncidentCategory.NOISE)

    console.open("/admin/stats")
    assert incidents_total(console) == before + 1
    assert bar_value(console, "by-category", "噪音扰民") == noise_before + 1
    visits = int(re.search(r"共 (\d+) 次", console.text("#visits h2")).group(1))
    assert visits == visits_before + 1
    grids = [r.text for r in console.find_all("#visits-table tbody tr td:first-child")]
    assert "第一网格" in grids, grids
    for chart in ("visits-chart", "incidents-chart", "by-category", "by-status", "by-grid",
                  "disputes-chart"):
        svg = console.find(f"svg#{chart}")
        assert svg.size["width"] > 0 and svg.size["height"] > 0, chart
    for rate in ("response", "resolution", "satisfaction"):
        card = console.text(f"#rate-{rate}")
        assert card and CHINESE.search(card), card
    # Twelve weeks, Mondays as labels.
    labels = console.js("return Array.from(document.querySelectorAll('#visits-table thead th'),"
                        " th => th.textContent)")
    assert len(labels) == 12 + 2, labels
    console.screenshot("stats.png")

    form = console.find("form#stats-period")
    Select(form.find_element("name", "weeks")).select_by_value("4")
    console.submit(form)
    assert console.path() == "/admin/stats"
    labels = console.js("return document.querySelectorAll('#visits-table thead th').length")
    assert labels == 4 + 2
    assert "近 4 周" in console.text("h1")
    console.screenshot("stats-4-weeks.png")
