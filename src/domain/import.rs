//! A CSV file of vehicles (issue #14 §2), read into vehicle forms: the
//! columns of `GET /vehicles.csv`, each row validated by the vehicle form's
//! own rules (`VehicleForm::parse`), so an import accepts exactly what a
//! person may type. Problems with the file as a whole (not UTF-8, unbalanced
//! quotes, unknown or missing columns, too many rows) are one message; a
//! row's problems stay beside that row.

use chrono::NaiveDate;

use crate::domain::{VehicleFields, VehicleForm};

/// At most this many vehicles in one file.
pub const MAX_ROWS: usize = 20_000;
/// At most this many bytes in one file.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// The columns of a vehicle CSV: what `GET /vehicles.csv` writes, and what
/// a file to import may have.
pub const COLUMNS: [&str; 16] = [
    "vehicle_number",
    "vin",
    "year",
    "make",
    "model",
    "trim",
    "color",
    "mileage",
    "condition",
    "cost",
    "list_price",
    "status",
    "location",
    "received_on",
    "days_in_stock",
    "notes",
];

/// Columns a file may leave out (the form accepts them empty; days in stock
/// is computed, never imported).
const OPTIONAL: [&str; 6] = ["vin", "trim", "color", "location", "notes", "days_in_stock"];

/// One problem of one row, worded for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowProblem {
    /// The column, as in the file's header (`list_price`).
    pub column: &'static str,
    pub message: String,
}

/// One row of the file: its line (the header is line 1, as a spreadsheet
/// numbers it), as typed, and validated.
#[derive(Clone, Debug)]
pub struct Row {
    pub line: u64,
    pub form: VehicleForm,
    pub parsed: Result<VehicleFields, Vec<RowProblem>>,
}

impl Row {
    pub fn problems(&self) -> &[RowProblem] {
        match &self.parsed {
            Ok(_) => &[],
            Err(p) => p,
        }
    }
}

/// Why a file cannot be read at all.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FileProblem {
    #[error("The file is empty. Choose a CSV file with a header row and one row per vehicle.")]
    Empty,
    #[error("The file has a header row but no vehicles.")]
    NoRows,
    #[error("The file is larger than 10 MB. Split it into smaller files.")]
    TooLarge,
    #[error("The file has more than 20,000 vehicles. Split it into smaller files.")]
    TooManyRows,
    #[error(
        "The file is not UTF-8 text (near line {0}). Save it from your spreadsheet as “CSV UTF-8”."
    )]
    NotText(u64),
    #[error("The file could not be read as CSV near line {line}: {what}")]
    Malformed { line: u64, what: String },
    #[error(
        "Line {line} has {found} cells but the header has {expected}. Check for a missing or extra comma, or an unclosed quote."
    )]
    WrongCellCount {
        line: u64,
        found: u64,
        expected: u64,
    },
    #[error(
        "Unknown column “{0}”. The columns are those of the inventory's CSV export: {list}.",
        list = COLUMNS.join(", ")
    )]
    UnknownColumn(String),
    #[error("The column “{0}” appears twice in the header.")]
    DuplicateColumn(String),
    #[error("The file lacks the column{plural} {0}.", plural = if .0.contains(',') { "s" } else { "" })]
    MissingColumns(String),
}

fn column_index(name: &str) -> Option<usize> {
    COLUMNS.iter().position(|c| *c == name)
}

/// Sets a form's field from a cell of `column` (`days_in_stock` is ignored).
fn set(form: &mut VehicleForm, column: usize, value: &str) {
    let v = value.to_string();
    match COLUMNS[column] {
        "vehicle_number" => form.vehicle_number = v,
        "vin" => form.vin = v,
        "year" => form.year = v,
        "make" => form.make = v,
        "model" => form.model = v,
        "trim" => form.trim = v,
        "color" => form.color = v,
        "mileage" => form.mileage = v,
        "condition" => form.condition = v,
        "cost" => form.cost = v,
        "list_price" => form.list_price = v,
        "status" => form.status = v,
        "location" => form.location = v,
        "received_on" => form.received_on = v,
        "notes" => form.notes = v,
        _ => {}
    }
}

/// The column of the file for a form field's name (they share names but for
/// the money columns, which the form names the same: all equal here).
fn column_of(field: &str) -> &'static str {
    COLUMNS
        .iter()
        .find(|c| **c == field)
        .copied()
        .unwrap_or("row")
}

fn csv_problem(e: &csv::Error) -> FileProblem {
    let line = e.position().map_or(0, csv::Position::line);
    match e.kind() {
        csv::ErrorKind::Utf8 { pos, .. } => {
            FileProblem::NotText(pos.as_ref().map_or(line, csv::Position::line))
        }
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => FileProblem::WrongCellCount {
            line: pos.as_ref().map_or(line, csv::Position::line),
            found: *len,
            expected: *expected_len,
        },
        other => FileProblem::Malformed {
            line,
            what: format!("{other:?}").chars().take(120).collect(),
        },
    }
}

/// Reads `bytes` (a UTF-8 BOM allowed) into rows, each validated as the
/// vehicle form would be on `today`.
pub fn read(bytes: &[u8], today: NaiveDate) -> Result<Vec<Row>, FileProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileProblem::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(FileProblem::TooLarge);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let header = reader.headers().map_err(|e| csv_problem(&e))?.clone();
    let mut columns = Vec::with_capacity(header.len());
    for name in &header {
        let name = name.trim().to_lowercase();
        let Some(i) = column_index(&name) else {
            let shown: String = name.chars().take(40).collect();
            return Err(FileProblem::UnknownColumn(shown));
        };
        if columns.contains(&i) {
            return Err(FileProblem::DuplicateColumn(name));
        }
        columns.push(i);
    }
    let missing: Vec<&str> = COLUMNS
        .iter()
        .enumerate()
        .filter(|(i, c)| !columns.contains(i) && !OPTIONAL.contains(c))
        .map(|(_, c)| *c)
        .collect();
    if !missing.is_empty() {
        return Err(FileProblem::MissingColumns(missing.join(", ")));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_problem(&e))?;
        // A blank line at the end (or anywhere) is no vehicle.
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FileProblem::TooManyRows);
        }
        let line = record.position().map_or(0, csv::Position::line);
        let mut form = VehicleForm::default();
        for (cell, column) in record.iter().zip(&columns) {
            set(&mut form, *column, cell);
        }
        let parsed = form.parse(today).map_err(|errors| {
            errors
                .summary()
                .into_iter()
                .map(|s| RowProblem {
                    column: column_of(s.name),
                    message: s.message.to_string(),
                })
                .collect()
        });
        rows.push(Row { line, form, parsed });
    }
    if rows.is_empty() {
        return Err(FileProblem::NoRows);
    }
    mark_repeated_stock_numbers(&mut rows);
    Ok(rows)
}

/// A stock number twice in one file: which row should win is anyone's
/// guess, so both are problems.
fn mark_repeated_stock_numbers(rows: &mut [Row]) {
    let mut first_line = std::collections::HashMap::new();
    let mut repeated = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if let Ok(f) = &row.parsed {
            match first_line.get(f.vehicle_number.as_str()) {
                Some(&(line, first)) => repeated.push((i, first, line, row.line)),
                None => {
                    first_line.insert(f.vehicle_number.clone(), (row.line, i));
                }
            }
        }
    }
    for (i, first, first_at, at) in repeated {
        for (index, other) in [(i, first_at), (first, at)] {
            let problem = RowProblem {
                column: "vehicle_number",
                message: format!("This stock number is also on line {other} of the file."),
            };
            match &mut rows[index].parsed {
                Ok(_) => rows[index].parsed = Err(vec![problem]),
                Err(p) => p.push(problem),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    const HEADER: &str = "vehicle_number,vin,year,make,model,trim,color,mileage,condition,cost,list_price,status,location,received_on,days_in_stock,notes\n";

    #[test]
    fn an_export_reads_back_with_a_bom_and_any_header_case() {
        let file = format!(
            "\u{feff}{}A-1,,2021,Honda,Accord,EX,Blue,\"32,000\",used,\"18,000.00\",21500,available,Lot B,2026-10-01,53,\n",
            HEADER.to_uppercase().replace("MAKE", " Make ")
        );
        let rows = read(file.as_bytes(), today()).unwrap();
        let f = rows[0].parsed.as_ref().unwrap();
        assert_eq!(rows[0].line, 2);
        assert_eq!(f.mileage, 32_000);
        assert_eq!(f.cost_cents, 1_800_000);
    }

    #[test]
    fn a_bad_row_keeps_its_problems_beside_it() {
        let file =
            format!("{HEADER}A-1,,2021,Honda,Accord,,,lots,used,100,100,available,,2026-10-01,,\n");
        let rows = read(file.as_bytes(), today()).unwrap();
        assert_eq!(rows[0].problems()[0].column, "mileage");
    }

    #[test]
    fn whole_file_problems_are_named() {
        type Expected = fn(&FileProblem) -> bool;
        let cases: Vec<(&[u8], Expected)> = vec![
            (b"", |p| *p == FileProblem::Empty),
            (HEADER.as_bytes(), |p| *p == FileProblem::NoRows),
            (
                b"vehicle_number,colour\nA,b\n",
                |p| matches!(p, FileProblem::UnknownColumn(c) if c == "colour"),
            ),
            (b"vehicle_number,make\nA,b\n", |p| {
                matches!(p, FileProblem::MissingColumns(_))
            }),
            (b"\x89PNG\r\n\x1a\n\xff\xfe", |p| {
                matches!(p, FileProblem::NotText(_))
            }),
        ];
        for (bytes, expected) in cases {
            let problem = read(bytes, today()).unwrap_err();
            assert!(expected(&problem), "{problem:?}");
        }
        let short = format!("{HEADER}A-1,,2021\n");
        assert!(matches!(
            read(short.as_bytes(), today()).unwrap_err(),
            FileProblem::WrongCellCount { line: 2, .. }
        ));
    }

    #[test]
    fn more_than_the_most_rows_is_refused_as_a_whole() {
        let row = "A-1,,2021,Honda,Accord,,,1,used,100,100,available,,2026-10-01,,\n";
        let file = format!("{HEADER}{}", row.repeat(MAX_ROWS + 1));
        assert_eq!(
            read(file.as_bytes(), today()).unwrap_err(),
            FileProblem::TooManyRows
        );
    }

    #[test]
    fn a_stock_number_twice_is_a_problem_on_both_rows() {
        let row = "a-1,,2021,Honda,Accord,,,1,used,100,100,available,,2026-10-01,,\n";
        let file = format!("{HEADER}{row}{}", row.replace("a-1", "A-1"));
        let rows = read(file.as_bytes(), today()).unwrap();
        assert!(rows.iter().all(|r| r.problems().len() == 1));
    }
}
