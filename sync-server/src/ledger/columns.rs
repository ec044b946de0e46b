//! The household ledger's columns (户籍台账), shared by the export (`ledger/`) and the roster
//! import (helper "imp"): both read and write the header row from [`HOUSEHOLD_COLUMNS`].
//!
//! One row per member; a household with no members has one row whose member columns
//! (姓名 … 个人标签) are blank. The columns, in order:
//!
//! | 列 | 内容 |
//! |---|---|
//! | 社区 | 社区名称 |
//! | 网格 | 网格名称 |
//! | 户编号 | 户的 id（文档 id），同一户的各行相同 |
//! | 楼栋 | 楼栋名称 |
//! | 单元 | 单元名称，无单元则空 |
//! | 房号 | 房号，如 `301` |
//! | 居住类型 | `Residency` 的中文标签：常住 / 流动 |
//! | 住房 | `Housing` 的中文标签：自有 / 租住 / 安置房 |
//! | 标签 | 户的关爱标签，中文标签以 [`TAG_SEPARATOR`]（`、`）连接 |
//! | 备注 | 户的备注 |
//! | 姓名 | 成员姓名 |
//! | 关系 | `Relation` 的中文标签（户主、配偶 …） |
//! | 出生年 | 四位年份，可空 |
//! | 性别 | `Gender` 的中文标签，可空 |
//! | 户籍状态 | `PersonResidence` 的中文标签，可空 |
//! | 电话 | 文本（XLSX 中为字符串单元格） |
//! | 身份证号 | 文本（XLSX 中为字符串单元格，18 位不丢精度） |
//! | 个人标签 | 成员本人的关爱标签，以 `、` 连接 |
//!
//! CSV escaping (公式注入防护): a cell that starts with `=`, `+`, `-` or `@` is written with one
//! `'` in front (see [`escape_formula`]), so `+8613812345678` is written `'+8613812345678` and a
//! name `=王` is written `'=王`. The import must strip EXACTLY ONE leading `'` when the next
//! character is one of `= + - @` ([`unescape_formula`]) so such values come back intact. XLSX
//! cells are written as strings and are not escaped. (A value that itself begins with `'` and
//! a formula character, e.g. `'=x`, is not escaped and comes back as `=x`: the one case the
//! rule cannot tell apart.)
//!
//! A community admin's ledger holds ID numbers, phones and every tag in full; a street
//! admin's is masked (`110105********1234`, `138****5678`, `特殊关爱（已隐藏）`): an import should
//! refuse masked values rather than store them.

/// The header row of the household ledger, in column order (see the module doc).
pub const HOUSEHOLD_COLUMNS: [&str; 18] = [
    "社区",
    "网格",
    "户编号",
    "楼栋",
    "单元",
    "房号",
    "居住类型",
    "住房",
    "标签",
    "备注",
    "姓名",
    "关系",
    "出生年",
    "性别",
    "户籍状态",
    "电话",
    "身份证号",
    "个人标签",
];

/// Joins tag labels in the 标签 and 个人标签 columns.
pub const TAG_SEPARATOR: char = '、';

/// Characters a spreadsheet reads as the start of a formula.
pub const FORMULA_STARTS: [char; 4] = ['=', '+', '-', '@'];

/// The CSV form of a cell: `'` in front of a cell that starts with a formula character.
pub fn escape_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(FORMULA_STARTS) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The inverse of [`escape_formula`], for the import: one leading `'` before a formula
/// character is removed; anything else is returned as it is.
pub fn unescape_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_round_trips() {
        for cell in ["+8613812345678", "=王", "-1", "@x", "王", "", "'abc"] {
            assert_eq!(unescape_formula(&escape_formula(cell)), cell, "{cell}");
        }
        assert_eq!(escape_formula("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(escape_formula("王"), "王");
    }
}
