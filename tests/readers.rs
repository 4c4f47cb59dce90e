//! The CSV and npz image readers (`data::csv_images`, `data::npz`): real MNIST written as CSV in
//! Kaggle's and the headerless layout and as Keras- and MedMNIST-layout npz files reads back equal
//! to the IDX files pixel for pixel and label for label; files NumPy itself wrote
//! (tests/data/npz/, made by make.py there) read as NumPy holds them; every bad input is refused
//! with the file and the line and column or the array named.

mod common;

use common::formats::{images3, mnist_csv, mnist_split, write_npz};

use std::io::{Cursor, Write};
use std::path::Path;

use mlp::data::csv_images::{CsvColumns, CsvImagesError, read_csv_images};
use mlp::data::image_table::{ImageShape, ImageTable};
use mlp::data::npz::{
    NpzError, NpzLayout, NpzSplits, parse_npz_images, parse_npz_splits, read_npz_images, read_npz_splits,
};
use ndarray::{Array1, Array2};
use zip::write::SimpleFileOptions;

fn assert_table_is(table: &ImageTable, pixels: &Array2<u8>, labels: &[u8]) {
    assert_eq!(
        table.shape,
        ImageShape {
            rows: 28,
            cols: 28,
            channels: 1
        }
    );
    assert_eq!(&table.pixels, pixels);
    let expected: Vec<u32> = labels.iter().map(|&l| u32::from(l)).collect();
    assert_eq!(table.labels.as_deref(), Some(&expected[..]));
}

#[test]
fn real_mnist_as_csv_reads_back_equal_to_the_idx_files() {
    let Some(dir) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let (train, train_labels) = mnist_split(&dir, "train");
    let (test, test_labels) = mnist_split(&dir, "t10k");

    let kaggle = work.path().join("train.csv");
    std::fs::write(&kaggle, mnist_csv(&train, &train_labels, true)).unwrap();
    let table = read_csv_images(&kaggle, CsvColumns::LabelThenPixels, None).unwrap();
    assert_table_is(&table, &train, &train_labels);

    let headerless = work.path().join("mnist_test.csv");
    std::fs::write(&headerless, mnist_csv(&test, &test_labels, false)).unwrap();
    let table = read_csv_images(&headerless, CsvColumns::LabelThenPixels, None).unwrap();
    assert_table_is(&table, &test, &test_labels);

    // Kaggle's test.csv: the pixels alone, under a header.
    let mut unlabelled = String::from("pixel0");
    for k in 1..784 {
        unlabelled.push_str(&format!(",pixel{k}"));
    }
    for row in test.rows().into_iter().take(100) {
        let cells: Vec<String> = row.iter().map(u8::to_string).collect();
        unlabelled.push_str(&format!("\n{}", cells.join(",")));
    }
    let predict = work.path().join("test.csv");
    std::fs::write(&predict, unlabelled).unwrap();
    let table = read_csv_images(&predict, CsvColumns::PixelsOnly, None).unwrap();
    assert_eq!(table.labels, None);
    assert_eq!(table.pixels, test.slice(ndarray::s![..100, ..]));
}

#[test]
fn real_mnist_as_keras_and_medmnist_npz_reads_back_equal_to_the_idx_files() {
    let Some(dir) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let (train, train_labels) = mnist_split(&dir, "train");
    let (test, test_labels) = mnist_split(&dir, "t10k");

    // Keras's mnist.npz: (N, 28, 28) u8 images and (N,) u8 labels, stored.
    let keras = work.path().join("mnist.npz");
    write_npz(&keras, false, |npz| {
        npz.add_array("x_train", &images3(&train))?;
        npz.add_array("y_train", &Array1::from(train_labels.clone()))?;
        npz.add_array("x_test", &images3(&test))?;
        npz.add_array("y_test", &Array1::from(test_labels.clone()))
    });
    let splits = read_npz_splits(&keras, None).unwrap();
    assert_eq!(splits.layout, NpzLayout::Keras);
    assert_table_is(&splits.train, &train, &train_labels);
    assert_table_is(&splits.test, &test, &test_labels);
    assert_eq!(splits.val, None);

    // MedMNIST's layout, deflated, labels (N, 1) int64, with a validation split and flat images.
    let medmnist = work.path().join("medmnist.npz");
    let column = |labels: &[u8]| {
        Array2::from_shape_vec((labels.len(), 1), labels.iter().map(|&l| i64::from(l)).collect()).unwrap()
    };
    let (val, val_labels) = (train.slice(ndarray::s![..5000, ..]).to_owned(), &train_labels[..5000]);
    write_npz(&medmnist, true, |npz| {
        npz.add_array("train_images", &images3(&train))?;
        npz.add_array("train_labels", &column(&train_labels))?;
        npz.add_array("val_images", &val)?;
        npz.add_array("val_labels", &column(val_labels))?;
        npz.add_array("test_images", &images3(&test))?;
        npz.add_array("test_labels", &column(&test_labels))
    });
    let splits = read_npz_splits(&medmnist, None).unwrap();
    assert_eq!(splits.layout, NpzLayout::MedMnist);
    assert_table_is(&splits.train, &train, &train_labels);
    assert_table_is(splits.val.as_ref().unwrap(), &val, val_labels);
    assert_table_is(&splits.test, &test, &test_labels);

    // For predict: the test images of either file.
    let images = read_npz_images(&keras, None).unwrap();
    assert_eq!((images.pixels, images.labels), (test.clone(), None));
    assert_eq!(read_npz_images(&medmnist, None).unwrap().pixels, test);
}

/// NumPy's values of make.py: `(flat index * step) % 256`.
fn grid(n: usize, step: usize) -> Vec<u8> {
    (0..n).map(|i| (i * step % 256) as u8).collect()
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/npz").join(name)
}

#[test]
fn files_numpy_wrote_read_as_numpy_holds_them() {
    let keras = read_npz_splits(&fixture("keras-savez.npz"), None).unwrap();
    assert_eq!(keras.layout, NpzLayout::Keras);
    assert_eq!(
        keras.train.shape,
        ImageShape {
            rows: 4,
            cols: 4,
            channels: 1
        }
    );
    assert_eq!(keras.train.pixels.as_slice().unwrap(), &grid(80, 1)[..]);
    assert_eq!(keras.train.labels, Some(vec![0, 1, 2, 3, 4]));
    assert_eq!(keras.test.pixels.as_slice().unwrap(), &grid(48, 3)[..]);
    assert_eq!(keras.test.labels, Some(vec![9, 0, 4]));

    let NpzSplits {
        layout,
        train,
        val,
        test,
    } = read_npz_splits(&fixture("medmnist-savez-compressed.npz"), None).unwrap();
    assert_eq!(layout, NpzLayout::MedMnist);
    assert_eq!(
        train.shape,
        ImageShape {
            rows: 3,
            cols: 3,
            channels: 3
        }
    );
    assert_eq!(train.pixels.as_slice().unwrap(), &grid(108, 7)[..]);
    assert_eq!(train.labels, Some(vec![0, 1, 2, 3]));
    let val = val.unwrap();
    assert_eq!(
        (val.pixels.as_slice().unwrap(), val.labels),
        (&grid(54, 11)[..], Some(vec![1, 2]))
    );
    assert_eq!(test.pixels.as_slice().unwrap(), &grid(54, 13)[..]);
    assert_eq!(test.labels, Some(vec![65535, 7]));

    // Fortran order and big-endian u16: read in logical (row-major) order all the same.
    let images = read_npz_images(&fixture("images-fortran-bigendian.npz"), None).unwrap();
    assert_eq!(
        images.shape,
        ImageShape {
            rows: 2,
            cols: 2,
            channels: 1
        }
    );
    assert_eq!(images.pixels.as_slice().unwrap(), &grid(12, 5)[..]);
}

/// `.npy` bytes of format version 1.0, written by hand: any dtype, order and payload.
fn npy(descr: &str, shape: &[usize], fortran: bool, payload: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let title = if fortran { "True" } else { "False" };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': {title}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A stored zip of `.npy` entries named `name.npy`.
fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        zip.start_file(format!("{name}.npy"), SimpleFileOptions::default())
            .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn splits(bytes: Vec<u8>) -> Result<NpzSplits, NpzError> {
    parse_npz_splits(Cursor::new(&bytes), bytes.len() as u64, Path::new("d.npz"), None)
}

fn images_only(bytes: Vec<u8>, size: Option<(usize, usize)>) -> Result<ImageTable, NpzError> {
    parse_npz_images(Cursor::new(&bytes), bytes.len() as u64, Path::new("d.npz"), size)
}

/// A Keras-layout file whose train labels are `y_train`; 2 train and 1 test image of 2x2.
fn keras_with(y_train: Vec<u8>) -> Vec<u8> {
    zip_of(&[
        ("x_train", npy("|u1", &[2, 2, 2], false, &[1; 8])),
        ("y_train", y_train),
        ("x_test", npy("|u1", &[1, 4], false, &[2; 4])),
        ("y_test", npy("|u1", &[1], false, &[3])),
    ])
}

fn error(result: Result<impl std::fmt::Debug, NpzError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn bad_npz_files_name_the_file_and_the_array() {
    let ok = splits(keras_with(npy("<i2", &[2, 1], false, &[5, 0, 6, 0]))).unwrap();
    assert_eq!(ok.train.labels, Some(vec![5, 6]));
    assert_eq!(
        ok.test.shape,
        ImageShape {
            rows: 2,
            cols: 2,
            channels: 1
        }
    );

    assert_eq!(
        error(splits(keras_with(npy("|u1", &[3], false, &[0, 1, 2])))),
        "d.npz: `x_train` holds 2 images but `y_train` 3 labels (the file has: x_train, y_train, x_test, y_test)"
    );
    assert_eq!(
        error(splits(keras_with(npy(
            "<i4",
            &[2],
            false,
            &[1, 0, 0, 0, 255, 255, 255, 255]
        )))),
        format!(
            "d.npz, array `y_train`: value -1 at index 1 is not a label (a whole number 0-{})",
            u32::MAX
        )
    );
    assert_eq!(
        error(splits(keras_with(npy("<f4", &[2], false, &[0, 0, 0, 63, 0, 0, 0, 0])))),
        format!(
            "d.npz, array `y_train`: value 0.5 at index 0 is not a label (a whole number 0-{})",
            u32::MAX
        )
    );
    assert_eq!(
        error(splits(keras_with(npy("|u1", &[2, 2], false, &[0; 4])))),
        "d.npz, array `y_train`: shape [2, 2] is not labels: expected (N,) or (N, 1)"
    );
    assert_eq!(
        error(splits(keras_with(npy("<c8", &[2], false, &[0; 16])))),
        "d.npz, array `y_train`: dtype `<c8` is not an integer or float type (u1-u8, i1-i8, f4, f8)"
    );
    assert_eq!(
        error(splits(keras_with(npy("|u1", &[2], false, &[0; 3])))),
        "d.npz, array `y_train`: shape [2] of U8 needs 2 bytes of data, but the entry holds 3"
    );
    assert_eq!(
        error(splits(zip_of(&[
            ("x_train", npy("|u1", &[1, 4], false, &[0; 4])),
            ("x_test", vec![])
        ]))),
        "d.npz: no array `y_train` (the file has: x_train, x_test)"
    );
    assert_eq!(
        error(splits(zip_of(&[("a", npy("|u1", &[1], false, &[0]))]))),
        "d.npz: neither Keras's arrays (x_train, y_train, x_test, y_test) nor MedMNIST's (train_images, \
         train_labels, test_images, test_labels) are there (the file has: a)"
    );
    let not_zip = error(splits(b"P5 2 2 255 \x00\x01\x02\x03".to_vec()));
    assert!(
        not_zip.starts_with("d.npz: not an npz file (NumPy's zip of .npy arrays): "),
        "{not_zip}"
    );
    assert_eq!(
        error(splits(zip_of(&[
            ("x_train", npy("|u1", &[1, 4], false, &[0; 4])),
            ("y_train", npy("|u1", &[1], false, &[0])),
            ("x_test", npy("|u1", &[1, 9], false, &[0; 9])),
            ("y_test", npy("|u1", &[1], false, &[0])),
        ]))),
        "d.npz: `x_train` holds 2x2 images but `x_test` holds 3x3 (the file has: x_train, y_train, x_test, y_test)"
    );
}

#[test]
fn image_arrays_of_every_accepted_shape_and_dtype() {
    let rgb: Vec<u8> = (0..12).collect();
    let table = images_only(zip_of(&[("images", npy("|u1", &[1, 2, 2, 3], false, &rgb))]), None).unwrap();
    assert_eq!(
        table.shape,
        ImageShape {
            rows: 2,
            cols: 2,
            channels: 3
        }
    );
    assert_eq!(table.pixels.as_slice().unwrap(), &rgb[..]);

    // The file's only array, (N, H, W, 1) in u16, and whole floats.
    let u16s: Vec<u8> = [7u16, 0, 255, 1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let table = images_only(zip_of(&[("whatever", npy("<u2", &[1, 2, 2, 1], false, &u16s))]), None).unwrap();
    assert_eq!(table.pixels.as_slice().unwrap(), &[7, 0, 255, 1]);
    let floats: Vec<u8> = [0f64, 17.0, 255.0, 3.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let table = images_only(zip_of(&[("x_test", npy("<f8", &[1, 4], false, &floats))]), None).unwrap();
    assert_eq!(table.pixels.as_slice().unwrap(), &[0, 17, 255, 3]);

    // Flat rows of a given size; a size that does not fit, or none for a non-square length.
    let wide = zip_of(&[("images", npy("|u1", &[2, 6], false, &[9; 12]))]);
    assert_eq!(
        images_only(wide.clone(), Some((2, 3))).unwrap().shape,
        ImageShape {
            rows: 2,
            cols: 3,
            channels: 1
        }
    );
    assert_eq!(
        error(images_only(wide, None)),
        "d.npz, array `images`: 6 values a row are not a square image (s x s grey or s x s x 3 RGB); give the image size"
    );
    assert_eq!(
        error(images_only(
            zip_of(&[("images", npy("|u1", &[1, 2, 2], false, &[0; 4]))]),
            Some((4, 1))
        )),
        "d.npz, array `images`: images of 2x2, not the 4x1 the image size says"
    );

    let scaled: Vec<u8> = [0f32, 0.25].iter().flat_map(|v| v.to_le_bytes()).collect();
    assert_eq!(
        error(images_only(
            zip_of(&[("images", npy("<f4", &[1, 1, 2], false, &scaled))]),
            None
        )),
        "d.npz, array `images`: value 0.25 at flat index 1 is not a pixel (a whole number 0-255)"
    );
    let big: Vec<u8> = [255i32, 256].iter().flat_map(|v| v.to_be_bytes()).collect();
    assert_eq!(
        error(images_only(
            zip_of(&[("images", npy(">i4", &[1, 1, 2], false, &big))]),
            None
        )),
        "d.npz, array `images`: value 256 at flat index 1 is not a pixel (a whole number 0-255)"
    );
    assert_eq!(
        error(images_only(
            zip_of(&[("images", npy("|u1", &[1, 2, 2, 4], false, &[0; 16]))]),
            None
        )),
        "d.npz, array `images`: shape [1, 2, 2, 4] is not images: expected (N, H, W), (N, H, W, 1), (N, H, W, 3) or (N, H*W)"
    );
    assert_eq!(
        error(images_only(
            zip_of(&[("images", npy("|u1", &[0, 2, 2], false, &[]))]),
            None
        )),
        "d.npz, array `images`: shape [0, 2, 2] holds no pixels"
    );
    assert_eq!(
        error(images_only(zip_of(&[("a", vec![]), ("b", vec![])]), None)),
        "d.npz: no array is named images, x_test or test_images, and there is not just one to take (the file has: a, b)"
    );
    assert_eq!(
        error(images_only(zip_of(&[("images", b"not numpy".to_vec())]), None)),
        "d.npz, array `images`: not a .npy array (no \\x93NUMPY magic)"
    );
}

#[test]
fn a_missing_file_is_named() {
    let missing = Path::new("/nonexistent/train.csv");
    let error = read_csv_images(missing, CsvColumns::LabelThenPixels, None).unwrap_err();
    assert!(matches!(error, CsvImagesError::Io { .. }));
    assert!(
        error.to_string().starts_with("cannot read /nonexistent/train.csv: "),
        "{error}"
    );
    let error = read_npz_splits(Path::new("/nonexistent/mnist.npz"), None).unwrap_err();
    assert!(
        error.to_string().starts_with("cannot read /nonexistent/mnist.npz: "),
        "{error}"
    );
}

/// The files of `dir` (under the repository root), sorted.
fn files_in(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no files in {}", dir.display());
    files
}

#[test]
fn every_csv_and_npz_fuzz_seed_reads() {
    for path in files_in("fuzz/seeds/csv") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let columns = if name.starts_with("unlabelled") {
            CsvColumns::PixelsOnly
        } else {
            CsvColumns::LabelThenPixels
        };
        let table = read_csv_images(&path, columns, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.labels.is_some(), columns == CsvColumns::LabelThenPixels, "{name}");
        assert_eq!(table.pixels.ncols(), table.shape.values(), "{name}");
    }
    let bom = read_csv_images(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/csv/bom-large-label-2x2.csv"),
        CsvColumns::LabelThenPixels,
        None,
    )
    .unwrap();
    assert_eq!(bom.labels, Some(vec![7, 65535]));
    for path in files_in("fuzz/seeds/npz") {
        let table = match read_npz_splits(&path, None) {
            Ok(splits) => splits.train,
            Err(_) => read_npz_images(&path, None).unwrap_or_else(|e| panic!("{e}")),
        };
        assert_eq!(table.pixels.ncols(), table.shape.values(), "{}", path.display());
    }
}
