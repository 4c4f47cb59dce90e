//! The CSV image reader on arbitrary bytes, as labelled and as unlabelled rows, square or 2x2
//! images: it must return a table or an error, never panic, and never allocate more than the input
//! justifies. A table it accepts must be whole (as many pixels a row as its shape says, a label a
//! row when labelled) and, written back as plain CSV, read again to the same table.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mlp::data::csv_images::{CsvColumns, parse_csv_images};
use mlp::data::image_table::ImageTable;

/// `table` as headerless CSV text in the layout `columns`.
fn write_back(table: &ImageTable) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, row) in table.pixels.rows().into_iter().enumerate() {
        let mut cells: Vec<String> = row.iter().map(u8::to_string).collect();
        if let Some(labels) = &table.labels {
            cells.insert(0, labels[i].to_string());
        }
        out.extend_from_slice(cells.join(",").as_bytes());
        out.push(b'\n');
    }
    out
}

fuzz_target!(|bytes: &[u8]| {
    let path = Path::new("fuzz.csv");
    for columns in [CsvColumns::LabelThenPixels, CsvColumns::PixelsOnly] {
        for size in [None, Some((2, 2))] {
            let Ok(table) = parse_csv_images(bytes, bytes.len() as u64, path, columns, size) else {
                continue;
            };
            assert_eq!(table.pixels.ncols(), table.shape.values());
            assert!(!table.is_empty());
            if let Some(labels) = &table.labels {
                assert_eq!(labels.len(), table.len());
            }
            let text = write_back(&table);
            let again = parse_csv_images(&text[..], text.len() as u64, path, columns, size).expect("written back, it reads");
            assert_eq!(again, table);
        }
    }
});
