//! The table → roster rows: the household ledger's columns (one row per member), each cell
//! checked with the domain's validation and code labels. A row with any problem is listed
//! with every problem it has and left out.

use linli_domain::Error as DomainError;
use linli_domain::Millis;
use linli_domain::model::{
    CareTag, Gender, Housing, NewMember, PersonResidence, Reason, Relation, Residency,
    check_birth_year, check_id_number, check_name, check_phone, check_short, check_text,
};

use super::table::{Row, Table};
use super::{FileError, Problem};
use crate::ledger::columns::{HOUSEHOLD_COLUMNS, TAG_SEPARATOR, unescape_formula};

/// The household ledger's columns (the export's header): 社区, 网格 and 户编号 are read
/// but not used (households are matched by their address, in the importing admin's
/// communities).
pub const COLUMNS: [&str; HOUSEHOLD_COLUMNS.len()] = HOUSEHOLD_COLUMNS;

/// The columns of the member a row describes.
const MEMBER_COLUMNS: [&str; 8] = [
    "姓名",
    "关系",
    "出生年",
    "性别",
    "户籍状态",
    "电话",
    "身份证号",
    "个人标签",
];

/// Columns a file must have; the others may be left out.
pub const REQUIRED: [&str; 4] = ["楼栋", "房号", "姓名", "关系"];

/// One valid member row, with the household fields it carries (blank: not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterRow {
    pub line: usize,
    pub building: String,
    pub unit: Option<String>,
    pub room: String,
    pub residency: Option<Residency>,
    pub housing: Option<Housing>,
    pub tags: Vec<CareTag>,
    pub notes: Option<String>,
    /// None for a household's row without a member (the export writes one for a
    /// household whose members all left the list: its member columns are blank).
    pub member: Option<NewMember>,
    /// The member's own care tags (个人标签).
    pub person_tags: Vec<CareTag>,
    pub gender: Option<Gender>,
    pub residence: Option<PersonResidence>,
}

/// Rows that passed, and the problems of those that did not.
#[derive(Debug, Clone, Default)]
pub struct Checked {
    pub rows: Vec<RosterRow>,
    pub problems: Vec<Problem>,
}

/// Where each ledger column is in the file's header.
struct Positions([Option<usize>; COLUMNS.len()]);

fn positions(header: &[String]) -> Result<Positions, FileError> {
    let mut at = [None; COLUMNS.len()];
    let mut unknown = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        if name.is_empty() {
            continue;
        }
        match COLUMNS.iter().position(|c| *c == name) {
            Some(k) if at[k].is_none() => at[k] = Some(i),
            Some(_) => unknown.push(format!("{name}（重复）")),
            None => unknown.push(name.to_owned()),
        }
    }
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|c| at[column_index(c)].is_none())
        .map(|c| (*c).to_owned())
        .collect();
    if !missing.is_empty() || !unknown.is_empty() {
        return Err(FileError::Columns { missing, unknown });
    }
    Ok(Positions(at))
}

fn column_index(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).unwrap_or(0)
}

/// The text a CSV export escaped: exactly one leading `'` before `=`, `+`, `-` or `@` is
/// dropped (the export adds it so spreadsheets do not run the cell).
pub fn unescape(text: &str) -> &str {
    unescape_formula(text)
}

/// A phone as the domain checks it: a leading `+86` (or `0086`) country code is allowed
/// and kept as written.
fn check_phone_intl(phone: &str) -> Result<(), DomainError> {
    let p = phone.trim();
    let national = p
        .strip_prefix("+86")
        .or_else(|| p.strip_prefix("0086"))
        .map(|r| r.trim_start_matches([' ', '-']))
        .unwrap_or(p);
    check_phone(national)
}

fn reason_text(e: &DomainError) -> String {
    match e {
        DomainError::InvalidInput { reason, .. } => match reason {
            Reason::CheckCharacter => "校验位错误".into(),
            Reason::BadFormat => "格式不正确".into(),
            Reason::OutOfRange => "超出范围".into(),
            Reason::TooLong => "过长或含有不可见字符".into(),
            Reason::Required => "不能为空".into(),
            r => r.label().into(),
        },
        _ => "无效".into(),
    }
}

/// A label of a closed set, by its Chinese label (or its code).
fn label_of<T: Copy>(
    all: &[T],
    label: fn(T) -> &'static str,
    code: fn(T) -> &'static str,
    text: &str,
) -> Option<T> {
    all.iter()
        .copied()
        .find(|v| label(*v) == text || code(*v) == text)
}

fn choices<T: Copy>(all: &[T], label: fn(T) -> &'static str) -> String {
    all.iter().map(|v| label(*v)).collect::<Vec<_>>().join("、")
}

/// Care tags by their labels, joined by `、` (commas, semicolons and spaces also
/// accepted), sorted; an unknown label is a problem of `column`.
fn tags_of(
    text: &str,
    column: &'static str,
    bad: &mut dyn FnMut(&'static str, String),
) -> Vec<CareTag> {
    let mut tags = Vec::new();
    for t in text
        .split([TAG_SEPARATOR, ',', '，', ';', '；', ' ', '\u{3000}'])
        .filter(|t| !t.is_empty())
    {
        match label_of(CareTag::ALL, CareTag::label, CareTag::code, t) {
            Some(tag) if !tags.contains(&tag) => tags.push(tag),
            Some(_) => {}
            None => bad(
                column,
                format!("无法识别，应为：{}", choices(CareTag::ALL, CareTag::label)),
            ),
        }
    }
    tags.sort();
    tags
}

/// Checks every row of `table` (`now` bounds birth years).
pub fn check(table: &Table, now: Millis) -> Result<Checked, FileError> {
    let at = positions(&table.header)?;
    let mut out = Checked::default();
    for row in &table.rows {
        match check_row(row, &at, now) {
            Ok(r) => out.rows.push(r),
            Err(mut ps) => out.problems.append(&mut ps),
        }
    }
    Ok(out)
}

fn check_row(row: &Row, at: &Positions, now: Millis) -> Result<RosterRow, Vec<Problem>> {
    let line = row.line;
    let mut problems = Vec::new();
    let cell = |name: &'static str| -> &str {
        at.0[column_index(name)]
            .and_then(|i| row.cells.get(i))
            .map_or("", |c| unescape(&c.text))
    };
    for (k, name) in COLUMNS.iter().enumerate() {
        if at.0[k]
            .and_then(|i| row.cells.get(i))
            .is_some_and(|c| c.formula)
        {
            problems.push(Problem::new(line, Some(*name), "单元格含公式"));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut bad = |column: &'static str, message: String| {
        problems.push(Problem::new(line, Some(column), message));
    };
    let building = cell("楼栋").to_owned();
    if building.is_empty() {
        bad("楼栋", "不能为空".into());
    }
    let unit = Some(cell("单元").to_owned()).filter(|u| !u.is_empty());
    let room = cell("房号").to_owned();
    if let Err(e) = check_short("room", &room, true) {
        bad("房号", reason_text(&e));
    }
    let residency = match cell("居住类型") {
        "" => None,
        t => label_of(Residency::ALL, Residency::label, Residency::code, t).or_else(|| {
            bad(
                "居住类型",
                format!(
                    "无法识别，应为：{}",
                    choices(Residency::ALL, Residency::label)
                ),
            );
            None
        }),
    };
    let housing = match cell("住房") {
        "" => None,
        t => label_of(Housing::ALL, Housing::label, Housing::code, t).or_else(|| {
            bad(
                "住房",
                format!("无法识别，应为：{}", choices(Housing::ALL, Housing::label)),
            );
            None
        }),
    };
    let tags = tags_of(cell("标签"), "标签", &mut bad);
    let person_tags = tags_of(cell("个人标签"), "个人标签", &mut bad);
    let notes = Some(cell("备注").to_owned()).filter(|n| !n.is_empty());
    if let Some(n) = &notes
        && let Err(e) = check_text("notes", n, false)
    {
        bad("备注", reason_text(&e));
    }
    // A row whose member columns are all blank is the household's own.
    let no_member = MEMBER_COLUMNS.iter().all(|c| cell(c).is_empty());
    let name = cell("姓名").to_owned();
    if no_member {
        return if problems.is_empty() {
            Ok(RosterRow {
                line,
                building,
                unit,
                room,
                residency,
                housing,
                tags,
                notes,
                member: None,
                person_tags: Vec::new(),
                gender: None,
                residence: None,
            })
        } else {
            Err(problems)
        };
    }
    if let Err(e) = check_name(&name) {
        bad("姓名", reason_text(&e));
    }
    let relation = match cell("关系") {
        "" => {
            bad("关系", "不能为空".into());
            None
        }
        t => label_of(Relation::ALL, Relation::label, Relation::code, t).or_else(|| {
            bad(
                "关系",
                format!(
                    "无法识别，应为：{}",
                    choices(Relation::ALL, Relation::label)
                ),
            );
            None
        }),
    };
    let birth_year = match cell("出生年") {
        "" => None,
        t => match t.trim_end_matches('年').parse::<i32>() {
            Ok(y) => match check_birth_year(y, now) {
                Ok(()) => Some(y),
                Err(e) => {
                    bad("出生年", reason_text(&e));
                    None
                }
            },
            Err(_) => {
                bad("出生年", "应为四位年份".into());
                None
            }
        },
    };
    let gender = match cell("性别") {
        "" => None,
        t => label_of(Gender::ALL, Gender::label, Gender::code, t).or_else(|| {
            bad(
                "性别",
                format!("无法识别，应为：{}", choices(Gender::ALL, Gender::label)),
            );
            None
        }),
    };
    let residence = match cell("户籍状态") {
        "" => None,
        t => label_of(
            PersonResidence::ALL,
            PersonResidence::label,
            PersonResidence::code,
            t,
        )
        .or_else(|| {
            bad(
                "户籍状态",
                format!(
                    "无法识别，应为：{}",
                    choices(PersonResidence::ALL, PersonResidence::label)
                ),
            );
            None
        }),
    };
    let phone = Some(cell("电话").to_owned()).filter(|p| !p.is_empty());
    if let Some(p) = &phone
        && let Err(e) = check_phone_intl(p)
    {
        bad("电话", reason_text(&e));
    }
    let id_number = Some(cell("身份证号").to_ascii_uppercase()).filter(|n| !n.is_empty());
    if let Some(n) = &id_number
        && let Err(e) = check_id_number(n)
    {
        bad("身份证号", reason_text(&e));
    }
    match relation {
        Some(relation) if problems.is_empty() => Ok(RosterRow {
            line,
            building,
            unit,
            room,
            residency,
            housing,
            tags,
            notes,
            member: Some(NewMember {
                name,
                relation,
                birth_year,
                phone,
                id_number,
            }),
            person_tags,
            gender,
            residence,
        }),
        _ => Err(problems),
    }
}
