//! CSV cells safe to open in a spreadsheet. A cell starting with `=`, `+`, `-`, `@`, a tab or
//! a carriage return is run as a formula by Excel, LibreOffice and Google Sheets (CSV
//! injection); such a cell is written with a leading `'`, which spreadsheets show as text. A
//! cell that is a plain number (`-3.5`) is left alone. JSON output is never altered.

use std::borrow::Cow;

/// `field` as it should be written to a CSV file.
pub fn cell(field: &[u8]) -> Cow<'_, [u8]> {
    let risky = matches!(
        field.first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    );
    let number =
        std::str::from_utf8(field).is_ok_and(|s| s.parse::<f64>().is_ok_and(f64::is_finite));
    if risky && !number {
        let mut out = Vec::with_capacity(field.len() + 1);
        out.push(b'\'');
        out.extend_from_slice(field);
        Cow::Owned(out)
    } else {
        Cow::Borrowed(field)
    }
}

/// Writes one record with every cell made safe; only risky cells are copied.
pub fn write<W: std::io::Write, I, F>(w: &mut csv::Writer<W>, record: I) -> csv::Result<()>
where
    I: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let fields: Vec<F> = record.into_iter().collect();
    w.write_record(fields.iter().map(|f| cell(f.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        for (given, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("-3.5", "-3.5"),
            ("api", "api"),
            ("", ""),
        ] {
            assert_eq!(
                cell(given.as_bytes()).as_ref(),
                written.as_bytes(),
                "{given:?}"
            );
        }
    }
}
