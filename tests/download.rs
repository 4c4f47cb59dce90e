//! Downloading against an HTTP server on 127.0.0.1 that each test starts, serving the real MNIST
//! files: success, a 404 on the first mirror, a truncated body, a corrupted body, a stalled server;
//! and serving tiny stand-ins for the files of the other sets known by name, checked by their
//! published bytes (a made-up catalog entry that they pass, the real ones that they fail). No test
//! here touches the internet.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::http::{Behaviour, TestServer};
use mlp::cli::data_dir;
use mlp::data::catalog::{Check, EmnistSplit, KnownDataset, PublishedFile};
use mlp::data::dataset::load_split;
use mlp::data::download::{DownloadConfig, DownloadError, DownloadObserver, Failure, download, inventory};
use mlp::data::source;
use mlp::data::split::Split;
use predicates::prelude::*;

/// Remembers what the download reported.
#[derive(Default)]
struct Record {
    started: Vec<String>,
    bytes: u64,
    failures: Vec<(String, String, Option<Duration>)>,
    done: Vec<PathBuf>,
}

impl DownloadObserver for Record {
    fn transfer_started(&mut self, _file: &str, url: &str, _size: Option<u64>) {
        self.started.push(url.to_owned());
    }

    fn received(&mut self, bytes: u64) {
        self.bytes += bytes;
    }

    fn transfer_failed(&mut self, url: &str, failure: &Failure, retry_in: Option<Duration>) {
        self.failures.push((url.to_owned(), failure.to_string(), retry_in));
    }

    fn file_done(&mut self, _file: &str, path: &Path) {
        self.done.push(path.to_owned());
    }
}

/// Settings for quick tests: the given mirrors, a short timeout, two tries with a tiny backoff.
fn quick(mirrors: &[&TestServer]) -> DownloadConfig {
    DownloadConfig {
        mirrors: mirrors.iter().map(|s| s.url.clone()).collect(),
        timeout: Duration::from_millis(300),
        attempts: 2,
        backoff: Duration::from_millis(10),
    }
}

/// MNIST's test labels: the smallest file (10 kB), for the failure cases.
fn test_labels() -> PublishedFile {
    KnownDataset::Mnist.split_files(Split::Test)[1]
}

/// Downloads MNIST's test labels into `dir` from `mirrors` with the `quick` settings.
fn download_labels(dir: &Path, mirrors: &[&TestServer], record: &mut Record) -> Result<Vec<PathBuf>, DownloadError> {
    download(KnownDataset::Mnist, &[test_labels()], dir, &quick(mirrors), record)
}

/// Names in `dir`: nothing may be left half-written, under a real name or a temporary one.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn downloads_verifies_and_stores_all_four_files() {
    let Some(mnist) = common::mnist_dir() else { return };
    let server = TestServer::start(mnist, &[Behaviour::Serve]);
    let target = tempfile::tempdir().unwrap();
    let dir = target.path().join("new/data");
    let mut record = Record::default();
    let files = KnownDataset::Mnist.files();
    let stored = download(KnownDataset::Mnist, files, &dir, &quick(&[&server]), &mut record).unwrap();

    assert_eq!(
        names_in(&dir),
        [
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz"
        ]
    );
    assert_eq!(stored, record.done);
    assert!(record.failures.is_empty(), "{:?}", record.failures);
    assert_eq!(server.requests(), 4);
    let on_disk: u64 = stored.iter().map(|p| fs::metadata(p).unwrap().len()).sum();
    assert_eq!(record.bytes, on_disk, "progress counts every byte received");
    assert_eq!(inventory(KnownDataset::Mnist, &dir).unwrap().missing, []);
    let test = load_split(&data_dir(Some(&dir), KnownDataset::Mnist), Split::Test).unwrap();
    assert_eq!(test.len(), 10_000);
}

#[test]
fn a_404_on_the_first_mirror_moves_on_to_the_second_at_once() {
    let Some(mnist) = common::mnist_dir() else { return };
    let missing = TestServer::start(mnist.clone(), &[Behaviour::NotFound]);
    let good = TestServer::start(mnist, &[Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let mut record = Record::default();
    download_labels(dir.path(), &[&missing, &good], &mut record).unwrap();

    let first_url = format!("{}t10k-labels-idx1-ubyte.gz", missing.url);
    assert_eq!(
        record.failures,
        [(
            first_url,
            "HTTP 404: the mirror does not have the file".to_owned(),
            None
        )],
        "a 404 is not retried"
    );
    assert_eq!((missing.requests(), good.requests()), (1, 1));
    assert_eq!(names_in(dir.path()), ["t10k-labels-idx1-ubyte.gz"]);
}

#[test]
fn a_truncated_body_is_retried_and_the_retry_succeeds() {
    let Some(mnist) = common::mnist_dir() else { return };
    let server = TestServer::start(mnist, &[Behaviour::Truncate(1000), Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();
    let mut record = Record::default();
    download_labels(dir.path(), &[&server], &mut record).unwrap();
    assert_eq!(record.failures.len(), 1);
    let (_, failure, retry_in) = &record.failures[0];
    assert!(
        failure.starts_with("truncated: the connection closed after 1000 of "),
        "{failure}"
    );
    assert_eq!(*retry_in, Some(Duration::from_millis(10)));
    assert_eq!(names_in(dir.path()), ["t10k-labels-idx1-ubyte.gz"]);
}

#[test]
fn a_body_always_cut_short_fails_naming_the_mirror_and_leaves_nothing() {
    let Some(mnist) = common::mnist_dir() else { return };
    let server = TestServer::start(mnist, &[Behaviour::Truncate(1000)]);
    let dir = tempfile::tempdir().unwrap();
    let error = download_labels(dir.path(), &[&server], &mut Record::default()).unwrap_err();
    assert!(matches!(error, DownloadError::AllMirrorsFailed { .. }));
    let message = error.to_string();
    let expected = format!(
        "could not download MNIST's t10k-labels-idx1-ubyte.gz from any mirror:\n    \
         {}t10k-labels-idx1-ubyte.gz: truncated: the connection closed after 1000 of ",
        server.url
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains(" bytes (2 tries)\n"), "{message}");
    assert_eq!(server.requests(), 2);
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_corrupted_body_fails_the_checksum_is_not_kept_and_the_next_mirror_serves() {
    let Some(mnist) = common::mnist_dir() else { return };
    let corrupt = TestServer::start(mnist.clone(), &[Behaviour::Corrupt]);
    let good = TestServer::start(mnist, &[Behaviour::Serve]);
    let dir = tempfile::tempdir().unwrap();

    let error = download_labels(dir.path(), &[&corrupt], &mut Record::default()).unwrap_err();
    assert!(error.to_string().contains(": corrupt: "), "{error}");
    assert_eq!(
        corrupt.requests(),
        1,
        "corrupt content is not retried on the same mirror"
    );
    assert_eq!(names_in(dir.path()), Vec::<String>::new());

    let mut record = Record::default();
    download_labels(dir.path(), &[&corrupt, &good], &mut record).unwrap();
    assert_eq!(record.failures.len(), 1);
    assert!(record.failures[0].1.starts_with("corrupt: "), "{:?}", record.failures);
    assert_eq!(names_in(dir.path()), ["t10k-labels-idx1-ubyte.gz"]);
}

#[test]
fn a_stalled_server_times_out_quickly_and_is_named() {
    let Some(mnist) = common::mnist_dir() else { return };
    let stalled = TestServer::start(mnist, &[Behaviour::Stall]);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let error = download_labels(dir.path(), &[&stalled], &mut Record::default()).unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "{}t10k-labels-idx1-ubyte.gz: timed out: no data for 0.3 s (2 tries)",
            stalled.url
        )),
        "{message}"
    );
    assert_eq!(stalled.requests(), 2);
    // Two waits of 0.3 s and a 10 ms backoff; the bound only guards against a hang.
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    assert_eq!(names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn mlp_download_fetches_then_verifies_what_is_there() {
    let Some(mnist) = common::mnist_dir() else { return };
    let server = TestServer::start(mnist, &[Behaviour::Serve]);
    let work = tempfile::tempdir().unwrap();
    common::mlp()
        .current_dir(work.path())
        .args(["download", "--dir", "mnist", "--mirror", &server.url])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "stored mnist/train-images-idx3-ubyte.gz (checksum verified)",
        ))
        .stdout(predicate::str::contains("MNIST is complete in mnist"));
    assert_eq!(server.requests(), 4);

    common::mlp()
        .current_dir(work.path())
        .env("MLP_MIRROR", &server.url)
        .args(["download", "--dir", "mnist"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "mnist/t10k-labels-idx1-ubyte.gz is there and verified",
        ));
    assert_eq!(server.requests(), 4, "nothing is downloaded twice");

    // A file that is not the published one is reported, not replaced.
    let labels = work.path().join("mnist/t10k-labels-idx1-ubyte.gz");
    fs::write(&labels, common::gzip(&common::idx_bytes(0x08, &[1], &[3]))).unwrap();
    common::mlp()
        .current_dir(work.path())
        .args(["download", "--dir", "mnist", "--mirror", &server.url])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "error: mnist/t10k-labels-idx1-ubyte.gz is already there but is not MNIST's t10k-labels-idx1-ubyte",
        ));
}

#[test]
fn mlp_download_reports_each_mirror_that_failed_and_exits_3() {
    let Some(mnist) = common::mnist_dir() else { return };
    let missing = TestServer::start(mnist.clone(), &[Behaviour::NotFound]);
    let stalled = TestServer::start(mnist, &[Behaviour::Stall]);
    let work = tempfile::tempdir().unwrap();
    let mirrors = format!("{},{}", missing.url, stalled.url);
    common::mlp()
        .current_dir(work.path())
        .env("MLP_MIRROR", &mirrors)
        .args(["download", "--dir", "d", "--timeout", "0.2", "--retries", "0"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "error: could not download MNIST's train-images-idx3-ubyte.gz from any mirror:\n    \
             {0}train-images-idx3-ubyte.gz: HTTP 404: the mirror does not have the file\n    \
             {1}train-images-idx3-ubyte.gz: timed out: no data for 0.2 s\n  \
             try again later, give a working mirror with --mirror URL or MLP_MIRROR, or put the file in d yourself",
            missing.url, stalled.url
        )));
    assert_eq!(names_in(&work.path().join("d")), Vec::<String>::new());
}

#[test]
fn train_downloads_missing_files_unless_told_not_to() {
    let Some(mnist) = common::mnist_dir() else { return };
    let server = TestServer::start(mnist, &[Behaviour::Serve]);
    let work = tempfile::tempdir().unwrap();
    common::mlp()
        .current_dir(work.path())
        .args(["train", "--no-download", "--epochs", "1"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "MNIST train files not found in data (the default data directory)",
        ));
    assert_eq!(server.requests(), 0);

    common::mlp()
        .current_dir(work.path())
        .env("MLP_MIRROR", &server.url)
        .args(["train", "--steps", "20", "--hidden", "16", "--quiet"])
        .assert()
        .success();
    assert_eq!(server.requests(), 4);
    assert_eq!(
        names_in(&work.path().join("data")),
        [
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz"
        ]
    );
    assert!(work.path().join("model.bin").is_file());
}

#[test]
fn bad_download_flags_are_usage_errors() {
    let work = tempfile::tempdir().unwrap();
    for (args, says) in [
        (
            vec!["--mirror", "ftp://example.org/"],
            "--mirror `ftp://example.org/` (or MLP_MIRROR) is not an http:// or https:// address",
        ),
        (
            vec!["--mirror", "http://"],
            "--mirror `http://` (or MLP_MIRROR) is not an http://",
        ),
        (
            vec!["--timeout", "0"],
            "invalid value '0' for '--timeout <SECONDS>': must be a finite number greater than 0",
        ),
        (
            vec!["--retries", "11"],
            "invalid value '11' for '--retries <N>': 11 is not in 0..=10",
        ),
        (
            vec!["--dataset", "cifar10"],
            "invalid value 'cifar10' for '--dataset <DATASET>'",
        ),
    ] {
        common::mlp()
            .current_dir(work.path())
            .arg("download")
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
    assert_eq!(names_in(work.path()), Vec::<String>::new());
}

/// A made-up catalog entry for the file at `path`: its name there, its length, MD5 and SHA-256.
fn pinned(name: &'static str, path: &Path) -> PublishedFile {
    let (len, md5, sha256) = common::named::digests(path);
    PublishedFile {
        name,
        check: Check::Published {
            len,
            md5: md5.leak(),
            sha256: Some(sha256.leak()),
        },
    }
}

#[test]
fn a_published_archive_is_checked_by_its_bytes_stored_under_its_name_and_serves_every_set() {
    let served = tempfile::tempdir().unwrap();
    let archive = served.path().join("gzip.zip");
    common::named::write_emnist_archive(&archive, &[("letters", 26, 1), ("balanced", 47, 0)], 52, 26);
    let server = TestServer::start(served.path().to_owned(), &[Behaviour::Serve]);
    let target = tempfile::tempdir().unwrap();
    let mut record = Record::default();
    let letters = KnownDataset::Emnist(EmnistSplit::Letters);
    let file = pinned("gzip.zip", &archive);
    let stored = download(letters, &[file], target.path(), &quick(&[&server]), &mut record).unwrap();
    assert_eq!(stored, [target.path().join("gzip.zip")]);
    assert_eq!(names_in(target.path()), ["gzip.zip"]);
    for set in [letters, KnownDataset::Emnist(EmnistSplit::Balanced)] {
        let test = source::load(&data_dir(Some(target.path()), set), Split::Test, None).unwrap();
        assert_eq!(test.len(), 26);
    }
    assert_eq!(server.requests(), 1, "one download serves both sets");
}

#[test]
fn a_published_file_of_other_bytes_fails_naming_the_file_and_leaves_nothing() {
    let served = tempfile::tempdir().unwrap();
    let archive = served.path().join("gzip.zip");
    common::named::write_emnist_archive(&archive, &[("letters", 26, 1)], 10, 5);
    let server = TestServer::start(served.path().to_owned(), &[Behaviour::Serve]);
    let (len, md5, sha256) = common::named::digests(&archive);
    let letters = KnownDataset::Emnist(EmnistSplit::Letters);
    let dir = tempfile::tempdir().unwrap();
    let expect = |pin: PublishedFile, failure: String| {
        let error = download(letters, &[pin], dir.path(), &quick(&[&server]), &mut Record::default()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "could not download EMNIST Letters's gzip.zip from any mirror:\n    {}gzip.zip: {failure}\n  \
                 try again later, give a working mirror with --mirror URL or MLP_MIRROR, or put the file in {} yourself",
                server.url,
                dir.path().display()
            )
        );
        assert_eq!(names_in(dir.path()), Vec::<String>::new());
    };
    let wrong_md5 = PublishedFile {
        name: "gzip.zip",
        check: Check::Published {
            len,
            md5: "00000000000000000000000000000000",
            sha256: None,
        },
    };
    expect(
        wrong_md5,
        format!("corrupt: the file ({len} bytes, MD5 {md5}) is not the published file"),
    );
    let shorter = PublishedFile {
        name: "gzip.zip",
        check: Check::Published {
            len: len - 1,
            md5: md5.clone().leak(),
            sha256: Some(sha256.leak()),
        },
    };
    expect(
        shorter,
        format!("the response is larger than {} bytes; not this file", len - 1),
    );
}

/// Serves tiny stand-ins for `dataset`'s files under their real names from a fresh directory.
fn stand_ins(write: impl FnOnce(&Path)) -> (tempfile::TempDir, TestServer) {
    let served = tempfile::tempdir().unwrap();
    write(served.path());
    let server = TestServer::start(served.path().to_owned(), &[Behaviour::Serve]);
    (served, server)
}

#[test]
fn mlp_download_of_a_named_set_refuses_files_that_are_not_the_published_ones() {
    let work = tempfile::tempdir().unwrap();
    let (served, server) = stand_ins(|dir| common::named::write_kmnist(dir, 20, 10));
    let (len, md5, sha256) = common::named::digests(&served.path().join("train-images-idx3-ubyte.gz"));
    common::mlp()
        .current_dir(work.path())
        .args([
            "download",
            "--dataset",
            "kmnist",
            "--retries",
            "0",
            "--mirror",
            &server.url,
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "error: could not download Kuzushiji-MNIST's train-images-idx3-ubyte.gz from any mirror:\n    \
             {}train-images-idx3-ubyte.gz: corrupt: the file ({len} bytes, MD5 {md5}, SHA-256 {sha256}) is not \
             the published file\n",
            server.url
        )));
    assert_eq!(names_in(&work.path().join("data/kmnist")), Vec::<String>::new());

    // One already there that is not the published file is reported, not replaced.
    let kmnist = work.path().join("data/kmnist");
    std::fs::copy(
        served.path().join("t10k-labels-idx1-ubyte.gz"),
        kmnist.join("t10k-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    common::mlp()
        .current_dir(work.path())
        .args(["download", "--dataset", "kmnist", "--mirror", &server.url])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(
            "error: data/kmnist/t10k-labels-idx1-ubyte.gz is already there but is not Kuzushiji-MNIST's \
             t10k-labels-idx1-ubyte.gz (corrupt: the file (",
        ));

    // The EMNIST archive, fetched through the `fetch` alias, and K49 when training finds it missing.
    let (_emnist, emnist_server) =
        stand_ins(|dir| common::named::write_emnist_archive(&dir.join("gzip.zip"), &[("letters", 26, 1)], 10, 5));
    common::mlp()
        .current_dir(work.path())
        .args([
            "fetch",
            "--dataset",
            "emnist-letters",
            "--retries",
            "0",
            "--mirror",
            &emnist_server.url,
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains(format!(
            "error: could not download EMNIST Letters's gzip.zip from any mirror:\n    {}gzip.zip: corrupt: the file (",
            emnist_server.url
        )));
    let (_k49, k49_server) = stand_ins(|dir| common::named::write_k49(dir, 49, 49));
    common::mlp()
        .current_dir(work.path())
        .args([
            "train",
            "--dataset",
            "k49",
            "--retries",
            "0",
            "--mirror",
            &k49_server.url,
        ])
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "Kuzushiji-49 train files not found in data/k49 (the default data directory); downloading them",
        ))
        .stderr(predicate::str::contains(format!(
            "error: could not download Kuzushiji-49's k49-train-imgs.npz from any mirror:\n    \
             {}k49-train-imgs.npz: corrupt: the file (",
            k49_server.url
        )));
    for set in ["emnist", "k49"] {
        assert_eq!(names_in(&work.path().join("data").join(set)), Vec::<String>::new());
    }
}
