//! Images in a CSV file, one a row: the label in the first column and then the pixels (Kaggle's
//! digit-recognizer `train.csv`, the common `mnist_train.csv`), or the pixels alone (Kaggle's
//! `test.csv`, images to predict).
//!
//! ```text
//! label,pixel0,pixel1,...,pixel783     optional header: detected when its first cell is not a number
//! 5,0,0,...,0                          then one image a row: [label,] rows * cols * channels pixels
//! ```
//!
//! Pixels are whole numbers 0-255 (`17`, or `17.0` as pandas writes a float column), in the order
//! of `image_table`: row-major, channels last. Labels are whole numbers 0 to 4,294,967,295. The
//! image size is given as (rows, cols) or found from the row length (`ImageShape::from_row_length`).
//! Every row must be as long as the first. Any problem is reported with the file, the line and the
//! column (and the column's name from the header, when there is one); nothing is skipped.
//!
//! Speed: the cells are read as bytes from the `csv` crate's reused `ByteRecord`, a pixel of one to
//! three digits is converted without any allocation, and the pixel buffer is sized once from the
//! file's length and its first row.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::image_table::{ImageShape, ImageTable};

/// What the columns of a row hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CsvColumns {
    /// The label, then the pixels.
    LabelThenPixels,
    /// The pixels only.
    PixelsOnly,
}

/// A CSV image file that could not be read, with its path and, for a bad cell, line and column.
#[derive(Debug, thiserror::Error)]
pub enum CsvImagesError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// A problem with one cell; `column` is 1-based, followed by its header name when known.
    #[error("{} line {line}, column {column}: {problem}", path.display())]
    Cell {
        path: PathBuf,
        line: u64,
        column: String,
        problem: String,
    },
    /// A problem with a whole row (its length, the image size it implies, the CSV syntax).
    #[error("{} line {line}: {problem}", path.display())]
    Row { path: PathBuf, line: u64, problem: String },
    #[error("{}: no rows of images{}", path.display(), if *header { " after the header" } else { "" })]
    Empty { path: PathBuf, header: bool },
}

/// Reads the CSV file at `path`; `size` is (rows, cols) of each image, or `None` for square images.
pub fn read_csv_images(
    path: &Path,
    columns: CsvColumns,
    size: Option<(usize, usize)>,
) -> Result<ImageTable, CsvImagesError> {
    let io_error = |source| CsvImagesError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io_error)?;
    let length = file.metadata().map_err(io_error)?.len();
    parse_csv_images(file, length, path, columns, size)
}

/// Reads CSV text from `reader`, of about `length` bytes (used only to size the pixel buffer, at
/// most once); `path` names it in errors.
pub fn parse_csv_images(
    reader: impl Read,
    length: u64,
    path: &Path,
    columns: CsvColumns,
    size: Option<(usize, usize)>,
) -> Result<ImageTable, CsvImagesError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let mut reader = RowReader { path, header: None };
    let mut record = csv::ByteRecord::new();

    let Some(mut line) = reader.next(&mut csv, &mut record)? else {
        return Err(CsvImagesError::Empty {
            path: path.to_owned(),
            header: false,
        });
    };
    if is_header(&record) {
        let names: Vec<String> = record
            .iter()
            .map(|c| String::from_utf8_lossy(trim(c)).into_owned())
            .collect();
        let header_line = line;
        line = match reader.next(&mut csv, &mut record)? {
            Some(line) => line,
            None => {
                return Err(CsvImagesError::Empty {
                    path: path.to_owned(),
                    header: true,
                });
            }
        };
        if names.len() != record.len() {
            return Err(reader.row_error(
                line,
                format!(
                    "{} values where the header (line {header_line}) names {} columns",
                    record.len(),
                    names.len()
                ),
            ));
        }
        reader.header = Some(names);
    }

    let first = usize::from(columns == CsvColumns::LabelThenPixels);
    let width = record.len();
    let values = width
        .checked_sub(first)
        .filter(|&v| v > 0)
        .ok_or_else(|| reader.row_error(line, format!("{width} values: no pixels after the label")))?;
    let shape = ImageShape::from_row_length(values, size).map_err(|problem| reader.row_error(line, problem))?;

    // The rows the file holds if all are as long in bytes as the first: room made once, at most one
    // byte a pixel of the file (each pixel takes a digit and a comma, so that is never too little).
    let estimate = (length / record.as_slice().len().max(1) as u64 + 1).saturating_mul(values as u64);
    let mut pixels: Vec<u8> = Vec::new();
    let _ = pixels.try_reserve_exact(estimate.min(length) as usize);
    let mut labels = Vec::new();
    let first_line = line;
    loop {
        if record.len() != width {
            let (column, problem) = if record.len() < width {
                (
                    record.len() + 1,
                    format!(
                        "the row ends after {} values where line {first_line} has {width}",
                        record.len()
                    ),
                )
            } else {
                (
                    width + 1,
                    format!("{} values where line {first_line} has {width}", record.len()),
                )
            };
            return Err(reader.cell_error(line, column - 1, problem));
        }
        if first == 1 {
            labels.push(parse_label(&record[0]).map_err(|problem| reader.cell_error(line, 0, problem))?);
        }
        for (k, cell) in record.iter().enumerate().skip(first) {
            pixels.push(parse_pixel(cell).map_err(|problem| reader.cell_error(line, k, problem))?);
        }
        match reader.next(&mut csv, &mut record)? {
            Some(next) => line = next,
            None => break,
        }
    }

    let samples = pixels.len() / values;
    let pixels = Array2::from_shape_vec((samples, values), pixels).expect("every row pushed `values` pixels");
    Ok(ImageTable {
        pixels,
        shape,
        labels: (first == 1).then_some(labels),
    })
}

/// The reading state that messages need: the file and the header's names.
struct RowReader<'a> {
    path: &'a Path,
    header: Option<Vec<String>>,
}

impl RowReader<'_> {
    /// The next non-empty record into `record`, and its 1-based line; `None` at the end.
    fn next<R: Read>(
        &self,
        csv: &mut csv::Reader<R>,
        record: &mut csv::ByteRecord,
    ) -> Result<Option<u64>, CsvImagesError> {
        match csv.read_byte_record(record) {
            Ok(true) => Ok(Some(record.position().map_or(0, csv::Position::line))),
            Ok(false) => Ok(None),
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                let problem = e.to_string();
                Err(match e.into_kind() {
                    csv::ErrorKind::Io(source) => CsvImagesError::Io {
                        path: self.path.to_owned(),
                        source,
                    },
                    _ => self.row_error(line, problem),
                })
            }
        }
    }

    fn row_error(&self, line: u64, problem: String) -> CsvImagesError {
        CsvImagesError::Row {
            path: self.path.to_owned(),
            line,
            problem,
        }
    }

    /// An error in the cell of 0-based `index`: its column is 1-based, named from the header.
    fn cell_error(&self, line: u64, index: usize, problem: String) -> CsvImagesError {
        let name = self.header.as_ref().and_then(|names| names.get(index));
        CsvImagesError::Cell {
            path: self.path.to_owned(),
            line,
            column: match name {
                Some(name) => format!("{} ({name})", index + 1),
                None => (index + 1).to_string(),
            },
            problem,
        }
    }
}

/// The first row is a header when its first cell is not a number (`label`, `pixel0`).
fn is_header(record: &csv::ByteRecord) -> bool {
    let first = record.get(0).map(trim).unwrap_or_default();
    let first = first.strip_prefix("\u{feff}".as_bytes()).unwrap_or(first);
    number(first).is_none()
}

/// A cell without the spaces, tabs and carriage returns around it.
fn trim(cell: &[u8]) -> &[u8] {
    cell.trim_ascii()
}

/// A pixel: a whole number 0-255. One to three digits are the fast path.
fn parse_pixel(cell: &[u8]) -> Result<u8, String> {
    if let [a] = *cell
        && a.is_ascii_digit()
    {
        return Ok(a - b'0');
    }
    if let [a, b] = *cell
        && a.is_ascii_digit()
        && b.is_ascii_digit()
    {
        return Ok((a - b'0') * 10 + (b - b'0'));
    }
    if let [a, b, c] = *cell
        && a.is_ascii_digit()
        && b.is_ascii_digit()
        && c.is_ascii_digit()
    {
        let value = u32::from(a - b'0') * 100 + u32::from(b - b'0') * 10 + u32::from(c - b'0');
        if let Ok(value) = u8::try_from(value) {
            return Ok(value);
        }
    }
    let value = whole(cell, "pixel")?;
    u8::try_from(value).map_err(|_| format!("pixel `{}` is outside 0-255", show(cell)))
}

/// A label: a whole number from 0 to `u32::MAX`.
fn parse_label(cell: &[u8]) -> Result<u32, String> {
    let value = whole(cell, "label")?;
    if value < 0 {
        return Err(format!("label `{}` is negative", show(cell)));
    }
    u32::try_from(value).map_err(|_| format!("label `{}` is larger than {}", show(cell), u32::MAX))
}

/// A cell holding a whole number (`7`, `7.0`, `-3`), as i64; `what` names it in the error.
fn whole(cell: &[u8], what: &str) -> Result<i64, String> {
    let cell = trim(cell);
    if cell.is_empty() {
        return Err(format!("the {what} is empty"));
    }
    let value = number(cell).ok_or_else(|| format!("{what} `{}` is not a number", show(cell)))?;
    if value.fract() != 0.0 {
        return Err(format!("{what} `{}` is not a whole number", show(cell)));
    }
    // Saturates far outside every range the callers accept, so the range check reports it.
    Ok(value as i64)
}

/// A cell's finite number, if it is one.
fn number(cell: &[u8]) -> Option<f64> {
    std::str::from_utf8(cell)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// A cell for a message: its text, cut to 40 characters.
fn show(cell: &[u8]) -> String {
    let text = String::from_utf8_lossy(trim(cell));
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, columns: CsvColumns) -> Result<ImageTable, CsvImagesError> {
        parse_csv_images(text.as_bytes(), text.len() as u64, Path::new("t.csv"), columns, None)
    }

    fn message(text: &str, columns: CsvColumns) -> String {
        parse(text, columns).unwrap_err().to_string()
    }

    #[test]
    fn a_labelled_file_with_and_without_header_reads_the_same() {
        let body = "3,0,1,2,255\n7,10,20.0,30, 40\n";
        let with = parse(&format!("label,p0,p1,p2,p3\n{body}"), CsvColumns::LabelThenPixels).unwrap();
        let without = parse(body, CsvColumns::LabelThenPixels).unwrap();
        assert_eq!(with, without);
        assert_eq!(with.labels, Some(vec![3, 7]));
        assert_eq!(with.pixels.as_slice().unwrap(), &[0, 1, 2, 255, 10, 20, 30, 40]);
        assert_eq!(
            with.shape,
            ImageShape {
                rows: 2,
                cols: 2,
                channels: 1
            }
        );
    }

    #[test]
    fn an_unlabelled_file_has_no_labels() {
        let table = parse("pixel0,pixel1,pixel2,pixel3\r\n1,2,3,4\r\n", CsvColumns::PixelsOnly).unwrap();
        assert_eq!(table.labels, None);
        assert_eq!(table.pixels.as_slice().unwrap(), &[1, 2, 3, 4]);
    }

    #[test]
    fn bad_cells_are_named_by_line_and_column() {
        let labelled = CsvColumns::LabelThenPixels;
        assert_eq!(
            message("label,a,b,c,d\n1,0,0,0,0\n2,0,256,0,0\n", labelled),
            "t.csv line 3, column 3 (b): pixel `256` is outside 0-255"
        );
        assert_eq!(
            message("1,0,0,0,-1\n", labelled),
            "t.csv line 1, column 5: pixel `-1` is outside 0-255"
        );
        assert_eq!(
            message("1,0,x,0,0\n", labelled),
            "t.csv line 1, column 3: pixel `x` is not a number"
        );
        assert_eq!(
            message("1,0,0.5,0,0\n", labelled),
            "t.csv line 1, column 3: pixel `0.5` is not a whole number"
        );
        assert_eq!(
            message("1,0,,0,0\n", labelled),
            "t.csv line 1, column 3: the pixel is empty"
        );
        assert_eq!(
            message("1.5,0,0,0,0\n", labelled),
            "t.csv line 1, column 1: label `1.5` is not a whole number"
        );
        assert_eq!(
            message("-2,0,0,0,0\n", labelled),
            "t.csv line 1, column 1: label `-2` is negative"
        );
        assert_eq!(
            message("4294967296,0,0,0,0\n", labelled),
            "t.csv line 1, column 1: label `4294967296` is larger than 4294967295"
        );
    }

    #[test]
    fn rows_of_unequal_length_are_refused() {
        let labelled = CsvColumns::LabelThenPixels;
        assert_eq!(
            message("1,0,0,0,0\n2,0,0\n", labelled),
            "t.csv line 2, column 4: the row ends after 3 values where line 1 has 5"
        );
        assert_eq!(
            message("1,0,0,0,0\n2,0,0,0,0,9\n", labelled),
            "t.csv line 2, column 6: 6 values where line 1 has 5"
        );
        assert_eq!(
            message("a,b,c\n1,0,0,0,0\n", labelled),
            "t.csv line 2: 5 values where the header (line 1) names 3 columns"
        );
    }

    #[test]
    fn a_row_length_that_is_no_image_names_it() {
        let fifteen = format!("1{}\n", ",0".repeat(15));
        assert_eq!(
            message(&fifteen, CsvColumns::LabelThenPixels),
            "t.csv line 1: 15 values a row are not a square image (s x s grey or s x s x 3 RGB); give the image size (15 + 1 = 4x4: is there no label column?)"
        );
        assert_eq!(
            message("label\n1\n", CsvColumns::LabelThenPixels),
            "t.csv line 2: 1 values: no pixels after the label"
        );
        assert_eq!(message("", CsvColumns::PixelsOnly), "t.csv: no rows of images");
        assert_eq!(
            message("a,b\n\n", CsvColumns::PixelsOnly),
            "t.csv: no rows of images after the header"
        );
    }

    #[test]
    fn a_given_size_reads_wide_images() {
        let text = "1,2,3,4,5,6\n";
        let table = parse_csv_images(
            text.as_bytes(),
            12,
            Path::new("t.csv"),
            CsvColumns::PixelsOnly,
            Some((2, 3)),
        )
        .unwrap();
        assert_eq!(
            table.shape,
            ImageShape {
                rows: 2,
                cols: 3,
                channels: 1
            }
        );
    }
}
