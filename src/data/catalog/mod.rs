//! The data sets mlp knows by name (`--dataset`): their class names, where they live by default,
//! the files they are published as with what pins each one's content, the mirrors they can be
//! downloaded from, and how the files hold the splits (`Layout`); and a data set's identity
//! (`DatasetId`), which is one of these or a set read from files. One file per family: `mnist`
//! (MNIST, Fashion-MNIST), `kuzushiji` (KMNIST, K49), `emnist` (the six EMNIST sets).

mod emnist;
mod kuzushiji;
mod mnist;

use std::fmt;

use serde::{Deserialize, Serialize};

use super::classes::Classes;
use super::split::Split;
pub use emnist::EmnistSplit;

/// A data set known by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownDataset {
    /// LeCun, Cortes and Burges' handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST: photos of ten kinds of clothing in MNIST's format.
    FashionMnist,
    /// Kuzushiji-MNIST: ten cursive hiragana in MNIST's format.
    Kmnist,
    /// Kuzushiji-49: 49 cursive hiragana, in npz files.
    K49,
    /// One of the six EMNIST sets, all in one archive.
    Emnist(EmnistSplit),
}

/// One file as its publisher put it on the mirrors, and what its content must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedFile {
    /// For an `IdxContent` check, the IDX file's name (published as `{name}.gz`, found raw too);
    /// otherwise the name as published, under which it is stored.
    pub name: &'static str,
    pub check: Check,
}

/// What pins a published file's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The length and SHA-256 (lower-case hex) of the decompressed IDX content, so a mirror that
    /// re-compressed the data still verifies (MNIST, Fashion-MNIST).
    IdxContent { idx_len: u64, sha256: &'static str },
    /// The length and MD5 of the bytes as published, and their SHA-256 where a source pins one.
    Published {
        len: u64,
        md5: &'static str,
        sha256: Option<&'static str>,
    },
}

impl PublishedFile {
    /// The name of the file on a mirror.
    pub fn published_name(&self) -> String {
        match self.check {
            Check::IdxContent { .. } => format!("{}.gz", self.name),
            Check::Published { .. } => self.name.to_owned(),
        }
    }
}

/// How a known set's files hold its two splits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Four IDX files under MNIST's names: `train-images-idx3-ubyte`, ... (raw or `.gz`).
    MnistIdx,
    /// Four npz files of one array `arr_0` each: `k49-train-imgs.npz`, `k49-train-labels.npz`, ...
    NpzArrays,
    /// The EMNIST archive, whose members hold each set's IDX files.
    EmnistArchive(EmnistSplit),
}

impl KnownDataset {
    pub const ALL: [KnownDataset; 10] = [
        Self::Mnist,
        Self::FashionMnist,
        Self::Kmnist,
        Self::K49,
        Self::Emnist(EmnistSplit::Digits),
        Self::Emnist(EmnistSplit::Letters),
        Self::Emnist(EmnistSplit::Balanced),
        Self::Emnist(EmnistSplit::ByClass),
        Self::Emnist(EmnistSplit::ByMerge),
        Self::Emnist(EmnistSplit::Mnist),
    ];

    /// The name used by `--dataset` and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
            Self::Kmnist => "kmnist",
            Self::K49 => "k49",
            Self::Emnist(EmnistSplit::Digits) => "emnist-digits",
            Self::Emnist(EmnistSplit::Letters) => "emnist-letters",
            Self::Emnist(EmnistSplit::Balanced) => "emnist-balanced",
            Self::Emnist(EmnistSplit::ByClass) => "emnist-byclass",
            Self::Emnist(EmnistSplit::ByMerge) => "emnist-bymerge",
            Self::Emnist(EmnistSplit::Mnist) => "emnist-mnist",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The name as its authors spell it, for messages.
    pub fn title(self) -> &'static str {
        match self {
            Self::Mnist => "MNIST",
            Self::FashionMnist => "Fashion-MNIST",
            Self::Kmnist => "Kuzushiji-MNIST",
            Self::K49 => "Kuzushiji-49",
            Self::Emnist(split) => split.title(),
        }
    }

    /// What label `k` means, for each k.
    pub fn class_names(self) -> &'static [&'static str] {
        match self {
            Self::Mnist => &mnist::DIGITS,
            Self::FashionMnist => &mnist::CLOTHING,
            Self::Kmnist => &kuzushiji::KMNIST_CLASSES,
            Self::K49 => &kuzushiji::K49_CLASSES,
            Self::Emnist(split) => split.class_names(),
        }
    }

    /// The data set's classes: as many as its names.
    pub fn classes(self) -> Classes {
        Classes::named(self.class_names().iter().map(|&n| n.to_owned()).collect())
    }

    /// The folder under a data root that holds this data set's files; MNIST, the default, sits in
    /// the root itself, and the six EMNIST sets share the folder of their archive.
    pub fn subdir(self) -> Option<&'static str> {
        match self {
            Self::Mnist => None,
            Self::FashionMnist => Some("fashion-mnist"),
            Self::Kmnist => Some("kmnist"),
            Self::K49 => Some("k49"),
            Self::Emnist(_) => Some("emnist"),
        }
    }

    pub fn layout(self) -> Layout {
        match self {
            Self::Mnist | Self::FashionMnist | Self::Kmnist => Layout::MnistIdx,
            Self::K49 => Layout::NpzArrays,
            Self::Emnist(split) => Layout::EmnistArchive(split),
        }
    }

    /// Every file the data set is published as: training images and labels then test images and
    /// labels, or EMNIST's one archive.
    pub fn files(self) -> &'static [PublishedFile] {
        match self {
            Self::Mnist => &mnist::MNIST_FILES,
            Self::FashionMnist => &mnist::FASHION_MNIST_FILES,
            Self::Kmnist => &kuzushiji::KMNIST_FILES,
            Self::K49 => &kuzushiji::K49_FILES,
            Self::Emnist(_) => &emnist::ARCHIVE,
        }
    }

    /// The files that hold `split`: its images and labels, or EMNIST's archive.
    pub fn split_files(self, split: Split) -> &'static [PublishedFile] {
        if let Layout::EmnistArchive(_) = self.layout() {
            return self.files();
        }
        let (train, test) = self.files().split_at(2);
        match split {
            Split::Train => train,
            Split::Test => test,
        }
    }

    /// Base URLs to download from, in the order they are tried; each ends with `/`.
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            Self::Mnist => &mnist::MNIST_MIRRORS,
            Self::FashionMnist => &mnist::FASHION_MNIST_MIRRORS,
            Self::Kmnist => &kuzushiji::KMNIST_MIRRORS,
            Self::K49 => &kuzushiji::K49_MIRRORS,
            Self::Emnist(_) => &emnist::MIRRORS,
        }
    }
}

impl fmt::Display for KnownDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The inverse of `name`: `mnist`, `fashion-mnist`, `emnist-letters`, ...
impl std::str::FromStr for KnownDataset {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::from_name(text).ok_or_else(|| format!("unknown data set `{text}`"))
    }
}

/// Which data set: one known by name, whose catalog entry gives its classes, or one read from
/// files, whose labels give them (the largest + 1, named by their numbers).
///
/// Runs record it as JSON: a known set as its name (`"mnist"`, as files have always recorded it), a
/// set read from files as `{"files": NAME}`. Model files record the name alone (metadata `dataset`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "IdJson", try_from = "IdJson")]
pub enum DatasetId {
    Known(KnownDataset),
    /// Files read as they are, under a name of their own (a directory's or file's stem).
    Files(String),
}

impl DatasetId {
    /// `mnist`, `fashion-mnist`, or the files' name.
    pub fn name(&self) -> &str {
        match self {
            Self::Known(k) => k.name(),
            Self::Files(name) => name,
        }
    }

    /// The name as its authors spell it, for messages: `MNIST`, or the files' name.
    pub fn title(&self) -> &str {
        match self {
            Self::Known(k) => k.title(),
            Self::Files(name) => name,
        }
    }

    pub fn known(&self) -> Option<KnownDataset> {
        match self {
            Self::Known(k) => Some(*k),
            Self::Files(_) => None,
        }
    }

    /// The data set a model file names `name` with `classes`: the known one of that name when it
    /// has those very classes, else files of that name.
    pub fn of_model(name: &str, classes: &Classes) -> Self {
        match KnownDataset::from_name(name) {
            Some(known) if known.classes() == *classes => Self::Known(known),
            _ => Self::Files(name.to_owned()),
        }
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `DatasetId` as runs record it.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum IdJson {
    Known(String),
    Files { files: String },
}

impl From<DatasetId> for IdJson {
    fn from(id: DatasetId) -> Self {
        match id {
            DatasetId::Known(k) => Self::Known(k.name().to_owned()),
            DatasetId::Files(files) => Self::Files { files },
        }
    }
}

impl TryFrom<IdJson> for DatasetId {
    type Error = String;

    fn try_from(json: IdJson) -> Result<Self, String> {
        match json {
            IdJson::Known(name) => name.parse().map(Self::Known),
            IdJson::Files { files } => Ok(Self::Files(files)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_mirrors_are_base_urls() {
        for dataset in KnownDataset::ALL {
            assert_eq!(KnownDataset::from_name(dataset.name()), Some(dataset));
            assert!(dataset.mirrors().iter().all(|m| m.ends_with('/')));
            for file in dataset.files() {
                let (md5, sha256) = match file.check {
                    Check::IdxContent { sha256, .. } => (None, Some(sha256)),
                    Check::Published { md5, sha256, .. } => (Some(md5), sha256),
                };
                for (digest, digits) in [(md5, 32), (sha256, 64)] {
                    let Some(digest) = digest else { continue };
                    assert_eq!(digest.len(), digits, "{dataset} {}", file.name);
                    assert!(digest.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
                }
            }
            assert_eq!(
                dataset.split_files(Split::Train).len() + dataset.split_files(Split::Test).len(),
                { if dataset.files().len() == 1 { 2 } else { 4 } }
            );
        }
        assert_eq!(KnownDataset::from_name("cifar10"), None);
    }

    #[test]
    fn class_counts_are_the_published_ones() {
        let count = |name| KnownDataset::from_name(name).unwrap().classes().len();
        let counts = [
            "mnist",
            "kmnist",
            "k49",
            "emnist-letters",
            "emnist-balanced",
            "emnist-bymerge",
            "emnist-byclass",
        ]
        .map(count);
        assert_eq!(counts, [10, 10, 49, 26, 47, 47, 62]);
        assert_eq!(KnownDataset::Emnist(EmnistSplit::Letters).class_names()[0], "a");
        assert!(KnownDataset::Emnist(EmnistSplit::Digits).classes().are_numbered());
        for dataset in KnownDataset::ALL {
            let names = dataset.class_names();
            let distinct: std::collections::HashSet<_> = names.iter().collect();
            assert_eq!(
                distinct.len(),
                names.len(),
                "{dataset}: every class has a name of its own"
            );
        }
    }

    #[test]
    fn an_id_records_a_known_set_by_its_name_and_files_as_an_object() {
        let known = DatasetId::Known(KnownDataset::FashionMnist);
        assert_eq!(serde_json::to_string(&known).unwrap(), r#""fashion-mnist""#);
        let files = DatasetId::Files("shapes".to_owned());
        let json = serde_json::to_string(&files).unwrap();
        assert_eq!(json, r#"{"files":"shapes"}"#);
        assert_eq!(serde_json::from_str::<DatasetId>(&json).unwrap(), files);
        assert_eq!(serde_json::from_str::<DatasetId>(r#""mnist""#).unwrap().name(), "mnist");
        assert!(serde_json::from_str::<DatasetId>(r#""cifar10""#).is_err());

        let digits = KnownDataset::Mnist.classes();
        assert_eq!(
            DatasetId::of_model("mnist", &digits),
            DatasetId::Known(KnownDataset::Mnist)
        );
        let twenty = Classes::numbered(20);
        assert_eq!(
            DatasetId::of_model("mnist", &twenty),
            DatasetId::Files("mnist".to_owned())
        );
    }
}
