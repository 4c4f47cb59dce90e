//! The fuzzers' inputs as plain tests: every seed in fuzz/seeds/ still reads, and every input a
//! fuzzer (or a review of what it exercises) found to crash mlp, kept in tests/data/fuzz/, is now
//! refused with an error when read. See fuzz/README.md.

use std::fs;
use std::path::{Path, PathBuf};

use mlp::data::idx::parse_idx;
use mlp::model_file::decode_checkpoint;

fn files(dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files in {}", dir.display());
    files
}

#[test]
fn every_idx_seed_reads_and_its_gzip_twin_reads_the_same() {
    for (path, bytes) in files("fuzz/seeds/idx") {
        let array = parse_idx(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let elements: usize = array.dims.iter().product();
        assert_eq!(array.data.len(), elements, "{}", path.display());
        if path.extension().is_some_and(|e| e == "gz") {
            let raw = fs::read(path.with_extension("")).unwrap();
            assert_eq!(parse_idx(&raw).unwrap(), array, "{}", path.display());
        }
    }
}

#[test]
fn every_model_seed_reads_and_one_carries_a_checkpoint() {
    let mut checkpoints = 0;
    for (path, bytes) in files("fuzz/seeds/model_file") {
        let (_, checkpoint) = decode_checkpoint(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        checkpoints += usize::from(checkpoint.is_some());
    }
    assert_eq!(checkpoints, 1);
}

#[test]
fn model_inputs_that_once_crashed_are_refused() {
    for (path, bytes) in files("tests/data/fuzz/model_file") {
        assert!(decode_checkpoint(&bytes).is_err(), "{} was accepted", path.display());
    }
}

#[test]
fn an_input_shape_whose_size_overflows_is_corrupt() {
    let bytes = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/fuzz/model_file/input-rows-times-cols-overflows.safetensors"),
    )
    .unwrap();
    let message = decode_checkpoint(&bytes).unwrap_err().to_string();
    assert!(
        message.contains("input 4294967296x4294967296 does not match 4 inputs"),
        "{message}"
    );
}
