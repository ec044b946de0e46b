//! Roster import (花名册导入): an XLSX or CSV of households and their members, one row per
//! member in the household ledger's columns, checked row by row (a dry run that writes
//! nothing), then written as server-authored household documents that sync to the phones.
//!
//! Pure parsing and planning first, storage last:
//!
//! - `archive.rs`: an XLSX is a zip; its entries are checked (sizes, compression ratio)
//!   before anything opens it, so a zip bomb is refused cheaply
//! - `table.rs`: the file's bytes → a table of cell texts (CSV in UTF-8 with or without a
//!   BOM, or GB18030; XLSX via calamine, formulas marked), with the size and row caps
//! - `roster.rs`: the table → validated roster rows (the columns, the domain's checks and
//!   code labels) and per-row problems
//! - `plan.rs`: roster rows against the place tree and the households already stored →
//!   what would be created and updated, matched by natural key (ID number, else address and
//!   name), and more problems (unknown building, duplicate person)
//! - `write.rs`: a plan written as server changes (`u` = the admin who imported)
//! - `jobs.rs`: uploads held between the dry run and the confirmation, and the background
//!   run with its progress

mod archive;
pub mod jobs;
pub mod plan;
pub mod roster;
pub mod table;
pub mod write;

pub use jobs::{Job, JobState, Jobs};
pub use plan::{HouseholdAction, Plan};
pub use roster::{COLUMNS, RosterRow};
pub use table::{Format, Table};

/// An upload larger than this is refused before it is read.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// A file with more data rows than this is refused before its rows are parsed.
pub const MAX_ROWS: usize = 50_000;
/// An XLSX whose entries unpack to more than this in all is refused.
pub const MAX_UNPACKED_BYTES: u64 = 200 * 1024 * 1024;
/// An XLSX entry over 1 MiB unpacked that is compressed more than this is refused.
pub const MAX_RATIO: u64 = 100;

/// Why a whole file is refused (nothing is written). Its message is Chinese and names no
/// resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    TooLarge,
    TooManyRows,
    /// Neither an XLSX nor a CSV.
    UnknownFormat,
    /// A CSV that is neither UTF-8 nor GB18030.
    BadEncoding,
    /// An XLSX whose entries unpack to too much, or compress too well.
    ZipBomb,
    /// An XLSX that cannot be read (a damaged zip, no worksheet).
    Unreadable,
    Empty,
    /// Required columns missing, and columns not of the ledger.
    Columns {
        missing: Vec<String>,
        unknown: Vec<String>,
    },
}

impl FileError {
    pub fn message(&self) -> String {
        match self {
            FileError::TooLarge => format!(
                "文件超过 {} MB，请拆分后分批导入。",
                MAX_UPLOAD_BYTES / 1024 / 1024
            ),
            FileError::TooManyRows => {
                format!("文件超过 {MAX_ROWS} 行，请拆分后分批导入。")
            }
            FileError::UnknownFormat => "只能导入 XLSX 或 CSV 文件。".into(),
            FileError::BadEncoding => {
                "无法识别文件编码：CSV 须为 UTF-8 或 GB18030（GBK）编码。".into()
            }
            FileError::ZipBomb => "文件解压后过大或压缩比异常，已拒绝。".into(),
            FileError::Unreadable => "无法读取该 XLSX 文件，请用 Excel 另存后重试。".into(),
            FileError::Empty => "文件中没有数据行。".into(),
            FileError::Columns { missing, unknown } => {
                let mut parts = Vec::new();
                if !missing.is_empty() {
                    parts.push(format!("缺少列：{}", missing.join("、")));
                }
                if !unknown.is_empty() {
                    parts.push(format!("无法识别的列：{}", unknown.join("、")));
                }
                format!("表头与住户台账不符。{}。", parts.join("；"))
            }
        }
    }
}

/// A problem with one row: its row number as the spreadsheet shows it (the header is row
/// 1), the column (if one), and a Chinese message that names no resident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: Option<&'static str>,
    pub message: String,
}

impl Problem {
    pub fn new(line: usize, column: Option<&'static str>, message: impl Into<String>) -> Problem {
        Problem {
            line,
            column,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests;
