//! Small CSV files of numbers (a training history, points to fit), read with every problem reported
//! by file, line and column.
//!
//! The first row is a header when any of its cells is not a number; otherwise there is no header
//! and it is data. Empty cells are `None`. Every row must have as many cells as the first.

use std::fs::File;
use std::path::{Path, PathBuf};

/// A CSV file's cells as numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct NumericTable {
    pub path: PathBuf,
    /// Column names, when the first row was a header.
    pub header: Option<Vec<String>>,
    /// rows[i][j]: cell j of data row i.
    pub rows: Vec<Vec<Option<f64>>>,
    /// The 1-based line in the file of each data row, for messages.
    pub lines: Vec<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    /// A problem with the file's content as CSV or with what it holds (missing columns...).
    #[error("{}: {message}", path.display())]
    Csv { path: PathBuf, message: String },
    #[error("{} line {line}, column {column}: `{text}` is not a finite number", path.display())]
    NotANumber {
        path: PathBuf,
        line: u64,
        column: String,
        text: String,
    },
    #[error("{}: no rows of numbers", path.display())]
    Empty { path: PathBuf },
}

impl NumericTable {
    pub fn read(path: &Path) -> Result<Self, TableError> {
        let file = File::open(path).map_err(|source| TableError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(file, path)
    }

    /// Reads CSV text from `reader`; `path` names it in errors.
    pub fn from_reader(reader: impl std::io::Read, path: &Path) -> Result<Self, TableError> {
        let csv_error = |e: csv::Error| TableError::Csv {
            path: path.to_owned(),
            message: match e.kind() {
                csv::ErrorKind::UnequalLengths { pos, expected_len, len } => format!(
                    "line {}: {len} cells where the first row has {expected_len}",
                    pos.as_ref().map_or(0, csv::Position::line)
                ),
                _ => e.to_string(),
            },
        };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(reader);
        let mut table = Self {
            path: path.to_owned(),
            header: None,
            rows: Vec::new(),
            lines: Vec::new(),
        };
        for (index, record) in csv.records().enumerate() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, csv::Position::line);
            if index == 0
                && record
                    .iter()
                    .any(|cell| !cell.is_empty() && cell.parse::<f64>().is_err())
            {
                table.header = Some(record.iter().map(str::to_owned).collect());
                continue;
            }
            let row = record
                .iter()
                .enumerate()
                .map(|(j, cell)| table.number(cell, line, j))
                .collect::<Result<_, _>>()?;
            table.rows.push(row);
            table.lines.push(line);
        }
        if table.rows.is_empty() {
            return Err(TableError::Empty { path: path.to_owned() });
        }
        Ok(table)
    }

    /// The index of the column named `name` (ASCII case ignored), if there is a header that has it.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.as_ref()?.iter().position(|h| h.eq_ignore_ascii_case(name))
    }

    /// Column `j` for messages: its header name and number.
    pub fn column_name(&self, j: usize) -> String {
        match self.header.as_ref().and_then(|h| h.get(j)) {
            Some(name) => format!("{} ({name})", j + 1),
            None => (j + 1).to_string(),
        }
    }

    fn number(&self, cell: &str, line: u64, j: usize) -> Result<Option<f64>, TableError> {
        if cell.is_empty() {
            return Ok(None);
        }
        match cell.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(TableError::NotANumber {
                path: self.path.clone(),
                line,
                column: self.column_name(j),
                text: cell.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<NumericTable, TableError> {
        NumericTable::from_reader(text.as_bytes(), Path::new("t.csv"))
    }

    #[test]
    fn a_header_is_recognised_and_empty_cells_are_missing() {
        let table = read("epoch,train_acc,val_acc\n1,0.9,\n2, 0.95 ,0.94\n").unwrap();
        assert_eq!(table.column("VAL_ACC"), Some(2));
        assert_eq!(
            table.rows,
            vec![
                vec![Some(1.0), Some(0.9), None],
                vec![Some(2.0), Some(0.95), Some(0.94)]
            ]
        );
        assert_eq!(table.lines, vec![2, 3]);
    }

    #[test]
    fn without_a_header_the_first_row_is_data() {
        let table = read("-1,2\n0.5,1e3\n").unwrap();
        assert_eq!(table.header, None);
        assert_eq!(table.rows[1], vec![Some(0.5), Some(1000.0)]);
    }

    #[test]
    fn problems_name_the_line_and_column() {
        let error = read("x,y\n1,2\n3,abc\n").unwrap_err().to_string();
        assert_eq!(error, "t.csv line 3, column 2 (y): `abc` is not a finite number");
        let error = read("1,2\n3,inf\n").unwrap_err().to_string();
        assert_eq!(error, "t.csv line 2, column 2: `inf` is not a finite number");
        let error = read("x,y\n1,2\n3,4,5\n").unwrap_err().to_string();
        assert_eq!(error, "t.csv: line 3: 3 cells where the first row has 2");
        assert_eq!(read("x,y\n").unwrap_err().to_string(), "t.csv: no rows of numbers");
    }
}
