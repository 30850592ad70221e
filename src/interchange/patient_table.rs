//! The patient tables of `nadir cohort` (interchange §4).
//!
//! **§4a, per-patient results** ([`read_patient_outcomes`]): `patient_id`
//! (unique), `arm`, `best_response` (`CR`, `PR`, `SD`, `PD`, `NE`,
//! `NonCR/NonPD`), `best_change_pct` (optional number), `pfs_months` (number
//! ≥ 0), `progressed` (`true`/`false`, also `yes`/`no`, `1`/`0`), `ttr_months`
//! (optional number ≥ 0).
//!
//! **§4b, patient dates** for `--lesions` ([`read_patient_dates`]):
//! `patient_id` (unique), `arm`, `start_date`, optional `death_date` and
//! `last_contact_date`, dates as ISO `YYYY-MM-DD`. Dates that cannot be true
//! are rejected: a death or last contact before the start, a last contact
//! after death.
//!
//! Both: UTF-8, comma-separated, header row required, column order free,
//! unknown columns ignored with a warning, at least one patient row. Bad input
//! is rejected with an error naming the file, the 1-based physical line
//! (header = line 1; a missing column is reported at line 1) and the column;
//! nothing is half-imported.

use crate::cohort::{BestResponse, PatientOutcome};
use crate::recist::Date;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// The parsed table.
#[derive(Debug, Clone, PartialEq)]
pub struct PatientOutcomeTable {
    /// One record per data row, in file order.
    pub outcomes: Vec<PatientOutcome>,
    /// Non-fatal remarks (e.g. unknown columns), each naming the file.
    pub warnings: Vec<String>,
}

/// Why the table was rejected.
#[derive(Debug, thiserror::Error)]
pub enum PatientTableError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// CSV syntax or encoding problem.
    #[error("{file}, line {line}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based physical line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The file has no header row.
    #[error("{file}, line 1: missing header row")]
    NoHeader {
        /// The file.
        file: String,
    },
    /// A required column is absent from the header.
    #[error("{file}, line 1: missing required column \"{column}\"")]
    MissingColumn {
        /// The file.
        file: String,
        /// The column.
        column: &'static str,
    },
    /// A known column appears twice in the header.
    #[error("{file}, line 1, column \"{column}\": column appears more than once")]
    DuplicateColumn {
        /// The file.
        file: String,
        /// The column.
        column: String,
    },
    /// A data row has a different number of fields than the header.
    #[error("{file}, line {line}: {found} fields, but the header has {expected}")]
    FieldCount {
        /// The file.
        file: String,
        /// 1-based physical line.
        line: u64,
        /// Fields in the header.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A required value is empty.
    #[error("{file}, line {line}, column \"{column}\": value is required")]
    MissingValue {
        /// The file.
        file: String,
        /// 1-based physical line.
        line: u64,
        /// The column.
        column: &'static str,
    },
    /// A value cannot be parsed or is out of range.
    #[error("{file}, line {line}, column \"{column}\": {value:?} is not {expected}")]
    InvalidValue {
        /// The file.
        file: String,
        /// 1-based physical line.
        line: u64,
        /// The column.
        column: &'static str,
        /// The offending text.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A patient id occurs twice.
    #[error(
        "{file}, line {line}, column \"patient_id\": patient {patient_id:?} already appears on line {first_line}"
    )]
    DuplicatePatient {
        /// The file.
        file: String,
        /// 1-based physical line of the repeat.
        line: u64,
        /// The id.
        patient_id: String,
        /// Line of the first occurrence.
        first_line: u64,
    },
    /// A date lies before the date it must follow (e.g. death before start).
    #[error(
        "{file}, line {line}, column \"{column}\": {date} is before {earlier_column} {earlier_date}"
    )]
    DateOrder {
        /// The file.
        file: String,
        /// 1-based physical line.
        line: u64,
        /// The column holding the later-expected date.
        column: &'static str,
        /// Its date.
        date: Date,
        /// The column holding the date it must not precede.
        earlier_column: &'static str,
        /// That date.
        earlier_date: Date,
    },
    /// The table has a header but no data rows.
    #[error("{file}: no patient rows")]
    NoPatients {
        /// The file.
        file: String,
    },
}

const PATIENT_ID: &str = "patient_id";
const ARM: &str = "arm";
const BEST_RESPONSE: &str = "best_response";
const BEST_CHANGE_PCT: &str = "best_change_pct";
const PFS_MONTHS: &str = "pfs_months";
const PROGRESSED: &str = "progressed";
const TTR_MONTHS: &str = "ttr_months";
const START_DATE: &str = "start_date";
const DEATH_DATE: &str = "death_date";
const LAST_CONTACT_DATE: &str = "last_contact_date";

const REQUIRED: [&str; 5] = [PATIENT_ID, ARM, BEST_RESPONSE, PFS_MONTHS, PROGRESSED];
const OPTIONAL: [&str; 2] = [BEST_CHANGE_PCT, TTR_MONTHS];

const DATES_REQUIRED: [&str; 3] = [PATIENT_ID, ARM, START_DATE];
const DATES_OPTIONAL: [&str; 2] = [DEATH_DATE, LAST_CONTACT_DATE];

const ISO_DATE: &str = "an ISO date YYYY-MM-DD";

/// Reads the table from a file; errors name the path as given.
pub fn read_patient_outcomes_file(path: &Path) -> Result<PatientOutcomeTable, PatientTableError> {
    let file_name = path.display().to_string();
    let bytes = read_file(path, &file_name)?;
    read_patient_outcomes(bytes.as_slice(), &file_name)
}

/// Reads the table from any reader; `file_name` is used in messages.
pub fn read_patient_outcomes(
    reader: impl Read,
    file_name: &str,
) -> Result<PatientOutcomeTable, PatientTableError> {
    let mut outcomes = Vec::new();
    let mut patient_ids = UniquePatients::default();
    let warnings = read_rows(reader, file_name, &REQUIRED, &OPTIONAL, |row| {
        let patient_id = row.required(PATIENT_ID)?;
        patient_ids.check(&patient_id, row)?;
        let arm = row.required(ARM)?;
        let response_text = row.required(BEST_RESPONSE)?;
        let best_response = BestResponse::from_code(&response_text).ok_or_else(|| {
            row.invalid(
                BEST_RESPONSE,
                response_text.clone(),
                "one of CR, PR, SD, PD, NE, NonCR/NonPD",
            )
        })?;
        let best_change_pct = match row.cell(BEST_CHANGE_PCT)? {
            None => None,
            Some(text) => Some(
                parse_finite(&text)
                    .ok_or_else(|| row.invalid(BEST_CHANGE_PCT, text, "a number or empty"))?,
            ),
        };
        let pfs_text = row.required(PFS_MONTHS)?;
        let pfs_months = parse_finite(&pfs_text)
            .filter(|value| *value >= 0.0)
            .ok_or_else(|| row.invalid(PFS_MONTHS, pfs_text.clone(), "a number ≥ 0"))?;
        let progressed_text = row.required(PROGRESSED)?;
        let progressed = parse_bool(&progressed_text).ok_or_else(|| {
            row.invalid(
                PROGRESSED,
                progressed_text.clone(),
                "true/false (yes/no, 1/0)",
            )
        })?;
        let ttr_months = match row.cell(TTR_MONTHS)? {
            None => None,
            Some(text) => Some(
                parse_finite(&text)
                    .filter(|value| *value >= 0.0)
                    .ok_or_else(|| row.invalid(TTR_MONTHS, text, "a number ≥ 0 or empty"))?,
            ),
        };
        patient_ids.insert(patient_id.clone(), row.line);
        outcomes.push(PatientOutcome {
            patient_id,
            arm,
            best_response,
            best_change_pct,
            pfs_months,
            progressed,
            ttr_months,
        });
        Ok(())
    })?;
    if outcomes.is_empty() {
        return Err(PatientTableError::NoPatients {
            file: file_name.to_string(),
        });
    }
    Ok(PatientOutcomeTable { outcomes, warnings })
}

/// One row of the patient-dates table of input path (b) (interchange §4b).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientDatesRow {
    /// Unique patient identifier.
    pub patient_id: String,
    /// Treatment arm label.
    pub arm: String,
    /// Start of treatment / randomisation: time zero of PFS and time to response.
    pub start_date: Date,
    /// Date of death, if the patient died.
    pub death_date: Option<Date>,
    /// Last date the patient was known alive (or the death date), if given.
    pub last_contact_date: Option<Date>,
    /// 1-based physical line of the row, for messages about this patient.
    pub line: u64,
}

/// The parsed patient-dates table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientDatesTable {
    /// One row per patient, in file order.
    pub patients: Vec<PatientDatesRow>,
    /// Non-fatal remarks (e.g. unknown columns), each naming the file.
    pub warnings: Vec<String>,
}

/// Reads the patient-dates table (§4b) from a file; errors name the path as given.
pub fn read_patient_dates_file(path: &Path) -> Result<PatientDatesTable, PatientTableError> {
    let file_name = path.display().to_string();
    let bytes = read_file(path, &file_name)?;
    read_patient_dates(bytes.as_slice(), &file_name)
}

/// Reads the patient-dates table (§4b) from any reader; `file_name` is used
/// in messages.
///
/// Rejected besides malformed cells: a duplicate `patient_id`, a
/// `death_date` or `last_contact_date` before `start_date`, and a
/// `last_contact_date` after `death_date`.
pub fn read_patient_dates(
    reader: impl Read,
    file_name: &str,
) -> Result<PatientDatesTable, PatientTableError> {
    let mut patients = Vec::new();
    let mut patient_ids = UniquePatients::default();
    let warnings = read_rows(reader, file_name, &DATES_REQUIRED, &DATES_OPTIONAL, |row| {
        let patient_id = row.required(PATIENT_ID)?;
        patient_ids.check(&patient_id, row)?;
        let arm = row.required(ARM)?;
        let start_date = row
            .date(START_DATE)?
            .ok_or_else(|| row.missing(START_DATE))?;
        let death_date = row.date(DEATH_DATE)?;
        let last_contact_date = row.date(LAST_CONTACT_DATE)?;
        let not_before = |column, date: Option<Date>, earlier_column, earlier_date: Date| match date
        {
            Some(date) if date < earlier_date => Err(PatientTableError::DateOrder {
                file: file_name.to_string(),
                line: row.line,
                column,
                date,
                earlier_column,
                earlier_date,
            }),
            _ => Ok(()),
        };
        not_before(DEATH_DATE, death_date, START_DATE, start_date)?;
        not_before(LAST_CONTACT_DATE, last_contact_date, START_DATE, start_date)?;
        if let Some(last_contact) = last_contact_date {
            not_before(DEATH_DATE, death_date, LAST_CONTACT_DATE, last_contact)?;
        }
        patient_ids.insert(patient_id.clone(), row.line);
        patients.push(PatientDatesRow {
            patient_id,
            arm,
            start_date,
            death_date,
            last_contact_date,
            line: row.line,
        });
        Ok(())
    })?;
    if patients.is_empty() {
        return Err(PatientTableError::NoPatients {
            file: file_name.to_string(),
        });
    }
    Ok(PatientDatesTable { patients, warnings })
}

fn read_file(path: &Path, file_name: &str) -> Result<Vec<u8>, PatientTableError> {
    std::fs::read(path).map_err(|source| PatientTableError::Io {
        file: file_name.to_string(),
        source,
    })
}

/// Patient ids seen so far, with the line of their row.
#[derive(Default)]
struct UniquePatients {
    first_line_of: HashMap<String, u64>,
}

impl UniquePatients {
    /// Rejects an id already seen.
    fn check(&self, patient_id: &str, row: &Row<'_>) -> Result<(), PatientTableError> {
        match self.first_line_of.get(patient_id) {
            Some(&first_line) => Err(PatientTableError::DuplicatePatient {
                file: row.file_name.to_string(),
                line: row.line,
                patient_id: patient_id.to_string(),
                first_line,
            }),
            None => Ok(()),
        }
    }

    /// Records an accepted row.
    fn insert(&mut self, patient_id: String, line: u64) {
        self.first_line_of.insert(patient_id, line);
    }
}

/// One data row with its physical line, for reading cells by column name.
struct Row<'a> {
    file_name: &'a str,
    line: u64,
    record: &'a csv::ByteRecord,
    columns: &'a HashMap<&'static str, usize>,
}

impl Row<'_> {
    /// The trimmed cell of `column`; `None` when the column is absent or the
    /// cell is empty.
    fn cell(&self, column: &'static str) -> Result<Option<String>, PatientTableError> {
        let Some(&index) = self.columns.get(column) else {
            return Ok(None);
        };
        let raw = self.record.get(index).unwrap_or_default();
        let text = decode(raw, self.file_name, self.line, Some(column))?
            .trim()
            .to_string();
        Ok((!text.is_empty()).then_some(text))
    }

    /// The cell of a required column; empty is an error.
    fn required(&self, column: &'static str) -> Result<String, PatientTableError> {
        self.cell(column)?.ok_or_else(|| self.missing(column))
    }

    /// An optional ISO date cell.
    fn date(&self, column: &'static str) -> Result<Option<Date>, PatientTableError> {
        match self.cell(column)? {
            None => Ok(None),
            Some(text) => match Date::parse_iso(&text) {
                Some(date) => Ok(Some(date)),
                None => Err(self.invalid(column, text, ISO_DATE)),
            },
        }
    }

    fn missing(&self, column: &'static str) -> PatientTableError {
        PatientTableError::MissingValue {
            file: self.file_name.to_string(),
            line: self.line,
            column,
        }
    }

    fn invalid(
        &self,
        column: &'static str,
        value: String,
        expected: &'static str,
    ) -> PatientTableError {
        PatientTableError::InvalidValue {
            file: self.file_name.to_string(),
            line: self.line,
            column,
            value,
            expected,
        }
    }
}

/// Reads the header (known columns = `required` + `optional`, the required
/// ones checked), then hands every data row to `on_row` in file order and
/// stops at the first error. Returns the warnings (unknown columns).
fn read_rows(
    mut reader: impl Read,
    file_name: &str,
    required: &[&'static str],
    optional: &[&'static str],
    mut on_row: impl FnMut(&Row<'_>) -> Result<(), PatientTableError>,
) -> Result<Vec<String>, PatientTableError> {
    let file = || file_name.to_string();
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| PatientTableError::Io {
            file: file(),
            source,
        })?;
    let lines = LineIndex::new(&bytes);
    let mut csv_reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut records = csv_reader.byte_records();

    let header = match records.next() {
        None => return Err(PatientTableError::NoHeader { file: file() }),
        Some(record) => record.map_err(|error| syntax_error(file_name, &lines, &error))?,
    };
    let mut columns: HashMap<&'static str, usize> = HashMap::new();
    let mut warnings = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let name = decode(raw, file_name, 1, None)?;
        // A UTF-8 byte-order mark may precede the first column name.
        let name = name.trim_start_matches('\u{feff}').trim();
        match required
            .iter()
            .chain(optional.iter())
            .find(|known| **known == name)
        {
            Some(known) => {
                if columns.insert(known, index).is_some() {
                    return Err(PatientTableError::DuplicateColumn {
                        file: file(),
                        column: name.to_string(),
                    });
                }
            }
            None => warnings.push(format!(
                "{file_name}, line 1: unknown column {name:?} (column {}) ignored",
                index + 1
            )),
        }
    }
    for &column in required {
        if !columns.contains_key(column) {
            return Err(PatientTableError::MissingColumn {
                file: file(),
                column,
            });
        }
    }

    for record in records {
        let record = record.map_err(|error| syntax_error(file_name, &lines, &error))?;
        let line = record
            .position()
            .map_or(0, |position| lines.record_line(position.byte()));
        if record.len() != header.len() {
            return Err(PatientTableError::FieldCount {
                file: file(),
                line,
                expected: header.len(),
                found: record.len(),
            });
        }
        on_row(&Row {
            file_name,
            line,
            record: &record,
            columns: &columns,
        })?;
    }
    Ok(warnings)
}

fn decode<'a>(
    raw: &'a [u8],
    file_name: &str,
    line: u64,
    column: Option<&str>,
) -> Result<&'a str, PatientTableError> {
    std::str::from_utf8(raw).map_err(|_| PatientTableError::Syntax {
        file: file_name.to_string(),
        line,
        message: match column {
            Some(column) => format!("column \"{column}\": text is not valid UTF-8"),
            None => "text is not valid UTF-8".to_string(),
        },
    })
}

fn syntax_error(file_name: &str, lines: &LineIndex, error: &csv::Error) -> PatientTableError {
    match error.kind() {
        csv::ErrorKind::Io(io) => PatientTableError::Io {
            file: file_name.to_string(),
            source: std::io::Error::new(io.kind(), io.to_string()),
        },
        _ => PatientTableError::Syntax {
            file: file_name.to_string(),
            line: error
                .position()
                .map_or(0, |position| lines.record_line(position.byte())),
            message: error.to_string(),
        },
    }
}

/// Physical line numbers from byte offsets. The `csv` crate's own line count
/// skips blank lines and miscounts CRLF, so lines are counted here: `\n`,
/// `\r\n` and a lone `\r` each end a line.
struct LineIndex<'a> {
    bytes: &'a [u8],
    /// Byte offset where each line starts (line 1 at offset 0).
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let mut line_starts = vec![0];
        let mut iter = bytes.iter().enumerate().peekable();
        while let Some((offset, &byte)) = iter.next() {
            match byte {
                b'\n' => line_starts.push(offset + 1),
                b'\r' => {
                    if let Some((_, b'\n')) = iter.peek() {
                        iter.next();
                        line_starts.push(offset + 2);
                    } else {
                        line_starts.push(offset + 1);
                    }
                }
                _ => {}
            }
        }
        LineIndex { bytes, line_starts }
    }

    /// The 1-based line where the record starting at `offset` begins: the csv
    /// reader reports the offset just after the previous record, so the blank
    /// lines it skipped are stepped over first.
    fn record_line(&self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset).unwrap_or(usize::MAX);
        while matches!(self.bytes.get(offset), Some(b'\n' | b'\r')) {
            offset += 1;
        }
        self.line_starts.partition_point(|&start| start <= offset) as u64
    }
}

/// A finite decimal number (Rust float syntax; `inf`/`NaN` rejected).
fn parse_finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|value| value.is_finite())
}

/// `true`/`false`, `yes`/`no`, `1`/`0`, case-insensitive.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "patient_id,arm,best_response,best_change_pct,pfs_months,progressed,ttr_months\n";

    fn read(text: &str) -> Result<PatientOutcomeTable, PatientTableError> {
        read_patient_outcomes(text.as_bytes(), "p.csv")
    }

    #[test]
    fn reads_all_columns() {
        let table = read(&format!(
            "{HEADER}P1,A,PR,-35.5,4.25,true,1.5\nP2,B,NE,,3,no,\n"
        ))
        .unwrap();
        assert_eq!(table.outcomes.len(), 2);
        let first = &table.outcomes[0];
        assert_eq!(first.best_response, BestResponse::Pr);
        assert_eq!(first.best_change_pct, Some(-35.5));
        assert_eq!(first.pfs_months, 4.25);
        assert!(first.progressed);
        assert_eq!(first.ttr_months, Some(1.5));
        let second = &table.outcomes[1];
        assert_eq!((second.best_change_pct, second.ttr_months), (None, None));
        assert!(!second.progressed);
        assert!(table.warnings.is_empty());
    }

    #[test]
    fn column_order_is_free_and_optional_columns_may_be_absent() {
        let table =
            read("progressed,pfs_months,best_response,arm,patient_id\n1,2,SD,A,P1\n").unwrap();
        assert_eq!(table.outcomes[0].patient_id, "P1");
        assert_eq!(table.outcomes[0].best_change_pct, None);
    }

    #[test]
    fn unknown_column_is_a_warning() {
        let table =
            read("patient_id,arm,best_response,pfs_months,progressed,site\nP1,A,SD,2,0,X\n")
                .unwrap();
        assert_eq!(table.warnings.len(), 1);
        assert!(table.warnings[0].contains("\"site\""));
    }

    #[test]
    fn byte_order_mark_is_accepted() {
        let table = read(&format!("\u{feff}{HEADER}P1,A,PR,-35.5,4.25,true,1.5\n")).unwrap();
        assert_eq!(table.outcomes.len(), 1);
    }

    #[test]
    fn progressed_accepts_yes_no_one_zero() {
        for (text, value) in [
            ("TRUE", true),
            ("Yes", true),
            ("1", true),
            ("false", false),
            ("no", false),
            ("0", false),
        ] {
            assert_eq!(parse_bool(text), Some(value), "{text}");
        }
        assert_eq!(parse_bool("y"), None);
    }

    #[test]
    fn missing_required_column_names_it() {
        let err = read("patient_id,arm,best_response,progressed\nP1,A,SD,true\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.csv, line 1: missing required column \"pfs_months\""
        );
    }

    #[test]
    fn bad_number_names_line_and_column() {
        let err = read(&format!(
            "{HEADER}P1,A,PR,-35.5,4.25,true,1.5\nP2,A,SD,,abc,false,\n"
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.csv, line 3, column \"pfs_months\": \"abc\" is not a number ≥ 0"
        );
    }

    #[test]
    fn negative_and_non_finite_numbers_are_rejected() {
        assert!(read(&format!("{HEADER}P1,A,PR,-35.5,-1,true,\n")).is_err());
        assert!(read(&format!("{HEADER}P1,A,PR,NaN,1,true,\n")).is_err());
        assert!(read(&format!("{HEADER}P1,A,PR,inf,1,true,\n")).is_err());
        assert!(read(&format!("{HEADER}P1,A,PR,1,1,true,-2\n")).is_err());
    }

    #[test]
    fn bad_progressed_and_response_are_rejected() {
        let err = read(&format!("{HEADER}P1,A,PR,,1,maybe,\n")).unwrap_err();
        assert!(matches!(
            err,
            PatientTableError::InvalidValue {
                column: "progressed",
                line: 2,
                ..
            }
        ));
        let err = read(&format!("{HEADER}P1,A,XX,,1,true,\n")).unwrap_err();
        assert!(matches!(
            err,
            PatientTableError::InvalidValue {
                column: "best_response",
                ..
            }
        ));
    }

    #[test]
    fn duplicate_patient_names_both_lines() {
        let err = read(&format!(
            "{HEADER}P1,A,PR,,1,true,\nP2,A,PR,,1,true,\nP1,B,SD,,1,true,\n"
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.csv, line 4, column \"patient_id\": patient \"P1\" already appears on line 2"
        );
    }

    #[test]
    fn missing_required_value_is_rejected() {
        let err = read(&format!("{HEADER}P1,,PR,,1,true,\n")).unwrap_err();
        assert!(matches!(
            err,
            PatientTableError::MissingValue {
                column: "arm",
                line: 2,
                ..
            }
        ));
    }

    #[test]
    fn wrong_field_count_is_rejected() {
        let err = read(&format!("{HEADER}P1,A,PR,,1,true\n")).unwrap_err();
        assert!(matches!(
            err,
            PatientTableError::FieldCount {
                line: 2,
                expected: 7,
                found: 6,
                ..
            }
        ));
    }

    #[test]
    fn physical_lines_count_quoted_newlines_and_blank_lines() {
        let text = format!("{HEADER}\"P\n1\",A,PR,,1,true,\n\nP2,A,PR,,x,true,\n");
        let err = read(&text).unwrap_err();
        assert!(
            matches!(err, PatientTableError::InvalidValue { line: 5, .. }),
            "{err}"
        );
    }

    #[test]
    fn crlf_and_blank_lines_keep_physical_line_numbers() {
        let text = format!(
            "{}\r\nP1,A,PR,,1,true,\r\n\r\n\r\nP2,A,PR,,1,nope,\r\n",
            HEADER.trim_end()
        );
        let err = read(&text).unwrap_err();
        assert!(
            matches!(err, PatientTableError::InvalidValue { line: 5, .. }),
            "{err}"
        );
    }

    #[test]
    fn header_only_and_empty_input_are_rejected() {
        assert!(matches!(
            read(HEADER).unwrap_err(),
            PatientTableError::NoPatients { .. }
        ));
        assert!(matches!(
            read("").unwrap_err(),
            PatientTableError::NoHeader { .. }
        ));
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut bytes = HEADER.as_bytes().to_vec();
        bytes.extend_from_slice(b"P1,A\xff,PR,,1,true,\n");
        let err = read_patient_outcomes(bytes.as_slice(), "p.csv").unwrap_err();
        assert!(
            matches!(err, PatientTableError::Syntax { line: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn duplicate_known_column_is_rejected() {
        let err = read("patient_id,arm,arm,best_response,pfs_months,progressed\n").unwrap_err();
        assert!(matches!(err, PatientTableError::DuplicateColumn { .. }));
    }

    const DATES_HEADER: &str = "patient_id,arm,start_date,death_date,last_contact_date\n";

    fn read_dates(text: &str) -> Result<PatientDatesTable, PatientTableError> {
        read_patient_dates(text.as_bytes(), "d.csv")
    }

    fn date(text: &str) -> Date {
        Date::parse_iso(text).unwrap()
    }

    #[test]
    fn dates_table_reads_all_columns_with_lines() {
        let table = read_dates(&format!(
            "{DATES_HEADER}P1,A,2024-01-10,2024-06-01,2024-06-01\nP2,B,2024-02-01,,\n"
        ))
        .unwrap();
        assert_eq!(
            table.patients,
            vec![
                PatientDatesRow {
                    patient_id: "P1".into(),
                    arm: "A".into(),
                    start_date: date("2024-01-10"),
                    death_date: Some(date("2024-06-01")),
                    last_contact_date: Some(date("2024-06-01")),
                    line: 2,
                },
                PatientDatesRow {
                    patient_id: "P2".into(),
                    arm: "B".into(),
                    start_date: date("2024-02-01"),
                    death_date: None,
                    last_contact_date: None,
                    line: 3,
                },
            ]
        );
        assert!(table.warnings.is_empty());
    }

    #[test]
    fn dates_table_optional_columns_may_be_absent_and_order_is_free() {
        let table = read_dates("start_date,patient_id,arm\n2024-01-10,P1,A\n").unwrap();
        let row = &table.patients[0];
        assert_eq!((row.death_date, row.last_contact_date), (None, None));
        assert_eq!(row.start_date, date("2024-01-10"));
    }

    #[test]
    fn dates_table_unknown_column_is_a_warning() {
        let table = read_dates("patient_id,arm,start_date,site\nP1,A,2024-01-10,X\n").unwrap();
        assert_eq!(
            table.warnings,
            vec!["d.csv, line 1: unknown column \"site\" (column 4) ignored".to_string()]
        );
    }

    #[test]
    fn dates_table_missing_column_is_reported_at_line_1() {
        let err = read_dates("patient_id,arm,death_date\nP1,A,2024-01-10\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv, line 1: missing required column \"start_date\""
        );
    }

    #[test]
    fn dates_table_bad_date_names_line_and_column() {
        for bad in ["2024-02-30", "2024-1-10", "10/01/2024", "2024-01-10T00:00"] {
            let err = read_dates(&format!(
                "{DATES_HEADER}P1,A,2024-01-10,,\nP2,A,2024-01-10,{bad},\n"
            ))
            .unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "d.csv, line 3, column \"death_date\": \"{bad}\" is not an ISO date YYYY-MM-DD"
                )
            );
        }
    }

    #[test]
    fn dates_table_empty_start_date_is_rejected() {
        let err = read_dates(&format!("{DATES_HEADER}P1,A,,,\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv, line 2, column \"start_date\": value is required"
        );
    }

    #[test]
    fn dates_table_duplicate_patient_names_both_lines() {
        let err = read_dates(&format!(
            "{DATES_HEADER}P1,A,2024-01-10,,\n\nP1,B,2024-01-10,,\n"
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv, line 4, column \"patient_id\": patient \"P1\" already appears on line 2"
        );
    }

    #[test]
    fn dates_table_death_before_start_is_rejected() {
        let err = read_dates(&format!("{DATES_HEADER}P1,A,2024-01-10,2024-01-09,\n")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv, line 2, column \"death_date\": 2024-01-09 is before start_date 2024-01-10"
        );
    }

    #[test]
    fn dates_table_last_contact_before_start_is_rejected() {
        let err = read_dates(&format!("{DATES_HEADER}P1,A,2024-01-10,,2023-12-31\n")).unwrap_err();
        assert!(
            matches!(
                err,
                PatientTableError::DateOrder {
                    column: "last_contact_date",
                    earlier_column: "start_date",
                    line: 2,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn dates_table_last_contact_after_death_is_rejected() {
        let err = read_dates(&format!(
            "{DATES_HEADER}P1,A,2024-01-10,2024-03-01,2024-03-02\n"
        ))
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "d.csv, line 2, column \"death_date\": 2024-03-01 is before last_contact_date 2024-03-02"
        );
    }

    #[test]
    fn dates_table_death_on_start_and_contact_on_death_are_accepted() {
        let table = read_dates(&format!(
            "{DATES_HEADER}P1,A,2024-01-10,2024-01-10,2024-01-10\n"
        ))
        .unwrap();
        assert_eq!(table.patients.len(), 1);
    }

    #[test]
    fn dates_table_header_only_is_rejected() {
        assert!(matches!(
            read_dates(DATES_HEADER).unwrap_err(),
            PatientTableError::NoPatients { .. }
        ));
    }

    #[test]
    fn dates_table_missing_file_names_it() {
        let err = read_patient_dates_file(Path::new("/nonexistent/d.csv")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/d.csv: cannot read"),
            "{err}"
        );
    }
}
