"""Ledgers (台账): the household ledger downloaded by a real browser as XLSX and opened with
openpyxl, an independent reader: Chinese column names and values intact, ID numbers and
phones as text (str, never a number), the header row frozen; and the CSV with its BOM."""

import csv
import io
import time

import openpyxl
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import linli

from conftest import ARTIFACTS


def id_number(base17):
    """An ID number with its check character (GB 11643-1999)."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(base17, weights))
    return base17 + "10X98765432"[total % 11]


# All digits, so a spreadsheet that took it for a number would lose its last digits.
DIGITS_ID = next(n for n in (id_number(f"3101041985071{i:04d}") for i in range(50))
                 if n[-1].isdigit())
PHONE = "13712345678"


def download(console, tmp_path, fmt, kind="households"):
    """Chooses the ledger, clicks its export button; the downloaded file's bytes."""
    target = tmp_path / fmt
    target.mkdir()
    console.driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
        "behavior": "allow", "downloadPath": str(target)})
    console.open("/admin/ledgers")
    form = console.find("form#ledger")
    Select(form.find_element(By.NAME, "kind")).select_by_value(kind)
    form.find_element(By.CSS_SELECTOR, f'button[value="{fmt}"]').click()
    deadline = time.time() + 30
    while time.time() < deadline:
        done = [p for p in target.iterdir() if not p.name.endswith(".crdownload")]
        if done:
            time.sleep(0.2)
            return done[0].name, done[0].read_bytes()
        time.sleep(0.2)
    raise AssertionError(f"no {fmt} download within 30 s")


def test_the_household_ledger_downloads_as_xlsx_and_csv(signed_in, limei, tmp_path):
    hid = limei.store.create_household(linli.NewHousehold(
        place_id="u-1-2",
        room="808",
        residency=linli.Residency.FLOATING,
        housing=linli.Housing.RENTED,
        tags=[linli.CareTag.VETERAN],
        notes="=备注不是公式",
        members=[
            linli.NewMember(name="司马长青", relation=linli.Relation.HEAD, birth_year=1961,
                            phone=PHONE, id_number=DIGITS_ID),
        ],
    ))
    limei.sync()
    console = signed_in("user-admin")
    console.open("/admin/ledgers")
    console.screenshot("ledgers.png")

    name, data = download(console, tmp_path, "xlsx")
    assert name.endswith(".xlsx"), name
    (ARTIFACTS / "ledger-households.xlsx").write_bytes(data)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet.title == "户籍台账"
    assert sheet.freeze_panes == "A2", "the header row is frozen"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["社区", "网格", "户编号"], header
    assert "身份证号" in header and "电话" in header
    rows = [dict(zip(header, [c.value for c in r])) for r in sheet.iter_rows(min_row=2)]
    mine = [r for r in rows if r["户编号"] == hid]
    assert len(mine) == 1, rows
    row = mine[0]
    assert isinstance(row["身份证号"], str) and row["身份证号"] == DIGITS_ID, row
    assert isinstance(row["电话"], str) and row["电话"] == PHONE
    assert row["姓名"] == "司马长青" and row["楼栋"] == "安置小区1栋" and row["单元"] == "2单元"
    assert row["居住类型"] == "流动" and row["住房"] == "租住" and row["标签"] == "退役军人"
    assert row["备注"] == "=备注不是公式", "XLSX cells are strings, not escaped"
    assert row["出生年"] == "1961"

    name, data = download(console, tmp_path, "csv")
    assert name.endswith(".csv"), name
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM"
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    row = [r for r in table if r["户编号"] == hid][0]
    assert row["身份证号"] == DIGITS_ID and row["姓名"] == "司马长青"
    assert row["备注"] == "'=备注不是公式", "a formula-looking cell is escaped in CSV"
