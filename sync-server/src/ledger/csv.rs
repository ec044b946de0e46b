//! CSV ledgers: UTF-8 with a BOM (so Excel opens them as UTF-8), CRLF lines, fields quoted
//! per RFC 4180 when they hold `,`, `"`, CR or LF; a cell that starts with `=`, `+`, `-` or
//! `@` gets one `'` in front and is quoted (see `columns.rs`; the import strips it).

use super::Sheet;
use super::columns::escape_formula;
use crate::error::Result;

/// Bytes are handed on in chunks of about this size.
pub const CHUNK: usize = 64 * 1024;

/// The byte order mark every CSV ledger starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A CSV ledger written to `out` in chunks.
pub struct CsvSheet<'a> {
    buf: Vec<u8>,
    out: &'a mut dyn FnMut(Vec<u8>) -> Result<()>,
}

impl<'a> CsvSheet<'a> {
    pub fn new(out: &'a mut dyn FnMut(Vec<u8>) -> Result<()>) -> CsvSheet<'a> {
        let mut buf = Vec::with_capacity(CHUNK + 1024);
        buf.extend_from_slice(BOM);
        CsvSheet { buf, out }
    }

    fn line<S: AsRef<str>>(&mut self, cells: &[S]) -> Result<()> {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            field(&mut self.buf, cell.as_ref());
        }
        self.buf.extend_from_slice(b"\r\n");
        if self.buf.len() >= CHUNK {
            (self.out)(std::mem::replace(
                &mut self.buf,
                Vec::with_capacity(CHUNK + 1024),
            ))?;
        }
        Ok(())
    }

    /// Hands on what is left.
    pub fn finish(mut self) -> Result<()> {
        if !self.buf.is_empty() {
            (self.out)(std::mem::take(&mut self.buf))?;
        }
        Ok(())
    }
}

/// One field: escaped against formulas, quoted when it must be (or was escaped).
fn field(buf: &mut Vec<u8>, cell: &str) {
    let escaped = escape_formula(cell);
    let quote = escaped.len() != cell.len() || cell.contains([',', '"', '\r', '\n']);
    if quote {
        buf.push(b'"');
        buf.extend_from_slice(escaped.replace('"', "\"\"").as_bytes());
        buf.push(b'"');
    } else {
        buf.extend_from_slice(cell.as_bytes());
    }
}

impl Sheet for CsvSheet<'_> {
    fn header(&mut self, columns: &[&str]) -> Result<()> {
        self.line(columns)
    }

    fn row(&mut self, cells: &[String]) -> Result<()> {
        self.line(cells)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_quotes_and_formulas() {
        let mut got = Vec::new();
        let mut out = |b: Vec<u8>| {
            got.extend(b);
            Ok(())
        };
        let mut s = CsvSheet::new(&mut out);
        s.header(&["姓名", "电话"]).unwrap();
        s.row(&["=王".into(), "+8613812345678".into()]).unwrap();
        s.row(&["a,b".into(), "say \"hi\"\nbye".into()]).unwrap();
        s.row(&["-1".into(), "@SUM(A1)".into()]).unwrap();
        s.finish().unwrap();
        assert!(got.starts_with(BOM));
        let text = String::from_utf8(got[3..].to_vec()).unwrap();
        assert_eq!(
            text,
            "姓名,电话\r\n\"'=王\",\"'+8613812345678\"\r\n\"a,b\",\"say \"\"hi\"\"\nbye\"\r\n\
             \"'-1\",\"'@SUM(A1)\"\r\n"
        );
    }
}
