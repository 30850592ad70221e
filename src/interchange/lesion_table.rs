//! The lesion table (interchange §1): one row per lesion per visit, read into
//! [`LesionRecord`]s with strict validation and written back.
//!
//! Reading is all-or-nothing (E15): the first bad value stops it with a
//! [`LesionTableError`] naming the file, the 1-based physical line (header =
//! line 1; a missing column is reported at line 1) and the column. Unknown
//! columns and fully empty rows are skipped with a [`TableWarning`].
//!
//! Checks per cell (required values, dates, codes, finite non-negative
//! numbers, status valid for the category, a diameter or a status for
//! targets) and across rows (duplicate patient/visit/lesion rows; baseline
//! targets must be `measured`; a measured target needs the axis that its
//! baseline `lymph_node` flag asks for, E2). Large tables without quoted
//! fields are parsed in parallel pieces (rayon); the result, including which
//! error is reported, is the same as a sequential read.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Write};
use std::sync::Arc;

use rayon::prelude::*;

use crate::recist::{Category, Date, LesionRecord, LesionStatus, baseline_visit};

/// The lesion-table columns, in the order the writer uses.
pub const COLUMNS: [&str; 13] = [
    "patient_id",
    "visit",
    "date",
    "lesion_id",
    "category",
    "organ",
    "lymph_node",
    "long_axis_mm",
    "short_axis_mm",
    "status",
    "volume_ml",
    "t2_si",
    "t2_ref_si",
];

/// Columns that must be present in the header.
const REQUIRED_COLUMNS: [&str; 5] = ["patient_id", "visit", "date", "lesion_id", "category"];

/// A lesion table that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {column_label}{message}", column_label = column_label(.column.as_deref()))]
pub struct LesionTableError {
    /// File name as given by the caller.
    pub file: String,
    /// 1-based physical line (header = 1).
    pub line: u64,
    /// Column name, when the error concerns one column.
    pub column: Option<String>,
    /// What is wrong.
    pub message: String,
}

fn column_label(column: Option<&str>) -> String {
    column.map_or_else(String::new, |column| format!("column {column}: "))
}

/// Something skipped while reading (unknown column, empty row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableWarning {
    /// File name as given by the caller.
    pub file: String,
    /// 1-based physical line.
    pub line: u64,
    /// What was skipped.
    pub message: String,
}

impl fmt::Display for TableWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// A successfully read lesion table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LesionTable {
    /// One record per data row, in file order.
    pub records: Vec<LesionRecord>,
    /// The physical line of each record (parallel to `records`).
    pub lines: Vec<u64>,
    /// Skipped columns and rows.
    pub warnings: Vec<TableWarning>,
}

/// A lesion table that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum LesionTableWriteError {
    /// The CSV writer or the underlying output failed.
    #[error("cannot write the lesion table: {0}")]
    Csv(#[from] csv::Error),
    /// Flushing the output failed.
    #[error("cannot write the lesion table: {0}")]
    Io(#[from] std::io::Error),
    /// A number that the reader would reject (NaN, infinite).
    #[error(
        "patient {patient_id}, visit {visit}, lesion {lesion_id}: {field} is not a finite number"
    )]
    NonFinite {
        /// Patient of the offending record.
        patient_id: String,
        /// Visit of the offending record.
        visit: String,
        /// Lesion of the offending record.
        lesion_id: String,
        /// The column.
        field: &'static str,
    },
}

/// Column positions of the header.
struct Columns {
    patient_id: usize,
    visit: usize,
    date: usize,
    lesion_id: usize,
    category: usize,
    organ: Option<usize>,
    lymph_node: Option<usize>,
    long_axis_mm: Option<usize>,
    short_axis_mm: Option<usize>,
    status: Option<usize>,
    volume_ml: Option<usize>,
    t2_si: Option<usize>,
    t2_ref_si: Option<usize>,
}

/// Context for building errors of one file.
struct Source<'a> {
    file: &'a str,
}

impl Source<'_> {
    fn error(
        &self,
        line: u64,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> LesionTableError {
        LesionTableError {
            file: self.file.to_string(),
            line,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }

    fn csv_error(&self, error: &csv::Error, line: u64) -> LesionTableError {
        let line = error.position().map_or(line, csv::Position::line);
        self.error(line, None, format!("cannot read CSV: {error}"))
    }
}

/// Reads a lesion table; `file` names the source in messages.
pub fn read_lesion_table(
    mut input: impl Read,
    file: &str,
) -> Result<LesionTable, LesionTableError> {
    let source = Source { file };
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .map_err(|error| source.error(1, None, format!("cannot read: {error}")))?;
    parse_lesion_table(&bytes, file)
}

/// Parses a lesion table held in memory; `file` names the source in messages.
pub fn parse_lesion_table(bytes: &[u8], file: &str) -> Result<LesionTable, LesionTableError> {
    parse_with_threshold(bytes, file, PARALLEL_MIN_BYTES)
}

/// Below this many bytes of data rows the table is parsed in one piece.
const PARALLEL_MIN_BYTES: usize = 1 << 20;

/// [`parse_lesion_table`], cutting the data into parallel pieces from
/// `parallel_min_bytes` of data on (tests use 0 to cut small tables too).
fn parse_with_threshold(
    bytes: &[u8],
    file: &str,
    parallel_min_bytes: usize,
) -> Result<LesionTable, LesionTableError> {
    parse_with(bytes, file, parallel_min_bytes, true)
}

/// The parser; `allow_plain = false` forces the CSV reader for the data rows
/// (tests compare both paths).
fn parse_with(
    bytes: &[u8],
    file: &str,
    parallel_min_bytes: usize,
    allow_plain: bool,
) -> Result<LesionTable, LesionTableError> {
    let source = Source { file };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut row = csv::ByteRecord::new();
    let has_header = reader
        .read_byte_record(&mut row)
        .map_err(|error| source.csv_error(&error, 1))?;
    if !has_header {
        return Err(source.error(1, None, "empty file: a header row is required"));
    }
    let mut warnings = Vec::new();
    let header_line = physical_line(bytes, &row);
    let (columns, header) = parse_header(&row, header_line, &source, &mut warnings)?;
    let context = Context {
        columns: &columns,
        header: &header,
        source: &source,
    };

    let data_start = usize::try_from(reader.position().byte()).unwrap_or(usize::MAX);
    let data = bytes.get(data_start..).unwrap_or_default();
    let mut table = if allow_plain && is_plain(data) {
        // No quotes and no bare CR: every newline ends a record and every comma
        // ends a field, so the rows are split directly, in parallel pieces for
        // large tables, joined in file order. The first error of the first
        // failing piece is the first error of the file.
        let data_first_line = reader.position().line();
        parse_plain(data, data_first_line, parallel_min_bytes, &context)?
    } else {
        parse_quoted(&mut reader, bytes, &context)?
    };
    warnings.append(&mut table.warnings);
    table.warnings = warnings;
    check_across_rows(&table, &source)?;
    Ok(table)
}

/// The header and the file, for parsing rows.
struct Context<'a> {
    columns: &'a Columns,
    header: &'a [String],
    source: &'a Source<'a>,
}

/// Whether the data has no quote and no CR other than in a CRLF line end.
fn is_plain(data: &[u8]) -> bool {
    if data.contains(&b'"') {
        return false;
    }
    let mut rest = data;
    while let Some(index) = rest.iter().position(|byte| *byte == b'\r') {
        if rest.get(index + 1) != Some(&b'\n') {
            return false;
        }
        rest = rest.get(index + 2..).unwrap_or_default();
    }
    true
}

/// Parses plain data (see [`is_plain`]) that starts on physical line `first_line`.
fn parse_plain(
    data: &[u8],
    first_line: u64,
    parallel_min_bytes: usize,
    context: &Context<'_>,
) -> Result<LesionTable, LesionTableError> {
    let pieces = if data.len() >= parallel_min_bytes {
        split_at_newlines(data, rayon::current_num_threads().max(2))
    } else {
        vec![data]
    };
    let newline_counts: Vec<u64> = pieces
        .par_iter()
        .map(|piece| piece.iter().map(|byte| u64::from(*byte == b'\n')).sum())
        .collect();
    let mut jobs = Vec::with_capacity(pieces.len());
    let mut line = first_line;
    for (piece, newlines) in pieces.iter().zip(&newline_counts) {
        jobs.push((*piece, line, *newlines));
        line += newlines;
    }
    let parsed: Vec<Result<LesionTable, LesionTableError>> = jobs
        .par_iter()
        .map(|(piece, first_line, newlines)| {
            parse_plain_piece(piece, *first_line, *newlines, context)
        })
        .collect();
    let rows = usize::try_from(newline_counts.iter().sum::<u64>()).unwrap_or(0) + pieces.len();
    let mut parsed = parsed.into_iter();
    // The first piece's table receives the others (no copy with one piece).
    let mut table = match parsed.next() {
        Some(first) => first?,
        None => LesionTable::default(),
    };
    table
        .records
        .reserve(rows.saturating_sub(table.records.len()));
    table.lines.reserve(rows.saturating_sub(table.lines.len()));
    for piece in parsed {
        let mut piece = piece?;
        table.records.append(&mut piece.records);
        table.lines.append(&mut piece.lines);
        table.warnings.append(&mut piece.warnings);
    }
    Ok(table)
}

/// Cuts `data` into about `pieces` parts, each ending just after a newline.
fn split_at_newlines(data: &[u8], pieces: usize) -> Vec<&[u8]> {
    let target = data.len() / pieces.max(1) + 1;
    let mut parts = Vec::with_capacity(pieces + 1);
    let mut start = 0;
    while start < data.len() {
        let tentative = start.saturating_add(target).min(data.len());
        let end = data
            .get(tentative..)
            .and_then(|rest| rest.iter().position(|byte| *byte == b'\n'))
            .map_or(data.len(), |offset| tentative + offset + 1);
        parts.push(data.get(start..end).unwrap_or_default());
        start = end;
    }
    parts
}

/// Parses one piece of plain data; `first_line` is the physical line it
/// starts on, `newlines` a capacity hint.
fn parse_plain_piece(
    piece: &[u8],
    first_line: u64,
    newlines: u64,
    context: &Context<'_>,
) -> Result<LesionTable, LesionTableError> {
    let capacity = usize::try_from(newlines).unwrap_or(0) + 1;
    let mut table = LesionTable {
        records: Vec::with_capacity(capacity),
        lines: Vec::with_capacity(capacity),
        warnings: Vec::new(),
    };
    let mut interner = Interner::default();
    let mut cells: Vec<&str> = Vec::with_capacity(context.header.len());
    for (index, raw) in piece.split(|byte| *byte == b'\n').enumerate() {
        let line = first_line + index as u64;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            continue; // a blank line is no record
        }
        cells.clear();
        match std::str::from_utf8(raw) {
            Ok(text) => cells.extend(text.split(',')),
            Err(_) => return Err(utf8_error(raw.split(|byte| *byte == b','), line, context)),
        }
        add_row(&mut table, &cells, line, context, &mut interner)?;
    }
    Ok(table)
}

/// Parses the data rows with the CSV reader (quoted fields), continuing after
/// the header.
fn parse_quoted(
    reader: &mut csv::Reader<&[u8]>,
    bytes: &[u8],
    context: &Context<'_>,
) -> Result<LesionTable, LesionTableError> {
    let mut table = LesionTable::default();
    let mut interner = Interner::default();
    let mut row = csv::ByteRecord::new();
    let mut last_line = 1;
    loop {
        match reader.read_byte_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => return Err(context.source.csv_error(&error, last_line + 1)),
        }
        let line = physical_line(bytes, &row);
        last_line = line;
        let cells: Vec<&str> = match row.iter().map(std::str::from_utf8).collect() {
            Ok(cells) => cells,
            Err(_) => return Err(utf8_error(row.iter(), line, context)),
        };
        add_row(&mut table, &cells, line, context, &mut interner)?;
    }
    Ok(table)
}

/// The error for the first cell of a row that is not valid UTF-8.
fn utf8_error<'a>(
    fields: impl Iterator<Item = &'a [u8]>,
    line: u64,
    context: &Context<'_>,
) -> LesionTableError {
    let index = fields
        .enumerate()
        .find(|(_, field)| std::str::from_utf8(field).is_err())
        .map_or(0, |(index, _)| index);
    context.source.error(
        line,
        Some(&column_name(context.header, index)),
        "not valid UTF-8",
    )
}

/// The header name of column `index` (0-based), or `#n` past the header.
fn column_name(header: &[String], index: usize) -> String {
    header
        .get(index)
        .cloned()
        .unwrap_or_else(|| format!("#{}", index + 1))
}

/// Adds one data row to `table`: skipped with a warning if every cell is empty.
fn add_row(
    table: &mut LesionTable,
    cells: &[&str],
    line: u64,
    context: &Context<'_>,
    interner: &mut Interner,
) -> Result<(), LesionTableError> {
    if cells.iter().all(|cell| cell.trim_ascii().is_empty()) {
        table.warnings.push(TableWarning {
            file: context.source.file.to_string(),
            line,
            message: "empty row skipped".to_string(),
        });
        return Ok(());
    }
    let record = parse_row(cells, line, context, interner)?;
    table.records.push(record);
    table.lines.push(line);
    Ok(())
}

/// The 1-based physical line where `row` starts. The CSV reader reports the
/// position before any blank lines it skipped; step over them.
fn physical_line(bytes: &[u8], row: &csv::ByteRecord) -> u64 {
    let Some(position) = row.position() else {
        return 0;
    };
    let start = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped_newlines = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|byte| matches!(byte, b'\n' | b'\r'))
        .filter(|byte| **byte == b'\n')
        .count();
    position.line() + skipped_newlines as u64
}

fn parse_header(
    row: &csv::ByteRecord,
    line: u64,
    source: &Source<'_>,
    warnings: &mut Vec<TableWarning>,
) -> Result<(Columns, Vec<String>), LesionTableError> {
    let mut positions: HashMap<&'static str, usize> = HashMap::new();
    let mut header = Vec::with_capacity(row.len());
    for (index, field) in row.iter().enumerate() {
        let name = std::str::from_utf8(field.trim_ascii()).map_err(|_| {
            source.error(
                line,
                Some(&format!("#{}", index + 1)),
                "header is not valid UTF-8",
            )
        })?;
        header.push(name.to_string());
        match COLUMNS.iter().find(|known| **known == name) {
            Some(known) => {
                if positions.insert(known, index).is_some() {
                    return Err(source.error(line, Some(name), "duplicate column"));
                }
            }
            None => warnings.push(TableWarning {
                file: source.file.to_string(),
                line,
                message: if name.is_empty() {
                    format!("unnamed column #{} ignored", index + 1)
                } else {
                    format!("unknown column '{name}' ignored")
                },
            }),
        }
    }
    for required in REQUIRED_COLUMNS {
        if !positions.contains_key(required) {
            return Err(source.error(line, Some(required), "required column is missing"));
        }
    }
    let optional = |name: &str| positions.get(name).copied();
    let required = |name: &str| positions.get(name).copied().unwrap_or(0);
    Ok((
        Columns {
            patient_id: required("patient_id"),
            visit: required("visit"),
            date: required("date"),
            lesion_id: required("lesion_id"),
            category: required("category"),
            organ: optional("organ"),
            lymph_node: optional("lymph_node"),
            long_axis_mm: optional("long_axis_mm"),
            short_axis_mm: optional("short_axis_mm"),
            status: optional("status"),
            volume_ml: optional("volume_ml"),
            t2_si: optional("t2_si"),
            t2_ref_si: optional("t2_ref_si"),
        },
        header,
    ))
}

/// Reads the cells of one data row.
struct Row<'r> {
    cells: &'r [&'r str],
    line: u64,
    header: &'r [String],
    source: &'r Source<'r>,
}

impl<'r> Row<'r> {
    fn error(&self, index: usize, message: impl Into<String>) -> LesionTableError {
        self.source
            .error(self.line, Some(&column_name(self.header, index)), message)
    }

    /// The trimmed text of a cell; `""` when empty.
    fn text(&self, index: usize) -> &'r str {
        self.cells
            .get(index)
            .copied()
            .unwrap_or_default()
            .trim_ascii()
    }

    fn optional_text(&self, index: Option<usize>) -> &'r str {
        index.map_or("", |index| self.text(index))
    }

    fn required_text(&self, index: usize) -> Result<&'r str, LesionTableError> {
        let text = self.text(index);
        if text.is_empty() {
            Err(self.error(index, "required value is empty"))
        } else {
            Ok(text)
        }
    }

    fn number(&self, index: Option<usize>) -> Result<Option<f64>, LesionTableError> {
        let Some(index) = index else {
            return Ok(None);
        };
        let text = self.text(index);
        if text.is_empty() {
            return Ok(None);
        }
        let value: f64 = text
            .parse()
            .map_err(|_| self.error(index, format!("'{text}' is not a number")))?;
        if !value.is_finite() {
            return Err(self.error(index, format!("'{text}' is not a finite number")));
        }
        if value < 0.0 {
            return Err(self.error(index, format!("{text} is negative")));
        }
        Ok(Some(value))
    }
}

/// FNV-1a: a fast hash for the short identifiers of a lesion table (the
/// interner is private, so hash flooding is not a concern).
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0 ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// String equality with an identity fast path for shared (interned) text.
fn same_text(a: &str, b: &str) -> bool {
    (std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len()) || a == b
}

/// A hash map keyed by short identifiers.
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv1a>>;

/// Shares the text of repeated values (patient ids, visit labels, lesion ids,
/// organs) between records.
#[derive(Default)]
struct Interner {
    patient_id: Option<Arc<str>>,
    visit: Option<Arc<str>>,
    shared: HashSet<Arc<str>, BuildHasherDefault<Fnv1a>>,
}

impl Interner {
    /// Patient ids usually come in runs: compare with the previous one first.
    fn patient(&mut self, text: &str) -> Arc<str> {
        Self::share_run(&mut self.patient_id, &mut self.shared, text)
    }

    /// Visit labels usually come in runs too.
    fn visit(&mut self, text: &str) -> Arc<str> {
        Self::share_run(&mut self.visit, &mut self.shared, text)
    }

    fn share_run(
        previous: &mut Option<Arc<str>>,
        shared: &mut HashSet<Arc<str>, BuildHasherDefault<Fnv1a>>,
        text: &str,
    ) -> Arc<str> {
        if let Some(current) = previous
            && **current == *text
        {
            return Arc::clone(current);
        }
        let value = match shared.get(text) {
            Some(value) => Arc::clone(value),
            None => {
                let value: Arc<str> = Arc::from(text);
                shared.insert(Arc::clone(&value));
                value
            }
        };
        *previous = Some(Arc::clone(&value));
        value
    }

    fn share(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.shared.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = Arc::from(text);
        self.shared.insert(Arc::clone(&shared));
        shared
    }
}

fn parse_row(
    row: &[&str],
    line: u64,
    context: &Context<'_>,
    interner: &mut Interner,
) -> Result<LesionRecord, LesionTableError> {
    let (columns, header, source) = (context.columns, context.header, context.source);
    let cells = Row {
        cells: row,
        line,
        header,
        source,
    };
    let size_message = || {
        format!(
            "the row has {} fields but the header has {}",
            row.len(),
            header.len()
        )
    };
    if row.len() < header.len() {
        return Err(cells.error(row.len(), size_message()));
    }
    if let Some(extra) = (header.len()..row.len()).find(|index| !cells.text(*index).is_empty()) {
        return Err(cells.error(extra, size_message()));
    }

    let patient_id = cells.required_text(columns.patient_id)?;
    let visit = cells.required_text(columns.visit)?;
    let date_text = cells.required_text(columns.date)?;
    let date = Date::parse_iso(date_text).ok_or_else(|| {
        cells.error(
            columns.date,
            format!("'{date_text}' is not a date (expected YYYY-MM-DD)"),
        )
    })?;
    let lesion_id = cells.required_text(columns.lesion_id)?;
    let category_text = cells.required_text(columns.category)?;
    let category = Category::from_code(category_text).ok_or_else(|| {
        cells.error(
            columns.category,
            format!("unknown category '{category_text}' (expected target, non_target or new)"),
        )
    })?;

    let organ = cells.optional_text(columns.organ);
    if category == Category::Target && organ.is_empty() {
        return Err(match columns.organ {
            Some(index) => cells.error(
                index,
                "required value is empty (organ is required for targets)",
            ),
            None => source.error(
                1,
                Some("organ"),
                "required column is missing (organ is required for targets)",
            ),
        });
    }

    let lymph_node = match cells.optional_text(columns.lymph_node) {
        "" => false,
        text if ["true", "yes", "1"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(text)) =>
        {
            true
        }
        text if ["false", "no", "0"]
            .iter()
            .any(|t| t.eq_ignore_ascii_case(text)) =>
        {
            false
        }
        text => {
            return Err(cells.error(
                columns.lymph_node.unwrap_or(0),
                format!("'{text}' is not a boolean (expected true/false, yes/no or 1/0)"),
            ));
        }
    };

    let long_axis_mm = cells.number(columns.long_axis_mm)?;
    let short_axis_mm = cells.number(columns.short_axis_mm)?;
    let volume_ml = cells.number(columns.volume_ml)?;
    let t2_si = cells.number(columns.t2_si)?;
    let t2_ref_si = cells.number(columns.t2_ref_si)?;

    let status_text = cells.optional_text(columns.status);
    let status_column = "status";
    let status = if status_text.is_empty() {
        match category {
            Category::Target if long_axis_mm.is_some() || short_axis_mm.is_some() => {
                LesionStatus::Measured
            }
            Category::Target => {
                return Err(source.error(
                    line,
                    Some(status_column),
                    "a target needs a diameter (long_axis_mm or short_axis_mm) or a status",
                ));
            }
            Category::NonTarget | Category::New => LesionStatus::Present,
        }
    } else {
        let status = LesionStatus::from_code(status_text).ok_or_else(|| {
            source.error(
                line,
                Some(status_column),
                format!("unknown status '{status_text}'"),
            )
        })?;
        if !status.is_valid_for(category) {
            let valid: Vec<&str> = LesionStatus::valid_for(category)
                .iter()
                .map(|status| status.code())
                .collect();
            return Err(source.error(
                line,
                Some(status_column),
                format!(
                    "status '{status_text}' is not valid for a {category} lesion (expected {})",
                    valid.join(", ")
                ),
            ));
        }
        status
    };

    Ok(LesionRecord {
        patient_id: interner.patient(patient_id),
        visit: interner.visit(visit),
        date,
        lesion_id: interner.share(lesion_id),
        category,
        organ: interner.share(organ),
        lymph_node,
        long_axis_mm,
        short_axis_mm,
        status,
        volume_ml,
        t2_si,
        t2_ref_si,
    })
}

/// Checks that need the whole table: duplicate rows, baseline targets must be
/// measured, and a measured target needs the axis its baseline node flag asks
/// for (E2). Reports the error on the earliest line.
fn check_across_rows(table: &LesionTable, source: &Source<'_>) -> Result<(), LesionTableError> {
    rows_by_patient(&table.records)
        .par_iter()
        .filter_map(|indices| check_patient(table, indices, source))
        .min_by_key(|error| error.line)
        .map_or(Ok(()), Err)
}

/// The cross-row checks for one patient's rows (in file order); the error on
/// the earliest line, if any.
fn check_patient(
    table: &LesionTable,
    indices: &[usize],
    source: &Source<'_>,
) -> Option<LesionTableError> {
    let line_of = |index: usize| table.lines.get(index).copied().unwrap_or(0);
    let mut first_error: Option<LesionTableError> = None;
    let mut report = |error: LesionTableError| {
        if first_error
            .as_ref()
            .is_none_or(|first| error.line < first.line)
        {
            first_error = Some(error);
        }
    };
    let rows = || indices.iter().filter_map(|&index| table.records.get(index));
    let (baseline_label, _) = baseline_visit(rows())?;
    let baseline_nodes: FastMap<&str, bool> = rows()
        .filter(|r| r.category == Category::Target && same_text(&r.visit, baseline_label))
        .map(|r| (r.lesion_id.as_ref(), r.lymph_node))
        .collect();
    let mut first_line_of: FastMap<(&str, &str), usize> =
        FastMap::with_capacity_and_hasher(indices.len(), BuildHasherDefault::default());
    for &index in indices {
        let Some(record) = table.records.get(index) else {
            continue;
        };
        if let Some(&first) = first_line_of.get(&(record.visit.as_ref(), record.lesion_id.as_ref()))
        {
            report(source.error(
                line_of(index),
                Some("lesion_id"),
                format!(
                    "duplicate row for patient {}, visit {}, lesion {} (first at line {})",
                    record.patient_id,
                    record.visit,
                    record.lesion_id,
                    line_of(first)
                ),
            ));
            continue;
        }
        first_line_of.insert((record.visit.as_ref(), record.lesion_id.as_ref()), index);
        if record.category != Category::Target {
            continue;
        }
        let at_baseline = same_text(&record.visit, baseline_label);
        if at_baseline && record.status != LesionStatus::Measured {
            report(source.error(
                line_of(index),
                Some("status"),
                format!(
                    "a baseline target must be measured (found '{}')",
                    record.status
                ),
            ));
            continue;
        }
        let lymph_node = if at_baseline {
            Some(record.lymph_node)
        } else {
            baseline_nodes.get(record.lesion_id.as_ref()).copied()
        };
        if let Some(lymph_node) = lymph_node
            && record.status == LesionStatus::Measured
        {
            let (axis_mm, axis, what) = if lymph_node {
                (
                    record.short_axis_mm,
                    "short_axis_mm",
                    "a nodal target is measured by its short axis",
                )
            } else {
                (
                    record.long_axis_mm,
                    "long_axis_mm",
                    "a non-nodal target is measured by its longest diameter",
                )
            };
            if axis_mm.is_none() {
                report(source.error(
                    line_of(index),
                    Some(axis),
                    format!("measured target has no {axis} ({what})"),
                ));
            }
        }
    }
    first_error
}

/// Row indices grouped by patient, each group in file order. Consecutive rows
/// of one patient (the usual layout) cost one string comparison each.
fn rows_by_patient(records: &[LesionRecord]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<&str, usize> = HashMap::new();
    let mut current: Option<(&str, usize)> = None;
    for (index, record) in records.iter().enumerate() {
        let patient_id = record.patient_id.as_ref();
        let group = match current {
            Some((id, group)) if same_text(id, patient_id) => group,
            _ => *group_of.entry(patient_id).or_insert_with(|| {
                groups.push(Vec::new());
                groups.len() - 1
            }),
        };
        current = Some((patient_id, group));
        if let Some(rows) = groups.get_mut(group) {
            rows.push(index);
        }
    }
    groups
}

fn number_text(
    value: Option<f64>,
    field: &'static str,
    record: &LesionRecord,
) -> Result<String, LesionTableWriteError> {
    match value {
        None => Ok(String::new()),
        Some(value) if value.is_finite() => Ok(value.to_string()),
        Some(_) => Err(LesionTableWriteError::NonFinite {
            patient_id: record.patient_id.to_string(),
            visit: record.visit.to_string(),
            lesion_id: record.lesion_id.to_string(),
            field,
        }),
    }
}

/// Writes records as a lesion table with all [`COLUMNS`], statuses explicit.
/// Numbers are written in their shortest exact form, so reading the table
/// back gives the same records.
pub fn write_lesion_table(
    records: &[LesionRecord],
    output: impl Write,
) -> Result<(), LesionTableWriteError> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(COLUMNS)?;
    for record in records {
        let date = record.date.to_string();
        let fields: [String; 13] = [
            record.patient_id.to_string(),
            record.visit.to_string(),
            date,
            record.lesion_id.to_string(),
            record.category.code().to_string(),
            record.organ.to_string(),
            record.lymph_node.to_string(),
            number_text(record.long_axis_mm, "long_axis_mm", record)?,
            number_text(record.short_axis_mm, "short_axis_mm", record)?,
            record.status.code().to_string(),
            number_text(record.volume_ml, "volume_ml", record)?,
            number_text(record.t2_si, "t2_si", record)?,
            number_text(record.t2_ref_si, "t2_ref_si", record)?,
        ];
        writer.write_record(&fields)?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "patient_id,visit,date,lesion_id,category,organ,lymph_node,long_axis_mm,short_axis_mm,status";

    fn read(text: &str) -> Result<LesionTable, LesionTableError> {
        parse_lesion_table(text.as_bytes(), "lesions.csv")
    }

    fn table(rows: &[&str]) -> String {
        let mut text = HEADER.to_string();
        for row in rows {
            text.push('\n');
            text.push_str(row);
        }
        text.push('\n');
        text
    }

    fn error(text: &str) -> (u64, Option<String>, String) {
        let error = read(text).unwrap_err();
        assert_eq!(error.file, "lesions.csv");
        (error.line, error.column, error.message)
    }

    fn error_at(rows: &[&str]) -> (u64, Option<String>) {
        let (line, column, _) = error(&table(rows));
        (line, column)
    }

    const BL_T1: &str = "P1,BL,2024-01-01,T1,target,liver,,40,,";

    #[test]
    fn reads_rows_with_defaults() {
        let t = read(&table(&[
            BL_T1,
            "P1,BL,2024-01-01,T2,target,neck,yes,,20,",
            "P1,BL,2024-01-01,NT1,non_target,,,,,",
            "P1,W8,2024-03-01,T1,target,liver,,30.5,,",
            "P1,W8,2024-03-01,T2,target,neck,1,,,too_small",
            "P1,W8,2024-03-01,NT1,non_target,,,,,Absent",
            "P1,W8,2024-03-01,N1,new,,,,,",
        ]))
        .unwrap();
        assert_eq!(t.records.len(), 7);
        assert_eq!(t.lines, vec![2, 3, 4, 5, 6, 7, 8]);
        assert!(t.warnings.is_empty());
        let statuses: Vec<LesionStatus> = t.records.iter().map(|r| r.status).collect();
        use LesionStatus::*;
        assert_eq!(
            statuses,
            vec![
                Measured, Measured, Present, Measured, TooSmall, Absent, Present
            ]
        );
        let t1 = &t.records[3];
        assert_eq!(t1.long_axis_mm, Some(30.5));
        assert_eq!(t1.date, Date::parse_iso("2024-03-01").unwrap());
        assert!(t.records[1].lymph_node);
        assert!(!t.records[0].lymph_node);
    }

    #[test]
    fn column_order_is_free_and_unknown_columns_warn() {
        let text = "comment,category,lesion_id,date,visit,patient_id,organ,long_axis_mm\n\
                    hello,target,T1,2024-01-01,BL,P1,liver,12\n";
        let t = read(text).unwrap();
        assert_eq!(t.records[0].long_axis_mm, Some(12.0));
        assert_eq!(t.warnings.len(), 1);
        assert_eq!(
            t.warnings[0].to_string(),
            "lesions.csv:1: unknown column 'comment' ignored"
        );
    }

    #[test]
    fn bom_crlf_and_spaces_are_accepted() {
        let text =
            format!("\u{feff}{HEADER}\r\n P1 , BL ,2024-01-01, T1 ,TARGET, liver ,TRUE,,16 ,\r\n");
        let t = read(&text).unwrap();
        let r = &t.records[0];
        assert_eq!((r.patient_id.as_ref(), r.lesion_id.as_ref()), ("P1", "T1"));
        assert_eq!(r.category, Category::Target);
        assert!(r.lymph_node);
        assert_eq!(r.short_axis_mm, Some(16.0));
    }

    #[test]
    fn lymph_node_accepts_true_false_yes_no_one_zero() {
        for (text, expected) in [
            ("true", true),
            ("Yes", true),
            ("1", true),
            ("false", false),
            ("NO", false),
            ("0", false),
            ("", false),
        ] {
            let row = format!("P1,BL,2024-01-01,T1,target,liver,{text},20,20,");
            assert_eq!(
                read(&table(&[&row])).unwrap().records[0].lymph_node,
                expected,
                "{text}"
            );
        }
        let row = "P1,BL,2024-01-01,T1,target,liver,maybe,20,20,";
        assert_eq!(error_at(&[row]), (2, Some("lymph_node".into())));
    }

    #[test]
    fn missing_required_column_is_reported_at_line_one() {
        for column in REQUIRED_COLUMNS {
            let header: Vec<&str> = HEADER.split(',').filter(|c| *c != column).collect();
            let text = format!("{}\n", header.join(","));
            let (line, reported, message) = error(&text);
            assert_eq!((line, reported.as_deref()), (1, Some(column)));
            assert_eq!(message, "required column is missing");
        }
    }

    #[test]
    fn missing_organ_column_with_target_rows_is_reported_at_line_one() {
        let text = "patient_id,visit,date,lesion_id,category,long_axis_mm\n\
                    P1,BL,2024-01-01,NT1,non_target,\n\
                    P1,BL,2024-01-01,T1,target,20\n";
        let (line, column, _) = error(text);
        assert_eq!((line, column.as_deref()), (1, Some("organ")));
        let text = "patient_id,visit,date,lesion_id,category\nP1,BL,2024-01-01,NT1,non_target\n";
        assert_eq!(read(text).unwrap().records.len(), 1);
    }

    #[test]
    fn empty_required_values_name_line_and_column() {
        let cases = [
            (",BL,2024-01-01,T1,target,liver,,40,,", "patient_id"),
            ("P1,,2024-01-01,T1,target,liver,,40,,", "visit"),
            ("P1,BL,,T1,target,liver,,40,,", "date"),
            ("P1,BL,2024-01-01,,target,liver,,40,,", "lesion_id"),
            ("P1,BL,2024-01-01,T1,,liver,,40,,", "category"),
            ("P1,BL,2024-01-01,T1,target,,,40,,", "organ"),
        ];
        for (row, column) in cases {
            assert_eq!(error_at(&[BL_T1, row]), (3, Some(column.into())), "{row}");
        }
    }

    #[test]
    fn bad_date_is_rejected() {
        let row = "P1,W8,2024-02-30,T1,target,liver,,40,,";
        let (line, column, message) = error(&table(&[BL_T1, row]));
        assert_eq!((line, column.as_deref()), (3, Some("date")));
        assert_eq!(message, "'2024-02-30' is not a date (expected YYYY-MM-DD)");
        let err = read(&table(&[BL_T1, row])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "lesions.csv:3: column date: '2024-02-30' is not a date (expected YYYY-MM-DD)"
        );
    }

    #[test]
    fn unknown_category_and_status_are_rejected() {
        let row = "P1,W8,2024-03-01,T1,tumour,liver,,40,,";
        assert_eq!(error_at(&[BL_T1, row]), (3, Some("category".into())));
        let row = "P1,W8,2024-03-01,T1,target,liver,,40,,gone";
        assert_eq!(error_at(&[BL_T1, row]), (3, Some("status".into())));
    }

    #[test]
    fn status_must_fit_the_category() {
        for row in [
            "P1,W8,2024-03-01,T1,target,liver,,40,,present",
            "P1,W8,2024-03-01,NT1,non_target,,,,,too_small",
            "P1,W8,2024-03-01,N1,new,,,,,absent",
        ] {
            let (line, column, message) = error(&table(&[BL_T1, row]));
            assert_eq!((line, column.as_deref()), (3, Some("status")), "{row}");
            assert!(message.contains("is not valid for"), "{message}");
        }
    }

    #[test]
    fn numbers_must_be_finite_non_negative_numbers() {
        let header =
            "patient_id,visit,date,lesion_id,category,organ,long_axis_mm,volume_ml,t2_si,t2_ref_si";
        for (row, column) in [
            ("P1,BL,2024-01-01,T1,target,liver,4O,,,", "long_axis_mm"),
            ("P1,BL,2024-01-01,T1,target,liver,NaN,,,", "long_axis_mm"),
            ("P1,BL,2024-01-01,T1,target,liver,inf,,,", "long_axis_mm"),
            ("P1,BL,2024-01-01,T1,target,liver,-3,,,", "long_axis_mm"),
            ("P1,BL,2024-01-01,T1,target,liver,40,12 ml,,", "volume_ml"),
            ("P1,BL,2024-01-01,T1,target,liver,40,,x,", "t2_si"),
            ("P1,BL,2024-01-01,T1,target,liver,40,,,\"1,5\"", "t2_ref_si"),
        ] {
            let text = format!("{header}\n{row}\n");
            let (line, reported, _) = error(&text);
            assert_eq!((line, reported.as_deref()), (2, Some(column)), "{row}");
        }
    }

    #[test]
    fn target_without_diameter_or_status_is_rejected() {
        let row = "P1,W8,2024-03-01,T1,target,liver,,,,";
        assert_eq!(error_at(&[BL_T1, row]), (3, Some("status".into())));
    }

    #[test]
    fn duplicate_patient_visit_lesion_is_rejected_at_the_later_line() {
        let rows = [
            BL_T1,
            "P1,W8,2024-03-01,T1,target,liver,,30,,",
            "P1,BL,2024-01-01,NT1,non_target,,,,,",
            "P1,W8,2024-03-01,T1,non_target,,,,,",
        ];
        let (line, column, message) = error(&table(&rows));
        assert_eq!((line, column.as_deref()), (5, Some("lesion_id")));
        assert!(message.contains("first at line 3"), "{message}");
    }

    #[test]
    fn baseline_target_must_be_measured() {
        let rows = ["P1,BL,2024-01-01,T1,target,liver,,,,too_small"];
        assert_eq!(error_at(&rows), (2, Some("status".into())));
    }

    #[test]
    fn measured_target_needs_the_axis_of_its_baseline_node_flag() {
        // Baseline node given by long axis only.
        let rows = ["P1,BL,2024-01-01,T1,target,neck,true,30,,"];
        assert_eq!(error_at(&rows), (2, Some("short_axis_mm".into())));
        // Follow-up row of a baseline node with a long axis only (its own flag empty).
        let rows = [
            "P1,BL,2024-01-01,T1,target,neck,true,,20,",
            "P1,W8,2024-03-01,T1,target,neck,,25,,",
        ];
        assert_eq!(error_at(&rows), (3, Some("short_axis_mm".into())));
        // Non-nodal target given by short axis only.
        let rows = [BL_T1, "P1,W8,2024-03-01,T1,target,liver,,,30,measured"];
        assert_eq!(error_at(&rows), (3, Some("long_axis_mm".into())));
        // A follow-up target outside the baseline set is not checked (ignored later).
        let rows = [BL_T1, "P1,W8,2024-03-01,T9,target,liver,,,30,"];
        assert!(read(&table(&rows)).is_ok());
    }

    #[test]
    fn lines_are_physical_lines_across_blank_lines_and_quoted_newlines() {
        let text = format!(
            "{HEADER}\r\n\r\n{BL_T1}\r\n\"P1\",\"BL\",2024-01-01,T2,target,\"liver\nsegment 4\",,20,,\r\n\n\nP1,W8,2024-13-01,T1,target,liver,,30,,\n"
        );
        let t = read(&text.replace("2024-13-01", "2024-03-01")).unwrap();
        assert_eq!(t.lines, vec![3, 4, 8]);
        let (line, column, _) = error(&text);
        assert_eq!((line, column.as_deref()), (8, Some("date")));
    }

    #[test]
    fn wrong_field_counts_are_rejected_but_trailing_empty_fields_pass() {
        let short = "P1,BL,2024-01-01,T1,target,liver,,40";
        assert_eq!(error_at(&[short]), (2, Some("short_axis_mm".into())));
        let long = "P1,BL,2024-01-01,T1,target,liver,,40,,,extra";
        assert_eq!(error_at(&[long]), (2, Some("#11".into())));
        let trailing = "P1,BL,2024-01-01,T1,target,liver,,40,,,,";
        assert!(read(&table(&[trailing])).is_ok());
    }

    #[test]
    fn empty_file_header_only_and_empty_rows() {
        let (line, _, message) = error("");
        assert_eq!(line, 1);
        assert!(message.contains("header"));
        assert!(read(&format!("{HEADER}\n")).unwrap().records.is_empty());
        let t = read(&table(&[BL_T1, ",,,,,,,,,"])).unwrap();
        assert_eq!(t.records.len(), 1);
        assert_eq!(t.warnings[0].line, 3);
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let mut bytes = table(&[BL_T1]).into_bytes();
        bytes.extend_from_slice(b"P1,W8,2024-03-01,T1,target,liv\xffer,,30,,\n");
        let error = parse_lesion_table(&bytes, "x.csv").unwrap_err();
        assert_eq!((error.line, error.column.as_deref()), (3, Some("organ")));
    }

    #[test]
    fn nothing_is_half_imported() {
        let rows = [
            BL_T1,
            "P1,W8,2024-03-01,T1,target,liver,,30,,",
            "P1,W16,bad,T1,target,liver,,30,,",
        ];
        assert!(read(&table(&rows)).is_err());
    }

    #[test]
    fn plain_data_has_no_quotes_and_no_bare_cr() {
        assert!(is_plain(b"a,b\r\nc,d\n"));
        assert!(is_plain(b""));
        assert!(!is_plain(b"a,\"b\"\n"));
        assert!(!is_plain(b"a,b\rc,d\n"));
        assert!(!is_plain(b"a,b\r"));
    }

    #[test]
    fn parsing_in_pieces_gives_the_same_table_lines_warnings_and_errors() {
        let mut rows = vec![
            BL_T1.to_string(),
            "P1,BL,2024-01-01,NT1,non_target,,,,,".into(),
        ];
        for patient in 2..40 {
            rows.push(format!(
                "P{patient},BL,2024-01-01,T1,target,liver,,{patient},,"
            ));
            rows.push(",,,,,,,,,".into());
            rows.push(format!(
                "P{patient},W8,2024-03-01,T1,target,liver,,{},,",
                patient + 1
            ));
        }
        let text = format!("{HEADER}\r\n\r\n{}\r\n", rows.join("\r\n\n"));
        let whole = parse_with_threshold(text.as_bytes(), "x.csv", usize::MAX).unwrap();
        let pieces = parse_with_threshold(text.as_bytes(), "x.csv", 0).unwrap();
        assert_eq!(whole, pieces);
        assert_eq!(whole.records.len(), 2 + 38 * 2);
        assert_eq!(whole.lines[..3], [3, 5, 7]);
        assert_eq!(whole.warnings.len(), 38);
        for bad_row in [59, 61, 101] {
            let mut bad = rows.clone();
            bad[bad_row] = bad[bad_row]
                .replace("2024-03-01", "2024-03-32")
                .replace("2024-01-01", "2024-01-32");
            let text = format!("{HEADER}\n{}\n", bad.join("\n"));
            let whole = parse_with_threshold(text.as_bytes(), "x.csv", usize::MAX);
            let pieces = parse_with_threshold(text.as_bytes(), "x.csv", 0);
            assert_eq!(whole, pieces);
            assert_eq!(whole.unwrap_err().line, bad_row as u64 + 2);
        }
        assert!(split_at_newlines(text.as_bytes(), 8).len() > 4);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// The direct row splitter (plain data, in pieces) and the CSV reader
        /// agree on records, lines, warnings and errors.
        #[test]
        fn plain_splitter_agrees_with_the_csv_reader(
            picks in proptest::collection::vec((0usize..16, proptest::bool::ANY), 0..40),
            final_newline in proptest::bool::ANY,
        ) {
            let templates: [&[u8]; 16] = [
                b"P1,BL,2024-01-01,T1,target,liver,,40,,",
                b"P1,BL,2024-01-01,NT1,non_target,,,,,",
                b"P1,W8,2024-03-01,T1,target,liver,,30,,",
                b"P2,BL,2024-01-01,T1,target, neck ,yes,,20,",
                b"P2,W8,2024-03-01,T1,target,neck,,,12.5,",
                b"P2,W8,2024-03-01,N1,new,lung,,,,equivocal",
                b"",
                b"   ",
                b",,,,,,,,,",
                b"P3,BL,2024-01-01,T1,target,liver,,40,,,,",
                b"P3,BL,2024-01-01,T1,target,liver,,40,,,x",
                b"P3,BL,2024-01-01,T2,target,liver,,40",
                b"P3,BL,2024-13-01,T3,target,liver,,40,,",
                b"P3,BL,2024-01-01,T4,target,li\xffver,,40,,",
                b"P4,BL,2024-01-01,T1,target,liver,,40,, ",
                b"P4,W8,2024-03-01,T1,target,liver,,x,,",
            ];
            let mut bytes = HEADER.as_bytes().to_vec();
            bytes.extend_from_slice(b"\r\n");
            for (index, (pick, crlf)) in picks.iter().enumerate() {
                bytes.extend_from_slice(templates[*pick]);
                if index + 1 < picks.len() || final_newline {
                    bytes.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
                }
            }
            let plain = parse_with(&bytes, "x.csv", 0, true);
            let quoted = parse_with(&bytes, "x.csv", usize::MAX, false);
            proptest::prop_assert_eq!(plain, quoted);
        }
    }

    fn sample_records() -> Vec<LesionRecord> {
        let text = "patient_id,visit,date,lesion_id,category,organ,lymph_node,long_axis_mm,short_axis_mm,status,volume_ml,t2_si,t2_ref_si\n\
            P1,BL,2024-01-01,T1,target,\"liver, segment 4\",false,17.1,9.05,measured,12.25,401.5,99.75\n\
            P1,BL,2024-01-01,T2,target,neck,true,31,15.5,measured,,,\n\
            P1,BL,2024-01-01,NT1,non_target,bone,false,,,present,,,\n\
            P1,W8,2024-03-01,T1,target,liver,false,,,too_small,0.1,,\n\
            P1,W8,2024-03-01,T2,target,neck,true,,8,,,,\n\
            P1,W8,2024-03-01,NT1,non_target,bone,false,,,unequivocal_progression,,,\n\
            P1,W8,2024-03-01,N1,new,lung,false,,,equivocal,,,\n\
            P2,BL,1999-12-31,NT1,non_target,,false,,,present,,,\n";
        read(text).unwrap().records
    }

    #[test]
    fn writer_round_trips_through_the_reader() {
        let records = sample_records();
        let mut bytes = Vec::new();
        write_lesion_table(&records, &mut bytes).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(&COLUMNS.join(",")));
        assert!(text.contains("\"liver, segment 4\""));
        let again = parse_lesion_table(&bytes, "roundtrip.csv").unwrap();
        assert_eq!(again.records, records);
        assert!(again.warnings.is_empty());
    }

    #[test]
    fn writer_refuses_non_finite_numbers() {
        let mut records = sample_records();
        records[0].volume_ml = Some(f64::NAN);
        let error = write_lesion_table(&records, Vec::new()).unwrap_err();
        assert!(matches!(
            error,
            LesionTableWriteError::NonFinite {
                field: "volume_ml",
                ..
            }
        ));
    }
}
