"""Roster import (/admin/import): upload a roster saved by Chinese Excel (GB18030 CSV), read
the dry run, confirm, watch the progress until done; the grid worker's phone then syncs the
households. A file with problems lists each row's problem in Chinese and offers no import."""

import re

from conftest import CHINESE

HEADER = "楼栋,单元,房号,居住类型,住房,标签,备注,姓名,关系,出生年,性别,户籍状态,电话,身份证号"
ROSTER = (
    HEADER + "\n"
    "安置小区1栋,2单元,1901,常住,自有,空巢/独居老人,,浏览器测试甲,户主,1944,女,户籍,"
    "'+8613812345678,11010519491231002X\n"
    "安置小区1栋,2单元,1901,,,,,'=浏览器测试乙,孙辈,2014,男,户籍,,\n"
    "安置小区2栋,1单元,1902,流动,租住,,,浏览器测试丙,户主,1990,男,流动,13912345678,\n"
)
BAD = (
    HEADER + "\n"
    "安置小区1栋,,1903,常住,自有,,,某甲,户主,,,,,110105194912310021\n"
    "没有这栋楼,,1904,常住,自有,,,某乙,户主,,,,,\n"
)


def upload(console, path):
    console.open("/admin/import")
    form = console.find("form#upload")
    form.find_element("name", "file").send_keys(str(path))
    console.submit(form)
    assert re.fullmatch(r"/admin/import/[0-9a-f]+", console.path()), console.path()


def test_upload_dry_run_confirm_and_the_phone_gets_it(signed_in, limei, tmp_path):
    console = signed_in("user-admin")
    path = tmp_path / "花名册.csv"
    path.write_bytes(ROSTER.encode("gb18030"))

    upload(console, path)

    counts = console.text("#dry-run-counts")
    assert "将新建 2 户、3 人" in counts, counts
    assert not console.find_all("table#problems")
    console.screenshot("import-dry-run.png")

    console.submit(console.find("form#confirm-import"))
    console.wait(lambda d: console.find("#import-progress").get_attribute("data-state")
                 == "done", timeout=30, message="the import did not finish")
    done = console.text("#import-progress")
    assert "导入完成" in done and "新建 2 户、3 人" in done, done
    console.screenshot("import-done.png")

    limei.sync()
    rooms = {h.room: h for h in limei.store.households_in("c-xingfu")}
    assert "1901" in rooms and "1902" in rooms
    household = limei.store.household(rooms["1901"].id)
    names = sorted(m.name for m in household.members)
    assert names == ["=浏览器测试乙", "浏览器测试甲"], names
    assert any(m.phone == "+8613812345678" for m in household.members)


def test_a_file_with_problems_lists_them_and_imports_nothing(signed_in, tmp_path):
    console = signed_in("user-admin")
    path = tmp_path / "有错误.csv"
    path.write_text(BAD, encoding="utf-8-sig")

    upload(console, path)

    rows = {r.get_attribute("data-line"): r.text for r in console.find_all("table#problems tr[data-line]")}
    assert "校验位错误" in rows["2"], rows
    assert "楼栋不存在" in rows["3"], rows
    assert all(CHINESE.search(text) for text in rows.values())
    assert "发现 2 处问题" in console.text("#problem-total")
    assert not console.find_all("form#confirm-import")
    console.screenshot("import-problems.png")
