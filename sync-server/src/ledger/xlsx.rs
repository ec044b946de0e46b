//! XLSX ledgers (rust_xlsxwriter in constant-memory mode: rows go to a temp file as they
//! come): Chinese column names in a bold, frozen header row; every cell a string, so ID
//! numbers and phones stay text (Excel keeps only 15 digits of a number) and times are the
//! text `YYYY-MM-DD HH:MM`. The finished workbook is saved to a temp file, which the caller
//! streams.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::Sheet;
use crate::error::{Error, Result};

/// The most rows a worksheet holds, the header included.
pub const MAX_ROWS: u32 = 1_048_576;

fn failed(e: XlsxError) -> Error {
    Error::Io(std::io::Error::other(format!("xlsx: {e}")))
}

/// An XLSX ledger being written.
pub struct XlsxSheet {
    book: Workbook,
    row: u32,
    bold: Format,
}

impl XlsxSheet {
    /// A workbook whose one worksheet, named `title`, keeps its rows in `tmp`.
    pub fn new(title: &str, tmp: &Path) -> Result<XlsxSheet> {
        let mut book = Workbook::new();
        book.set_tempdir(tmp).map_err(failed)?;
        let sheet = book.add_worksheet_with_constant_memory().map_err(failed)?;
        sheet.set_name(title).map_err(failed)?;
        Ok(XlsxSheet {
            book,
            row: 0,
            bold: Format::new().set_bold(),
        })
    }

    /// Saves the workbook to `path`.
    pub fn save(mut self, path: &Path) -> Result<()> {
        self.book.save(path).map_err(failed)
    }
}

impl Sheet for XlsxSheet {
    fn header(&mut self, columns: &[&str]) -> Result<()> {
        let bold = self.bold.clone();
        let sheet = self.book.worksheet_from_index(0).map_err(failed)?;
        for (c, name) in columns.iter().enumerate() {
            let c = u16::try_from(c)
                .map_err(|_| Error::Io(std::io::Error::other("xlsx: too many columns")))?;
            sheet.set_column_width(c, 14).map_err(failed)?;
            sheet
                .write_string_with_format(0, c, *name, &bold)
                .map_err(failed)?;
        }
        sheet.set_freeze_panes(1, 0).map_err(failed)?;
        self.row = 1;
        Ok(())
    }

    fn row(&mut self, cells: &[String]) -> Result<()> {
        if self.row >= MAX_ROWS {
            return Err(Error::Io(std::io::Error::other("xlsx: over the row limit")));
        }
        let row = self.row;
        let sheet = self.book.worksheet_from_index(0).map_err(failed)?;
        for (c, cell) in cells.iter().enumerate() {
            if cell.is_empty() {
                continue;
            }
            let c = u16::try_from(c)
                .map_err(|_| Error::Io(std::io::Error::other("xlsx: too many columns")))?;
            sheet.write_string(row, c, cell.as_str()).map_err(failed)?;
        }
        self.row += 1;
        Ok(())
    }
}
