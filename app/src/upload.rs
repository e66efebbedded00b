//! Uploaded CSV files read the same way everywhere: a byte-order mark dropped, cells trimmed, the
//! header naming the columns (any case), empty lines skipped, and every problem reported with its
//! line and column, the header being line 1. A file is taken whole or not at all.

use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use std::collections::BTreeMap;

use crate::error::FieldError;

/// A problem in an uploaded file: line 1 is the header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

impl LineError {
    /// The same problem as a form's field error, named `line 3, output_per_1m`.
    pub fn into_field_error(self) -> FieldError {
        FieldError {
            field: if self.column.is_empty() {
                format!("line {}", self.line)
            } else {
                format!("line {}, {}", self.line, self.column)
            },
            message: self.message,
        }
    }
}

/// The most problems one upload reports.
pub const MAX_LINE_ERRORS: usize = 100;

/// Reads a CSV with a header row. `check_header` reports what is wrong with the (lower-cased)
/// column names; `parse` turns one line's values, by column, into a `T` or the problems of its
/// fields (named by column). `what` names the lines in "The file has a header but no runs."
/// Returns each value with its line, or every problem (the first `MAX_LINE_ERRORS`).
#[cfg(feature = "ssr")]
pub fn read_csv<T>(
    bytes: &[u8],
    check_header: impl FnOnce(&[String]) -> Vec<LineError>,
    mut parse: impl FnMut(u64, &BTreeMap<String, String>) -> Result<T, Vec<FieldError>>,
    what: &str,
) -> Result<Vec<(u64, T)>, Vec<LineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers: Vec<String> = match reader.headers() {
        Ok(headers) => headers
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
        Err(error) => {
            return Err(vec![LineError {
                line: 1,
                column: String::new(),
                message: format!("The header row cannot be read: {error}."),
            }])
        }
    };
    let mut errors = check_header(&headers);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut read = Vec::new();
    for record in reader.records() {
        if errors.len() >= MAX_LINE_ERRORS {
            break;
        }
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                errors.push(LineError {
                    line: error.position().map_or(0, |p| p.line()),
                    column: String::new(),
                    message: format!("This line cannot be read: {error}."),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let values: BTreeMap<String, String> = headers
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .collect();
        if values.values().all(|v| v.is_empty()) {
            continue;
        }
        match parse(line, &values) {
            Ok(value) => read.push((line, value)),
            Err(problems) => errors.extend(problems.into_iter().map(|p| LineError {
                line,
                column: p.field,
                message: p.message,
            })),
        }
    }
    if read.is_empty() && errors.is_empty() {
        errors.push(LineError {
            line: 2,
            column: String::new(),
            message: format!("The file has a header but no {what}."),
        });
    }
    if errors.is_empty() {
        Ok(read)
    } else {
        errors.truncate(MAX_LINE_ERRORS);
        Err(errors)
    }
}
