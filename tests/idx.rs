//! The IDX reader and the MNIST data set on top of it: good files of every element type, raw and
//! gzip, and every kind of malformed input, each failing with a message that names the file.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{gzip, idx_bytes};
use mlp::data::catalog::KnownDataset;
use mlp::data::dataset::{DataDir, DataError, Dataset, load_split, locate};
use mlp::data::idx::{IdxArray, IdxData, IdxError, IdxFormatError, parse_idx, read_idx_file};
use mlp::data::split::Split;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// Reads `bytes` written to a file named `name`, raw and gzipped, and expects the same result.
fn read_both_ways(bytes: &[u8]) -> Result<IdxArray, (String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let raw = read_idx_file(&write(dir.path(), "raw.idx", bytes));
    // The gzip copy gets a name without .gz: detection must go by content.
    let gz = read_idx_file(&write(dir.path(), "compressed.idx", &gzip(bytes)));
    match (raw, gz) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "raw and gzip readings differ");
            Ok(a)
        }
        (Err(a), Err(b)) => Err((a.to_string(), b.to_string())),
        (a, b) => panic!("raw gave {a:?} but gzip gave {b:?}"),
    }
}

#[test]
fn reads_every_element_type_big_endian() {
    let cases: Vec<(u8, Vec<u32>, Vec<u8>, IdxData)> = vec![
        (
            0x08,
            vec![2, 2, 2],
            vec![0, 1, 2, 3, 252, 253, 254, 255],
            IdxData::U8(vec![0, 1, 2, 3, 252, 253, 254, 255]),
        ),
        (0x09, vec![3], vec![0x80, 0x00, 0x7f], IdxData::I8(vec![-128, 0, 127])),
        (
            0x0B,
            vec![2],
            vec![0xfe, 0xd4, 0x01, 0x2c],
            IdxData::I16(vec![-300, 300]),
        ),
        (
            0x0C,
            vec![1, 2],
            vec![0x80, 0, 0, 0, 0, 1, 0x11, 0x70],
            IdxData::I32(vec![i32::MIN, 70000]),
        ),
        // 1.5f32 = 0x3fc00000, -2.0f32 = 0xc0000000
        (
            0x0D,
            vec![2],
            vec![0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0],
            IdxData::F32(vec![1.5, -2.0]),
        ),
        // 0.1f64 = 0x3fb999999999999a
        (
            0x0E,
            vec![1, 1, 1, 1],
            vec![0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a],
            IdxData::F64(vec![0.1]),
        ),
    ];
    for (code, dims, payload, expected) in cases {
        let array = read_both_ways(&idx_bytes(code, &dims, &payload)).expect("a well-formed file");
        assert_eq!(array.dims, dims.iter().map(|&d| d as usize).collect::<Vec<_>>());
        assert_eq!(array.data, expected, "type code {code:#x}");
    }
}

/// Each malformed input, raw and gzipped, gives an error naming the file and saying what is wrong.
#[test]
fn malformed_files_are_rejected_with_the_file_named() {
    let mut huge = idx_bytes(0x08, &[u32::MAX, u32::MAX, u32::MAX], &[]);
    huge.extend_from_slice(&[0; 16]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "too short for an IDX header"),
        ("short header", vec![0, 0, 8], "too short for an IDX header"),
        (
            "dims cut off",
            vec![0, 0, 8, 3, 0, 0, 0, 1],
            "too short for an IDX header",
        ),
        ("wrong magic", vec![1, 2, 8, 1, 0, 0, 0, 1, 7], "bad magic number"),
        (
            "unknown type",
            idx_bytes(0x0A, &[1], &[0]),
            "unknown element type code 0x0a",
        ),
        ("no dimensions", vec![0, 0, 8, 0], "0 dimensions"),
        (
            "zero dimension",
            idx_bytes(0x08, &[2, 0, 3], &[]),
            "dimension 1 has size 0",
        ),
        (
            "absurd dimensions",
            huge,
            "more than the 17179869184 bytes this reader accepts",
        ),
        (
            "truncated",
            idx_bytes(0x08, &[2, 3], &[1, 2, 3, 4, 5]),
            "need 6 bytes of data, but only 5 are there",
        ),
        (
            "truncated i32",
            idx_bytes(0x0C, &[2], &[0, 0, 0, 1, 0, 0]),
            "need 8 bytes of data, but only 6",
        ),
        (
            "trailing garbage",
            idx_bytes(0x08, &[2], &[1, 2, 3, 4]),
            "2 bytes of trailing garbage",
        ),
    ];
    for (what, bytes, expected) in cases {
        let (raw, gz) = read_both_ways(&bytes).expect_err(what);
        assert!(raw.contains("raw.idx") && raw.contains(expected), "{what} (raw): {raw}");
        assert!(
            gz.contains("compressed.idx") && gz.contains(expected),
            "{what} (gzip): {gz}"
        );
    }
}

#[test]
fn corrupt_and_truncated_gzip_are_reported_as_such() {
    let good = gzip(&idx_bytes(0x08, &[4, 4], &[7; 16]));
    let mut corrupt = good.clone();
    for b in &mut corrupt[10..good.len() - 8] {
        *b ^= 0x5a;
    }
    let cut = good[..good.len() - 12].to_vec();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("corrupt.gz", corrupt), ("cut.gz", cut)] {
        let error = read_idx_file(&write(dir.path(), name, &bytes)).unwrap_err();
        let message = error.to_string();
        assert!(message.contains(name), "{message}");
        assert!(
            matches!(
                &error,
                IdxError::Format {
                    source: IdxFormatError::CorruptGzip(_),
                    ..
                }
            ) || message.contains("truncated"),
            "{name}: {message}"
        );
    }
}

#[test]
fn absurd_dimensions_fail_without_allocating_them() {
    // 4 GiB claimed by a 16-byte file: the check against the file length comes before any buffer.
    let bytes = idx_bytes(0x08, &[65536, 65536], &[1, 2, 3, 4]);
    let message = parse_idx(&bytes).unwrap_err().to_string();
    assert!(
        message.contains("need 4294967296 bytes of data, but only 4 are there"),
        "{message}"
    );
    // The same through gzip, where the length is unknown until decompressed.
    let message = parse_idx(&gzip(&bytes)).unwrap_err().to_string();
    assert!(message.contains("need 4294967296 bytes"), "{message}");
}

#[test]
fn missing_file_names_the_path() {
    let message = read_idx_file(Path::new("/nonexistent/train-images-idx3-ubyte"))
        .unwrap_err()
        .to_string();
    assert!(message.contains("/nonexistent/train-images-idx3-ubyte"), "{message}");
}

fn data_dir(path: &Path) -> DataDir {
    mlp::cli::data_dir(Some(path), KnownDataset::Mnist)
}

#[test]
fn finds_every_usual_spelling_compressed_or_not() {
    let images = idx_bytes(0x08, &[1, 2, 2], &[0, 64, 128, 255]);
    let labels = idx_bytes(0x08, &[1], &[7]);
    for (images_name, labels_name, compress) in [
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", true),
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", false),
        ("train-images.idx3-ubyte", "train-labels.idx1-ubyte", false),
        ("train-images.idx3-ubyte.gz", "train-labels.idx1-ubyte.gz", true),
        // A .gz name on raw content still reads, by content.
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte", false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let encode = |b: &[u8]| if compress { gzip(b) } else { b.to_vec() };
        write(dir.path(), images_name, &encode(&images));
        write(dir.path(), labels_name, &encode(&labels));
        let set = load_split(&data_dir(dir.path()), Split::Train).unwrap();
        assert_eq!((set.len(), set.rows, set.cols), (1, 2, 2));
        assert_eq!(set.images().row(0).to_vec(), vec![0, 64, 128, 255]);
        assert_eq!(set.labels(), [7]);
    }
}

#[test]
fn missing_files_message_says_what_where_and_how_to_get_them() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "train-images-idx3-ubyte.gz",
        &gzip(&idx_bytes(0x08, &[1, 1, 1], &[0])),
    );
    let message = locate(&data_dir(dir.path()), Split::Train).unwrap_err().to_string();
    assert!(message.contains(&dir.path().display().to_string()), "{message}");
    assert!(message.contains("from --data-dir"), "{message}");
    assert!(message.contains("train-labels-idx1-ubyte.gz"), "{message}");
    assert!(message.contains("train-labels.idx1-ubyte"), "{message}");
    assert!(
        !message.contains("train-images-idx3-ubyte,"),
        "the images were found: {message}"
    );
    assert!(message.contains("mlp download --dataset mnist --dir"), "{message}");
}

fn pair(images: &[u8], labels: &[u8]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let i = write(dir.path(), "images.idx", images);
    let l = write(dir.path(), "labels.idx", labels);
    (dir, i, l)
}

#[test]
fn image_and_label_counts_must_agree() {
    let (_dir, i, l) = pair(
        &idx_bytes(0x08, &[3, 1, 1], &[1, 2, 3]),
        &idx_bytes(0x08, &[2], &[0, 1]),
    );
    let error = Dataset::from_files(&i, &l, None).unwrap_err();
    assert!(matches!(
        error,
        DataError::CountMismatch {
            images: 3,
            labels: 2,
            ..
        }
    ));
    let message = error.to_string();
    assert!(
        message.contains("images.idx") && message.contains("labels.idx") && message.contains("3 images but 2 labels")
    );
}

#[test]
fn labels_outside_a_known_sets_classes_are_rejected() {
    let (_dir, i, l) = pair(
        &idx_bytes(0x08, &[3, 1, 1], &[1, 2, 3]),
        &idx_bytes(0x08, &[3], &[0, 9, 10]),
    );
    let digits = KnownDataset::Mnist.classes();
    let message = Dataset::from_files(&i, &l, Some(&digits)).unwrap_err().to_string();
    assert!(
        message.contains("labels.idx") && message.contains("label 10 of sample 2 is outside the class range 0..=9"),
        "{message}"
    );
    // Read as files of their own, the same labels make eleven classes.
    let set = Dataset::from_files(&i, &l, None).unwrap();
    assert_eq!(set.classes().len(), 11);
    assert_eq!(set.empty_classes(), (1..9).collect::<Vec<_>>());
}

#[test]
fn labels_of_every_integer_type_up_to_65535_are_classes() {
    let images = idx_bytes(0x08, &[3, 1, 1], &[1, 2, 3]);
    for (labels, largest) in [
        (common::label_idx(0x0B, &[0, 299, 17]), 299),
        (common::label_idx(0x0C, &[65_535, 0, 3]), 65_535),
        (idx_bytes(0x09, &[3], &[0, 5, 127]), 127),
    ] {
        let (_dir, i, l) = pair(&images, &labels);
        let set = Dataset::from_files(&i, &l, None).unwrap();
        assert_eq!(set.classes().len(), largest + 1);
        assert!(set.classes().are_numbered());
    }
    for (labels, value) in [
        (idx_bytes(0x09, &[2], &[0, 0xff]), "-1"),
        (common::label_idx(0x0C, &[65_536, 0]), "65536"),
    ] {
        let (_dir, i, l) = pair(&idx_bytes(0x08, &[2, 1, 1], &[1, 2]), &labels);
        let message = Dataset::from_files(&i, &l, None).unwrap_err().to_string();
        assert!(
            message.contains("labels.idx") && message.contains(&format!("label {value} of sample")),
            "{message}"
        );
        assert!(message.contains("is not a class number (0 to 65535)"), "{message}");
    }
}

#[test]
fn colour_images_are_read_channel_last() {
    // Two 1x2 RGB images: the second's pixels are red and blue.
    let pixels = [1, 2, 3, 4, 5, 6, 255, 0, 0, 0, 0, 255];
    let (_dir, i, l) = pair(
        &idx_bytes(0x08, &[2, 1, 2, 3], &pixels),
        &idx_bytes(0x08, &[2], &[1, 0]),
    );
    let set = Dataset::from_files(&i, &l, None).unwrap();
    assert_eq!((set.rows, set.cols, set.channels, set.features()), (1, 2, 3, 6));
    assert_eq!(set.images().row(1).to_vec(), vec![255, 0, 0, 0, 0, 255]);
    // One channel last is grey; two channels are neither.
    let (_dir, i, l) = pair(&idx_bytes(0x08, &[1, 1, 2, 1], &[7, 8]), &idx_bytes(0x08, &[1], &[0]));
    assert_eq!(Dataset::from_files(&i, &l, None).unwrap().channels, 1);
    let (_dir, i, l) = pair(&idx_bytes(0x08, &[1, 1, 1, 2], &[7, 8]), &idx_bytes(0x08, &[1], &[0]));
    let message = Dataset::from_files(&i, &l, None).unwrap_err().to_string();
    assert!(message.contains("1 or 3 channels last"), "{message}");
}

#[test]
fn images_and_labels_of_the_wrong_shape_or_type_are_rejected() {
    let (_dir, i, l) = pair(
        &idx_bytes(0x08, &[3, 1], &[1, 2, 3]),
        &idx_bytes(0x08, &[3], &[0, 1, 2]),
    );
    let message = Dataset::from_files(&i, &l, None).unwrap_err().to_string();
    assert!(
        message.contains("images.idx") && message.contains("expected u8 images of 3 dimensions"),
        "{message}"
    );

    let (_dir, i, l) = pair(
        &idx_bytes(0x08, &[1, 1, 1], &[1]),
        &idx_bytes(0x0D, &[1], &1.0f32.to_be_bytes()),
    );
    let message = Dataset::from_files(&i, &l, None).unwrap_err().to_string();
    assert!(
        message.contains("labels.idx")
            && message.contains("expected integer labels")
            && message.contains("32-bit float"),
        "{message}"
    );
}

#[test]
fn real_mnist_loads_with_the_published_shapes() {
    let Some(dir) = common::mnist_dir() else { return };
    let dir = data_dir(&dir);
    let train = load_split(&dir, Split::Train).unwrap();
    let test = load_split(&dir, Split::Test).unwrap();
    assert_eq!((train.len(), train.rows, train.cols), (60_000, 28, 28));
    assert_eq!(test.len(), 10_000);
    // The first training labels of MNIST are 5, 0, 4, 1, 9 (as every tutorial shows).
    assert_eq!(&train.labels()[..5], &[5, 0, 4, 1, 9]);
    assert_eq!((train.classes(), train.channels), (&KnownDataset::Mnist.classes(), 1));
    // Pixel mean on [0, 1] is 0.1307 (../shared/data/README.md).
    let mean = train.images().iter().map(|&p| f64::from(p)).sum::<f64>() / (train.images().len() as f64 * 255.0);
    assert!((mean - 0.1307).abs() < 1e-4, "mean {mean}");
}
