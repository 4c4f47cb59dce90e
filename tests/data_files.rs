//! `--data FILE.npz`: real MNIST written as Keras's and MedMNIST's npz layouts trains, evaluates
//! and reports exactly as from its IDX files.

mod common;

use common::npz::{images3, mnist_split, write_npz};
use ndarray::{Array1, Array2};
use predicates::prelude::*;

#[test]
fn mnist_as_keras_and_medmnist_npz_trains_to_the_same_model_as_from_idx() {
    let Some(dir) = common::mnist_dir() else { return };
    let work = tempfile::tempdir().unwrap();
    let (train, train_labels) = mnist_split(&dir, "train");
    let (test, test_labels) = mnist_split(&dir, "t10k");
    let keras = work.path().join("mnist.npz");
    write_npz(&keras, false, |npz| {
        npz.add_array("x_train", &images3(&train))?;
        npz.add_array("y_train", &Array1::from(train_labels.clone()))?;
        npz.add_array("x_test", &images3(&test))?;
        npz.add_array("y_test", &Array1::from(test_labels.clone()))
    });
    // MedMNIST's layout: (N, 1) int64 labels, deflated, with a validation split.
    let medmnist = work.path().join("digitmnist.npz");
    let column = |labels: &[u8]| Array2::from_shape_fn((labels.len(), 1), |(i, _)| i64::from(labels[i]));
    write_npz(&medmnist, true, |npz| {
        npz.add_array("train_images", &images3(&train))?;
        npz.add_array("train_labels", &column(&train_labels))?;
        npz.add_array("val_images", &images3(&test.slice(ndarray::s![..10, ..]).to_owned()))?;
        npz.add_array("val_labels", &column(&test_labels[..10]))?;
        npz.add_array("test_images", &images3(&test))?;
        npz.add_array("test_labels", &column(&test_labels))
    });

    let recipe = ["--steps", "300", "--quiet"];
    let from_idx = common::train_json(&dir, &work.path().join("idx.bin"), &recipe);
    for (file, name) in [(&keras, "mnist"), (&medmnist, "digitmnist")] {
        let model = work.path().join(format!("{name}.bin"));
        let json = common::json_stdout(
            common::mlp()
                .args(["train", "--json", "--steps", "300", "--quiet", "--data"])
                .arg(file)
                .arg("--out")
                .arg(&model),
        );
        let tested =
            |report: &serde_json::Value| report["history"].as_array().unwrap().last().unwrap()["test_accuracy"].clone();
        assert_eq!(tested(&json), tested(&from_idx), "{name}: {json}");
        assert!(tested(&json)["correct"].as_u64().unwrap() > 8_500, "{name}: {json}");
        assert_eq!(
            common::history_without_times(&json),
            common::history_without_times(&from_idx),
            "{name}: the same run, epoch by epoch"
        );
        // eval reads the file the run recorded, and agrees.
        let eval = common::json_stdout(common::mlp().args(["eval", "--json"]).arg(&model));
        assert_eq!(eval["correct"], tested(&json)["correct"], "{name}: {eval}");
        common::mlp()
            .args(["info"])
            .arg(&model)
            .assert()
            .success()
            .stdout(predicate::str::contains(name));
    }
}

#[test]
fn a_missing_or_broken_npz_is_a_data_error_naming_it() {
    let work = tempfile::tempdir().unwrap();
    let broken = work.path().join("broken.npz");
    std::fs::write(&broken, b"not a zip at all").unwrap();
    for (path, says) in [
        (work.path().join("absent.npz"), "absent.npz"),
        (broken.clone(), "broken.npz: not an npz file"),
    ] {
        common::mlp()
            .args(["train", "--steps", "1", "--data"])
            .arg(&path)
            .arg("--out")
            .arg(work.path().join("m.bin"))
            .assert()
            .code(3)
            .stderr(predicate::str::contains(says));
    }
}
