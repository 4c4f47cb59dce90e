//! The IDX reader on arbitrary bytes, raw or gzip (the reader tells them apart by the first two bytes):
//! it must return an array or an error, never panic, and never allocate more than the input justifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlp::data::idx::{encode_idx, parse_idx};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(array) = parse_idx(bytes) {
        let elements: usize = array.dims.iter().product();
        assert_eq!(array.data.len(), elements, "dimensions {:?}", array.dims);
        // What was read writes back to the same raw bytes.
        if !bytes.starts_with(&[0x1f, 0x8b]) {
            assert_eq!(encode_idx(&array), bytes);
        }
    }
});
