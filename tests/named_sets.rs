//! The sets known by name beyond MNIST and Fashion-MNIST, read from tiny files in their publishers'
//! layouts (`common::named`): EMNIST's archive (upright images, letters a-z from labels 1-26, the
//! 47 and 62 names of balanced and byclass), KMNIST's IDX files and K49's npz files with their
//! characters as names; and `mlp train`, `eval`, `show`, `predict` and `--help` on them.

mod common;

use std::path::Path;

use common::named::{SIDE, classes_of, transposed, upright, write_emnist_archive, write_k49, write_kmnist};
use mlp::cli::data_dir;
use mlp::data::catalog::{EmnistSplit, KnownDataset};
use mlp::data::dataset::{DataError, Dataset};
use mlp::data::source;
use mlp::data::split::Split;
use predicates::prelude::*;

const LETTERS: KnownDataset = KnownDataset::Emnist(EmnistSplit::Letters);

/// An archive at `dir/gzip.zip` with letters (26 classes from label 1), balanced (47) and byclass
/// (62), 124 training and 62 test images each.
fn emnist_archive(dir: &Path) {
    write_emnist_archive(
        &dir.join("gzip.zip"),
        &[("letters", 26, 1), ("balanced", 47, 0), ("byclass", 62, 0)],
        124,
        62,
    );
}

fn load(dataset: KnownDataset, dir: &Path, split: Split) -> Result<Dataset, DataError> {
    source::load(&data_dir(Some(dir), dataset), split, None)
}

/// Every image of `data` is `upright` for its class, and the classes are `classes_of`.
fn assert_upright(data: &Dataset, classes: usize) {
    let labels: Vec<usize> = data.labels().iter().map(|&l| usize::from(l)).collect();
    assert_eq!(labels, classes_of(data.len(), classes));
    for (i, &k) in labels.iter().enumerate() {
        assert_eq!(data.images().row(i).to_vec(), upright(i, k, classes), "image {i}");
    }
}

#[test]
fn emnist_images_load_upright_and_letters_are_named_a_to_z_from_label_1() {
    let dir = tempfile::tempdir().unwrap();
    emnist_archive(dir.path());

    let train = load(LETTERS, dir.path(), Split::Train).unwrap();
    assert_eq!((train.len(), train.rows, train.cols), (124, SIDE, SIDE));
    // Sample 0 is labelled 1 in the file: class 0, named a, whose band is the top row. Stored, the
    // band is the left column; upright it is the top row again, and the left column is dark.
    assert_eq!(train.labels()[0], 0);
    assert_eq!(train.classes().name(0), Some("a"));
    assert_eq!(train.classes().name(25), Some("z"));
    assert_eq!(train.classes().len(), 26);
    let first = train.images().row(0).to_vec();
    assert!(first[..SIDE].iter().all(|&p| p >= 200), "the top row is the band");
    assert!(
        first.iter().skip(SIDE).step_by(SIDE).all(|&p| p < 40),
        "the left column below it is dark"
    );
    assert_ne!(
        first,
        transposed(&first),
        "the pattern tells the two orientations apart"
    );
    assert_upright(&train, 26);
    assert_upright(&load(LETTERS, dir.path(), Split::Test).unwrap(), 26);

    // The same archive serves the other sets.
    let balanced = load(KnownDataset::Emnist(EmnistSplit::Balanced), dir.path(), Split::Train).unwrap();
    assert_eq!(balanced.classes().len(), 47);
    assert_eq!(balanced.classes().name(36), Some("a"));
    assert_eq!(balanced.classes().name(46), Some("t"));
    assert_upright(&balanced, 47);
    let byclass = load(KnownDataset::Emnist(EmnistSplit::ByClass), dir.path(), Split::Test).unwrap();
    assert_eq!(byclass.classes().len(), 62);
    assert_eq!(
        (byclass.classes().name(10), byclass.classes().name(61)),
        (Some("A"), Some("z"))
    );
    assert_upright(&byclass, 62);
}

#[test]
fn emnist_errors_name_the_archive_and_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let missing = load(LETTERS, dir.path(), Split::Train).unwrap_err().to_string();
    assert!(
        missing.starts_with(&format!(
            "EMNIST Letters train files not found in {} (from --data-dir)\n  looked for: gzip.zip\n",
            dir.path().display()
        )),
        "{missing}"
    );

    emnist_archive(dir.path());
    let digits = load(KnownDataset::Emnist(EmnistSplit::Digits), dir.path(), Split::Train).unwrap_err();
    let archive = dir.path().join("gzip.zip");
    assert!(
        digits.to_string().starts_with(&format!(
            "{}: no member gzip/emnist-digits-train-images-idx3-ubyte.gz (",
            archive.display()
        )),
        "{digits}"
    );

    std::fs::write(&archive, b"not a zip").unwrap();
    let not_zip = load(LETTERS, dir.path(), Split::Test).unwrap_err().to_string();
    assert!(
        not_zip.starts_with(&format!("{}: not a zip archive (", archive.display())),
        "{not_zip}"
    );

    // A letters label 0 is not a letter.
    write_emnist_archive(&archive, &[("letters", 26, 0)], 4, 2);
    let below = load(LETTERS, dir.path(), Split::Train).unwrap_err().to_string();
    let labels = archive.join("gzip/emnist-letters-train-labels-idx1-ubyte.gz");
    assert_eq!(
        below,
        format!(
            "{}: label 0 of sample 0 is below 1, where this set's labels start",
            labels.display()
        )
    );
}

#[test]
fn kmnist_and_k49_load_with_their_characters_as_names() {
    let dir = tempfile::tempdir().unwrap();
    write_kmnist(dir.path(), 40, 20);
    let kmnist = load(KnownDataset::Kmnist, dir.path(), Split::Train).unwrap();
    assert_upright(&kmnist, 10);
    assert_eq!(kmnist.classes().names()[..3], ["お", "き", "す"]);
    assert_eq!(kmnist.classes().name(9), Some("を"));

    write_k49(dir.path(), 98, 49);
    for split in [Split::Train, Split::Test] {
        let k49 = load(KnownDataset::K49, dir.path(), split).unwrap();
        assert_upright(&k49, 49);
        assert_eq!(k49.classes().len(), 49);
        assert_eq!(
            (k49.classes().name(0), k49.classes().name(48)),
            (Some("あ"), Some("ゝ"))
        );
    }

    std::fs::remove_file(dir.path().join("k49-test-labels.npz")).unwrap();
    let missing = load(KnownDataset::K49, dir.path(), Split::Test)
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("Kuzushiji-49 test files not found in ")
            && missing.contains("looked for: k49-test-labels.npz\n"),
        "{missing}"
    );
    write_k49(dir.path(), 4, 2);
    std::fs::copy(
        dir.path().join("k49-train-labels.npz"),
        dir.path().join("k49-test-labels.npz"),
    )
    .unwrap();
    let mismatch = load(KnownDataset::K49, dir.path(), Split::Test)
        .unwrap_err()
        .to_string();
    assert!(mismatch.ends_with(": 2 images but 4 labels"), "{mismatch}");
}

/// `mlp` with the data root `root` and no downloads.
fn mlp_in(root: &Path) -> assert_cmd::Command {
    let mut cmd = common::mlp();
    cmd.current_dir(root).env("MLP_DATA_DIR", root);
    cmd
}

#[test]
fn emnist_letters_trains_evaluates_shows_and_predicts_with_letter_names() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("emnist")).unwrap();
    emnist_archive(&root.path().join("emnist"));
    let train = ["train", "--dataset", "emnist-letters", "--no-download", "--epochs", "3"];
    mlp_in(root.path())
        .args(train)
        .args(["--hidden", "32", "--batch-size", "10", "--out", "letters.bin"])
        .assert()
        .success()
        .stdout(predicate::str::contains(" on EMNIST Letters, "));

    // eval finds the set from the model file alone, in emnist/ under the data root.
    mlp_in(root.path())
        .args(["eval", "letters.bin", "--no-download"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "letters.bin on the EMNIST Letters test set (62 samples)",
        ))
        .stdout(predicate::str::contains("     0 a "))
        .stdout(predicate::str::contains("    25 z "));
    let json = common::json_stdout(mlp_in(root.path()).args(["eval", "letters.bin", "--json"]));
    assert_eq!(json["dataset"], "emnist-letters");
    assert_eq!(json["per_class"].as_array().unwrap().len(), 26);
    assert_eq!(json["per_class"][1]["name"], "b");
    let correct = json["correct"].as_u64().unwrap();
    assert!(correct > 31, "the letters' bands are learnable: {json}");

    mlp_in(root.path())
        .args([
            "show",
            "--dataset",
            "emnist-letters",
            "--labels",
            "--rows",
            "1",
            "--cols",
            "3",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("   0  1  2"))
        .stdout(predicate::str::contains("classes: 0=a, 1=b, 2=c, "));

    // predict reads upright images, as mlp holds them: image k of class k.
    let images: Vec<u8> = (0..3).flat_map(|k| upright(k, k, 26)).collect();
    let idx = common::idx_bytes(0x08, &[3, SIDE as u32, SIDE as u32], &images);
    std::fs::write(root.path().join("three.idx"), idx).unwrap();
    let json = common::json_stdout(mlp_in(root.path()).args(["predict", "letters.bin", "three.idx", "--json"]));
    for prediction in json["predictions"].as_array().unwrap() {
        let top = &prediction["top"][0];
        let class = top["class"].as_u64().unwrap() as u8;
        assert_eq!(top["name"], ((b'a' + class) as char).to_string());
    }
}

#[test]
fn kmnist_and_k49_train_and_evaluate_from_their_folders() {
    let root = tempfile::tempdir().unwrap();
    for (name, write) in [("kmnist", write_kmnist as fn(&Path, usize, usize)), ("k49", write_k49)] {
        let dir = root.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        write(&dir, 98, 49);
        let model = format!("{name}.bin");
        mlp_in(root.path())
            .args([
                "train",
                "--dataset",
                name,
                "--no-download",
                "--epochs",
                "1",
                "--hidden",
                "16",
            ])
            .args(["--batch-size", "7", "--quiet", "--out", &model])
            .assert()
            .success();
        let json = common::json_stdout(mlp_in(root.path()).args(["eval", &model, "--json"]));
        assert_eq!(json["dataset"], name);
        assert_eq!(json["samples"], 49);
        assert_eq!(json["classes"], KnownDataset::from_name(name).unwrap().classes().len());
    }
    mlp_in(root.path())
        .args(["eval", "kmnist.bin"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "kmnist.bin on the Kuzushiji-MNIST test set (49 samples)",
        ))
        .stdout(predicate::str::contains("     0 お "))
        .stdout(predicate::str::contains("     9 を "));
    mlp_in(root.path())
        .args(["eval", "k49.bin"])
        .assert()
        .success()
        .stdout(predicate::str::contains("    48 ゝ "));
    // A model of one set is not evaluated on another.
    mlp_in(root.path())
        .args(["eval", "kmnist.bin", "--dataset", "k49"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "kmnist.bin was trained on Kuzushiji-MNIST, so its outputs mean 0=お, 1=き,",
        ));
}

#[test]
fn the_help_lists_every_set_known_by_name() {
    for command in ["train", "download", "eval", "show"] {
        let output = common::mlp().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8(output.stdout).unwrap();
        for dataset in KnownDataset::ALL {
            assert!(
                help.contains(dataset.name()),
                "mlp {command} --help lacks {dataset}:\n{help}"
            );
        }
    }
    common::mlp()
        .args(["fetch", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("emnist-byclass"));
}
