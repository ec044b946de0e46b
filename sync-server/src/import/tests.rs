//! The parser and the planner on files built here: encodings, the BOM, formulas, wrong
//! columns, a zip bomb, the caps; the planner's natural keys.

#![allow(clippy::unwrap_used)]

use std::io::Write;

use linli_domain::model::{Address, Household, Member};
use linli_domain::{Place, PlaceKind, Relation};

use super::plan::{HouseholdAction, MemberAction, plan};
use super::roster::{self, Checked};
use super::table::{self, Format};
use super::{FileError, MAX_ROWS, MAX_UPLOAD_BYTES};

/// 2026-11-21.
const NOW: i64 = 1_795_305_600_000;
const HEADER: &str =
    "楼栋,单元,房号,居住类型,住房,标签,备注,姓名,关系,出生年,性别,户籍状态,电话,身份证号";
const ID_OK: &str = "11010519491231002X";

fn check_csv(text: &str) -> Checked {
    let t = table::read(text.as_bytes()).unwrap();
    assert_eq!(t.format, Format::Csv);
    roster::check(&t, NOW).unwrap()
}

#[test]
fn utf8_with_bom_reads_and_validates() {
    let text = format!(
        "\u{feff}{HEADER}\n安置小区1栋,1单元,301,常住,自有,空巢/独居老人、党员,,张三,户主,1950,男,户籍,13812345678,{ID_OK}\n"
    );
    let c = check_csv(&text);
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let r = &c.rows[0];
    assert_eq!(r.line, 2);
    assert_eq!(r.building, "安置小区1栋");
    assert_eq!(r.member.as_ref().unwrap().name, "张三");
    assert_eq!(r.member.as_ref().unwrap().relation, Relation::Head);
    assert_eq!(r.member.as_ref().unwrap().birth_year, Some(1950));
    assert_eq!(r.tags.len(), 2);
}

#[test]
fn gb18030_is_decoded() {
    let text = format!("{HEADER}\n安置小区1栋,,302,流动,租住,,,李四,租户,,女,流动,,\n");
    let (bytes, _, bad) = encoding_rs::GB18030.encode(&text);
    assert!(!bad);
    assert!(std::str::from_utf8(&bytes).is_err(), "really not UTF-8");
    let t = table::read(&bytes).unwrap();
    let c = roster::check(&t, NOW).unwrap();
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    assert_eq!(c.rows[0].member.as_ref().unwrap().name, "李四");
    assert_eq!(c.rows[0].room, "302");
}

#[test]
fn bytes_in_no_encoding_are_refused() {
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n\xff\xfe\xff,\x80\n");
    assert_eq!(table::read(&bytes), Err(FileError::BadEncoding));
}

#[test]
fn wrong_columns_are_listed() {
    let text = "楼栋,房号,姓名,手机\n安置小区1栋,301,张三,13812345678\n";
    let t = table::read(text.as_bytes()).unwrap();
    let e = roster::check(&t, NOW).unwrap_err();
    assert_eq!(
        e,
        FileError::Columns {
            missing: vec!["关系".into()],
            unknown: vec!["手机".into()],
        }
    );
    let m = e.message();
    assert!(
        m.contains("缺少列：关系") && m.contains("无法识别的列：手机"),
        "{m}"
    );
}

#[test]
fn row_problems_name_row_and_column() {
    let text = format!(
        "{HEADER}\n安置小区1栋,,301,常住,自有,,,张三,户主,1850,未知,,123,110105194912310021\n\
         安置小区1栋,,302,常住,自有,,,,老板,,,,,\n"
    );
    let c = check_csv(&text);
    assert!(c.rows.is_empty());
    let at = |line: usize, col: &str| {
        c.problems
            .iter()
            .find(|p| p.line == line && p.column == Some(col))
            .map(|p| p.message.clone())
    };
    assert_eq!(at(2, "身份证号").as_deref(), Some("校验位错误"));
    assert_eq!(at(2, "出生年").as_deref(), Some("超出范围"));
    assert_eq!(at(2, "电话").as_deref(), Some("格式不正确"));
    assert!(at(2, "性别").unwrap().contains("男、女"));
    assert_eq!(at(3, "姓名").as_deref(), Some("不能为空"));
    assert!(at(3, "关系").unwrap().contains("户主"));
    // No resident's data in any message.
    assert!(c.problems.iter().all(|p| !p.message.contains("张三")));
}

#[test]
fn escaped_cells_come_back_as_written() {
    let text =
        format!("{HEADER}\n安置小区1栋,,301,常住,自有,,'-备注,'=王五,户主,,,,'+8613812345678,\n");
    let c = check_csv(&text);
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let r = &c.rows[0];
    assert_eq!(r.member.as_ref().unwrap().name, "=王五");
    assert_eq!(
        r.member.as_ref().unwrap().phone.as_deref(),
        Some("+8613812345678")
    );
    assert_eq!(r.notes.as_deref(), Some("-备注"));
    // Exactly one quote is dropped, and only before those characters.
    assert_eq!(roster::unescape("''=x"), "''=x");
    assert_eq!(roster::unescape("'abc"), "'abc");
}

#[test]
fn a_csv_formula_is_a_row_problem() {
    let text = format!("{HEADER}\n安置小区1栋,,301,常住,自有,,,=HYPERLINK(\"x\"),户主,,,,,\n");
    let c = check_csv(&text);
    assert!(c.rows.is_empty());
    assert_eq!(c.problems.len(), 1);
    assert_eq!(c.problems[0].column, Some("姓名"));
    assert_eq!(c.problems[0].message, "单元格含公式");
}

/// A minimal XLSX: one sheet of inline strings, `formula` at (row, column) if given.
fn xlsx(rows: &[Vec<&str>], formula: Option<(usize, usize)>) -> Vec<u8> {
    let col = |j: usize| char::from(b'A' + j as u8);
    let mut sheet = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet \
         xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    );
    for (i, row) in rows.iter().enumerate() {
        sheet.push_str(&format!("<row r=\"{}\">", i + 1));
        for (j, v) in row.iter().enumerate() {
            let r = format!("{}{}", col(j), i + 1);
            if formula == Some((i, j)) {
                sheet.push_str(&format!("<c r=\"{r}\"><f>1+1</f><v>2</v></c>"));
            } else if !v.is_empty() {
                sheet.push_str(&format!(
                    "<c r=\"{r}\" t=\"inlineStr\"><is><t>{v}</t></is></c>"
                ));
            }
        }
        sheet.push_str("</row>");
    }
    sheet.push_str("</sheetData></worksheet>");
    let parts = [
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
             <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
             <Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
             <Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>".to_owned(),
        ),
        (
            "_rels/.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>".to_owned(),
        ),
        (
            "xl/workbook.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
             xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>\
             <sheet name=\"住户\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>".to_owned(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
             <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>".to_owned(),
        ),
        ("xl/worksheets/sheet1.xml", sheet),
    ];
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, body) in parts {
        w.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(body.as_bytes()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn header_cells() -> Vec<&'static str> {
    HEADER.split(',').collect()
}

#[test]
fn xlsx_reads_and_marks_formulas() {
    let row = vec![
        "安置小区1栋",
        "1单元",
        "301",
        "常住",
        "自有",
        "",
        "",
        "张三",
        "户主",
        "",
        "",
        "",
        "",
        ID_OK,
    ];
    let bytes = xlsx(&[header_cells(), row.clone(), row.clone()], Some((2, 8)));
    let t = table::read(&bytes).unwrap();
    assert_eq!(t.format, Format::Xlsx);
    let c = roster::check(&t, NOW).unwrap();
    assert_eq!(c.rows.len(), 1);
    assert_eq!(
        c.rows[0].member.as_ref().unwrap().id_number.as_deref(),
        Some(ID_OK)
    );
    assert_eq!(c.problems.len(), 1);
    assert_eq!(c.problems[0].line, 3);
    assert_eq!(c.problems[0].column, Some("关系"));
    assert_eq!(c.problems[0].message, "单元格含公式");
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_opened() {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file(
        "xl/worksheets/sheet1.xml",
        zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated),
    )
    .unwrap();
    let zeros = vec![0u8; 1024 * 1024];
    for _ in 0..16 {
        w.write_all(&zeros).unwrap();
    }
    let bytes = w.finish().unwrap().into_inner();
    assert!(bytes.len() < 100 * 1024, "compressed {}", bytes.len());
    assert_eq!(table::read(&bytes), Err(FileError::ZipBomb));
    // A damaged zip is unreadable, not a panic.
    assert_eq!(
        table::read(&bytes[..bytes.len() / 2]),
        Err(FileError::Unreadable)
    );
}

#[test]
fn caps_refuse_before_parsing() {
    let mut text = String::from(HEADER);
    text.push('\n');
    for i in 0..=100_000 {
        text.push_str(&format!("安置小区1栋,,{i},常住,自有,,,张,户主,,,,,\n"));
    }
    assert_eq!(table::read(text.as_bytes()), Err(FileError::TooManyRows));
    assert!(
        FileError::TooManyRows
            .message()
            .contains(&MAX_ROWS.to_string())
    );
    let big = vec![b'a'; MAX_UPLOAD_BYTES + 1];
    assert_eq!(table::read(&big), Err(FileError::TooLarge));
    // At the cap, the rows are read.
    let mut text = String::from(HEADER);
    text.push('\n');
    for i in 0..MAX_ROWS {
        text.push_str(&format!("安置小区1栋,,{i},常住,自有,,,张,户主,,,,,\n"));
    }
    assert_eq!(table::read(text.as_bytes()).unwrap().rows.len(), MAX_ROWS);
}

fn places() -> Vec<Place> {
    let p = |id: &str, kind, parent: Option<&str>, name: &str| Place {
        id: id.into(),
        kind,
        parent_id: parent.map(Into::into),
        name: name.into(),
    };
    vec![
        p("c", PlaceKind::Community, None, "幸福社区"),
        p("g", PlaceKind::Grid, Some("c"), "第一网格"),
        p("b", PlaceKind::Building, Some("g"), "1栋"),
        p("u", PlaceKind::Unit, Some("b"), "1单元"),
        p("c2", PlaceKind::Community, None, "别的社区"),
        p("g2", PlaceKind::Grid, Some("c2"), "别的网格"),
        p("b2", PlaceKind::Building, Some("g2"), "2栋"),
    ]
}

#[test]
fn plan_matches_by_natural_key_and_finds_duplicates() {
    let text = format!(
        "{HEADER}\n1栋,1单元,301,常住,自有,党员,,张三,户主,1950,,,,{ID_OK}\n\
         1栋,1单元,301,,,,,李四,配偶,1952,,,,\n\
         1栋,,401,常住,自有,,,王五,户主,,,,,{ID_OK}\n\
         1栋,1单元,301,,,,,李四,配偶,,,,,\n\
         2栋,,101,常住,自有,,,赵六,户主,,,,,\n\
         1栋,3单元,101,常住,自有,,,钱七,户主,,,,,\n"
    );
    let c = check_csv(&text);
    assert!(c.problems.is_empty());
    let communities = vec!["c".to_owned()];
    let p = plan(&c.rows, &places(), &communities, &[]);
    let lines: Vec<(usize, Option<&str>)> = p.problems.iter().map(|x| (x.line, x.column)).collect();
    assert_eq!(
        lines,
        vec![
            (4, Some("身份证号")),
            (5, Some("姓名")),
            (6, Some("楼栋")),
            (7, Some("单元"))
        ]
    );
    assert_eq!(p.households.len(), 1);
    assert_eq!(p.counts.households_created, 1);
    assert_eq!(p.counts.members_created, 2);

    // The same rows against the household as stored: nothing to do.
    let h = &p.households[0];
    let stored = Household {
        id: "h1".into(),
        address: Address {
            community_id: "c".into(),
            grid_id: "g".into(),
            building_id: Some("b".into()),
            unit_id: Some("u".into()),
            room: "301".into(),
            micro_grid_id: None,
        },
        residency: h.residency.unwrap(),
        housing: h.housing.unwrap(),
        tags: h.add_tags.clone(),
        notes: String::new(),
        members: h
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| Member {
                id: format!("m{i}"),
                name: m.member.name.clone(),
                relation: m.member.relation,
                birth_year: m.member.birth_year,
                phone: m.member.phone.clone(),
                id_number: m.member.id_number.clone(),
                gender: None,
                residence: None,
                tags: m.tags.clone(),
                moved_out_at: None,
            })
            .collect(),
        visits: vec![],
        created_at: 0,
    };
    let again = plan(
        &c.rows,
        &places(),
        &communities,
        std::slice::from_ref(&stored),
    );
    assert_eq!(again.households[0].action, HouseholdAction::Same);
    assert_eq!(again.writes().count(), 0);
    assert_eq!(again.counts.members_same, 2);

    // A changed birth year is an update of that member only.
    let mut older = stored.clone();
    older.members[1].birth_year = Some(1960);
    let p3 = plan(&c.rows, &places(), &communities, &[older]);
    assert_eq!(p3.households[0].action, HouseholdAction::Update);
    assert_eq!(p3.households[0].members[0].action, MemberAction::Same);
    assert_eq!(p3.households[0].members[1].action, MemberAction::Update);
    assert_eq!(
        p3.households[0].members[1].patch.birth_year,
        Some(Some(1952))
    );
}

#[test]
fn the_exports_header_is_the_imports() {
    use crate::ledger::HOUSEHOLD_COLUMNS;
    let header = HOUSEHOLD_COLUMNS.join(",");
    let row = format!(
        "幸福社区,第一网格,0193a1b2-0000-7000-8000-000000000000,安置小区1栋,1单元,301,常住,自有,党员,,'=王,户主,1950,男,户籍,'+8613812345678,{ID_OK},残疾、党员"
    );
    let c = check_csv(&format!("\u{feff}{header}\n{row}\n"));
    assert!(c.problems.is_empty(), "{:?}", c.problems);
    let r = &c.rows[0];
    assert_eq!(r.member.as_ref().unwrap().name, "=王");
    assert_eq!(
        r.member.as_ref().unwrap().phone.as_deref(),
        Some("+8613812345678")
    );
    assert_eq!(
        r.person_tags,
        vec![
            linli_domain::CareTag::Disabled,
            linli_domain::CareTag::PartyMember
        ]
    );
}

#[test]
fn jobs_are_their_owners_start_once_and_let_go_of_the_file() {
    use super::jobs::{JobState, Jobs, MAX_JOBS};
    let jobs = Jobs::default();
    let id = jobs.add("admin-a", "roster.csv", b"x".to_vec());
    assert!(jobs.get(&id, "admin-b").is_none());
    assert!(!jobs.start(&id, "admin-b"));
    assert!(jobs.start(&id, "admin-a"));
    assert!(!jobs.start(&id, "admin-a"), "started twice");
    jobs.set(&id, JobState::Failed("x".into()));
    let job = jobs.get(&id, "admin-a").unwrap();
    assert!(job.bytes.is_empty());
    // A bounded number held: the oldest goes first.
    let ids: Vec<String> = (0..MAX_JOBS + 2)
        .map(|i| jobs.add("admin-a", &format!("{i}.csv"), vec![1]))
        .collect();
    assert!(jobs.get(&ids[0], "admin-a").is_none());
    assert!(jobs.get(&ids[MAX_JOBS + 1], "admin-a").is_some());
}
