//! How operator commands print: aligned tables with local times for people, one JSON document with `--json` for
//! machines.

use serde_json::Value;
use std::io::Write;

/// Unix seconds as the reader's local time (the `TZ` variable, else the system's zone), with its UTC offset:
/// `2026-12-07 22:31:05 +08:00`. A time outside the calendar prints as the raw number.
pub(crate) fn local_time(unix_seconds: i64) -> String {
    match jiff::Timestamp::from_second(unix_seconds) {
        Ok(timestamp) => {
            timestamp.to_zoned_datetime(jiff::tz::TimeZone::system()).strftime("%Y-%m-%d %H:%M:%S %:z").to_string()
        }
        Err(_) => unix_seconds.to_string(),
    }
}

/// A JSON field of unix seconds as local time; `–` when absent.
pub(crate) fn local_time_of(value: &Value) -> String {
    value.as_i64().map_or_else(|| "–".to_owned(), local_time)
}

/// A JSON field as text: strings without quotes, `–` when absent.
pub(crate) fn text_of(value: &Value) -> String {
    match value {
        Value::Null => "–".to_owned(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A table: a header row and rows of cells, printed with columns padded to their widest cell.
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub(crate) fn new(header: &[&'static str]) -> Table {
        Table { header: header.to_vec(), rows: Vec::new() }
    }

    pub(crate) fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table's text: header, then one line per row, two spaces between columns, no trailing spaces.
    pub(crate) fn render(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|cell| cell.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> =
                cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
            format!("{}\n", padded.join("  ").trim_end())
        };
        let mut text = line(self.header.clone());
        for row in &self.rows {
            text.push_str(&line(row.iter().map(String::as_str).collect()));
        }
        text
    }
}

/// Prints `value` as pretty JSON on stdout.
pub(crate) fn print_json(value: &Value) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string_pretty(value)?)?;
    Ok(())
}

/// Prints a titled table on stdout, or `(none)` under the title when it has no rows.
pub(crate) fn print_section(title: &str, table: &Table) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{title}")?;
    if table.is_empty() {
        writeln!(stdout, "  (none)\n")?;
    } else {
        writeln!(stdout, "{}", table.render())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_pad_columns_to_their_widest_cell() {
        let mut table = Table::new(&["ID", "State"]);
        table.push(vec!["bnd-1".into(), "active".into()]);
        table.push(vec!["b".into(), "–".into()]);
        assert_eq!(table.render(), "ID     State\nbnd-1  active\nb      –\n");
    }

    #[test]
    fn times_print_in_the_local_zone_with_their_offset() {
        // The zone is read from TZ when set; this test only checks the shape, which holds in every zone.
        let text = local_time(1_796_604_544);
        assert!(text.starts_with("2026-12-") && text.len() == "2026-12-07 22:31:05 +08:00".len(), "{text}");
        assert_eq!(local_time_of(&Value::Null), "–");
    }
}
