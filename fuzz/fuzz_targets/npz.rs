//! The npz image reader on arbitrary bytes, for labelled splits and for images alone: it must return
//! tables or an error, never panic, and never allocate more than the input justifies (an entry's
//! bytes, at most what its compressed bytes inflate to). Tables it accepts must be whole: as many
//! pixels a row as their shape says, a label an image, one image shape for every split.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mlp::data::image_table::ImageTable;
use mlp::data::npz::{parse_npz_images, parse_npz_splits};

fn check(table: &ImageTable, labelled: bool) {
    assert_eq!(table.pixels.ncols(), table.shape.values());
    assert!(table.shape.channels == 1 || table.shape.channels == 3);
    assert!(!table.is_empty());
    assert_eq!(table.labels.as_ref().map(Vec::len), labelled.then_some(table.len()));
}

fuzz_target!(|bytes: &[u8]| {
    let path = Path::new("fuzz.npz");
    let length = bytes.len() as u64;
    if let Ok(splits) = parse_npz_splits(Cursor::new(bytes), length, path, None) {
        check(&splits.train, true);
        check(&splits.test, true);
        assert_eq!(splits.test.shape, splits.train.shape);
        if let Some(val) = &splits.val {
            check(val, true);
            assert_eq!(val.shape, splits.train.shape);
        }
    }
    if let Ok(images) = parse_npz_images(Cursor::new(bytes), length, path, None) {
        check(&images, false);
    }
});
