//! A file's bytes → a table of cell texts. XLSX (recognised by its zip signature) is read
//! with calamine after `archive::check`; anything else is a CSV, decoded as UTF-8 (a BOM
//! is dropped) if it is valid UTF-8, else as GB18030 (what Chinese Excel saves), else
//! refused. The size cap is checked before anything is read, the row cap before the rows
//! are parsed (a CSV's lines are counted first; an XLSX's sheet reports its height).

use std::collections::HashSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::{FileError, MAX_ROWS, MAX_UPLOAD_BYTES, archive};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

/// One cell: its text (trimmed), and whether the spreadsheet holds a formula there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub formula: bool,
}

/// A data row and its row number as the spreadsheet shows it (the header is row 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub format: Format,
    pub header: Vec<String>,
    /// Rows with at least one non-blank cell.
    pub rows: Vec<Row>,
}

const ZIP_SIGNATURE: &[u8] = b"PK\x03\x04";

pub fn format_of(bytes: &[u8]) -> Format {
    if bytes.starts_with(ZIP_SIGNATURE) {
        Format::Xlsx
    } else {
        Format::Csv
    }
}

/// Reads a whole upload.
pub fn read(bytes: &[u8]) -> Result<Table, FileError> {
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(FileError::TooLarge);
    }
    let table = match format_of(bytes) {
        Format::Xlsx => read_xlsx(bytes)?,
        Format::Csv => read_csv(bytes)?,
    };
    if table.rows.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(table)
}

/// The text of a CSV: UTF-8 without its BOM, else GB18030.
pub fn decode(bytes: &[u8]) -> Result<String, FileError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return Ok(s.to_owned());
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|s| s.into_owned())
        .ok_or(FileError::BadEncoding)
}

/// Whether a CSV certainly has more than [`MAX_ROWS`] data rows: its lines are counted
/// (cheap), and only when they exceed the cap are its records counted (a quoted cell may
/// hold a line break), stopping at the first one over.
fn csv_over_cap(bytes: &[u8]) -> bool {
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    if lines <= MAX_ROWS + 1 {
        return false;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    while let Ok(true) = reader.read_byte_record(&mut record) {
        if record
            .iter()
            .any(|c| !c.iter().all(u8::is_ascii_whitespace))
        {
            rows += 1;
            if rows > MAX_ROWS {
                return true;
            }
        }
    }
    false
}

fn read_csv(bytes: &[u8]) -> Result<Table, FileError> {
    if csv_over_cap(bytes) {
        return Err(FileError::TooManyRows);
    }
    let text = decode(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|_| FileError::Unreadable)?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cells: Vec<Cell> = record
            .iter()
            .map(|c| Cell {
                text: c.trim().to_owned(),
                // A CSV holds no formulas, but a cell Excel would run as one is refused.
                formula: c.trim_start().starts_with('='),
            })
            .collect();
        if header.is_none() {
            header = Some(cells.into_iter().map(|c| c.text).collect());
            continue;
        }
        if cells.iter().any(|c| !c.text.is_empty()) {
            rows.push(Row { line, cells });
        }
    }
    Ok(Table {
        format: Format::Csv,
        header: header.unwrap_or_default(),
        rows,
    })
}

/// A cell's value as text: whole numbers without a fraction (a birth year typed as a
/// number is "1950", not "1950.0").
fn text_of(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Data::DateTime(dt) => dt.as_f64().to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn read_xlsx(bytes: &[u8]) -> Result<Table, FileError> {
    archive::check(bytes)?;
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|_| FileError::Unreadable)?;
    let sheet = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or(FileError::Unreadable)?;
    let range = book
        .worksheet_range(&sheet)
        .map_err(|_| FileError::Unreadable)?;
    if range.height() > MAX_ROWS + 1 {
        return Err(FileError::TooManyRows);
    }
    let formulas = book
        .worksheet_formula(&sheet)
        .map_err(|_| FileError::Unreadable)?;
    let mut with_formula = HashSet::new();
    if let Some((r0, c0)) = formulas.start() {
        for (r, c, f) in formulas.cells() {
            if !f.is_empty() {
                with_formula.insert((r0 as usize + r, c0 as usize + c));
            }
        }
    }
    let Some((r0, c0)) = range.start() else {
        return Err(FileError::Empty);
    };
    let mut header = None;
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let at = r0 as usize + i;
        let cells: Vec<Cell> = row
            .iter()
            .enumerate()
            .map(|(j, d)| Cell {
                text: text_of(d),
                formula: with_formula.contains(&(at, c0 as usize + j)),
            })
            .collect();
        if header.is_none() {
            header = Some(cells.into_iter().map(|c| c.text).collect());
            continue;
        }
        if cells.iter().any(|c| !c.text.is_empty() || c.formula) {
            rows.push(Row {
                line: at + 1,
                cells,
            });
        }
    }
    Ok(Table {
        format: Format::Xlsx,
        header: header.unwrap_or_default(),
        rows,
    })
}
