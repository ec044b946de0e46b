//! Ledgers (台账): the register, visits, incidents, disputes and follow-ups exported as XLSX
//! or CSV, streamed row by row from one read transaction (never a whole ledger in memory).
//!
//! - `columns.rs`: the household ledger's columns ([`HOUSEHOLD_COLUMNS`]), which the roster
//!   import reads, and the CSV formula escape it undoes
//! - `period.rs`: periods in Asia/Shanghai (weeks start on Monday) and the ledgers' times
//! - `rows.rs`: each ledger's columns and rows, sensitive fields masked unless shown in full
//! - `csv.rs`, `xlsx.rs`: the two formats, written to a chunk sink

pub mod columns;
pub mod csv;
pub mod period;
pub mod rows;
pub mod xlsx;

pub use columns::HOUSEHOLD_COLUMNS;

/// Which ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    Households,
    Visits,
    Incidents,
    Disputes,
    Needs,
}

impl LedgerKind {
    pub const ALL: [LedgerKind; 5] = [
        LedgerKind::Households,
        LedgerKind::Visits,
        LedgerKind::Incidents,
        LedgerKind::Disputes,
        LedgerKind::Needs,
    ];

    pub fn code(self) -> &'static str {
        match self {
            LedgerKind::Households => "households",
            LedgerKind::Visits => "visits",
            LedgerKind::Incidents => "incidents",
            LedgerKind::Disputes => "disputes",
            LedgerKind::Needs => "needs",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LedgerKind::Households => "户籍台账（户及成员、标签）",
            LedgerKind::Visits => "走访台账",
            LedgerKind::Incidents => "事件台账（时间线、时限结果）",
            LedgerKind::Disputes => "矛盾纠纷台账",
            LedgerKind::Needs => "诉求跟进台账",
        }
    }

    /// The file name's Chinese part.
    pub fn title(self) -> &'static str {
        match self {
            LedgerKind::Households => "户籍台账",
            LedgerKind::Visits => "走访台账",
            LedgerKind::Incidents => "事件台账",
            LedgerKind::Disputes => "矛盾纠纷台账",
            LedgerKind::Needs => "诉求跟进台账",
        }
    }

    pub fn from_code(code: &str) -> Option<LedgerKind> {
        LedgerKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// Whether `code` is one of this ledger's categories: care tags (households), visit
    /// purposes, incident categories, need categories; disputes have none to choose.
    pub fn has_category(self, code: &str) -> bool {
        use linli_domain::{CareTag, IncidentCategory, NeedCategory, VisitPurpose};
        match self {
            LedgerKind::Households => CareTag::from_code(code).is_some(),
            LedgerKind::Visits => VisitPurpose::from_code(code).is_some(),
            LedgerKind::Incidents => IncidentCategory::from_code(code).is_some(),
            LedgerKind::Disputes => false,
            LedgerKind::Needs => NeedCategory::from_code(code).is_some(),
        }
    }
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

impl Format {
    pub fn from_code(code: &str) -> Option<Format> {
        match code {
            "xlsx" => Some(Format::Xlsx),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
        }
    }
}

/// Where a ledger's rows go: a header, then rows of text cells.
pub trait Sheet {
    fn header(&mut self, columns: &[&str]) -> crate::Result<()>;
    fn row(&mut self, cells: &[String]) -> crate::Result<()>;
}
