//! Ledgers (台账): the export of the register, visits, incidents, disputes and follow-ups as
//! XLSX or CSV. `columns.rs` holds the household ledger's columns, which the import reads.

pub mod columns;

pub use columns::HOUSEHOLD_COLUMNS;
