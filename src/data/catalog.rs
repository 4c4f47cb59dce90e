//! The data sets mlp knows by name (`--dataset`): their class names, where they live by default, the
//! four files they are published as, the SHA-256 of each file's decompressed IDX content, and the
//! mirrors they can be downloaded from; and a data set's identity (`DatasetId`), which is one of
//! these or a set read from files.
//!
//! The checksums are of the IDX bytes, not of the `.gz` files, so a mirror that re-compressed the
//! data still verifies. MNIST and Fashion-MNIST share file names, format and sizes (28x28 images,
//! 60,000 for training and 10,000 for testing, labels 0-9); only the content and meaning differ.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::classes::Classes;
use super::split::Split;

/// A data set known by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownDataset {
    /// LeCun, Cortes and Burges' handwritten digits.
    Mnist,
    /// Zalando's Fashion-MNIST: photos of ten kinds of clothing in MNIST's format.
    FashionMnist,
}

/// One file as published: `{name}.gz` on every mirror, `name` once decompressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublishedFile {
    pub name: &'static str,
    /// Length of the decompressed IDX content in bytes.
    pub idx_len: u64,
    /// SHA-256 (lower-case hex) of the decompressed IDX content.
    pub sha256: &'static str,
}

impl PublishedFile {
    /// The name of the compressed file on a mirror.
    pub fn gz_name(&self) -> String {
        format!("{}.gz", self.name)
    }
}

/// Header bytes plus pixels: 60,000 and 10,000 images of 28x28, labels of one byte.
const TRAIN_IMAGES_LEN: u64 = 16 + 60_000 * 28 * 28;
const TRAIN_LABELS_LEN: u64 = 8 + 60_000;
const TEST_IMAGES_LEN: u64 = 16 + 10_000 * 28 * 28;
const TEST_LABELS_LEN: u64 = 8 + 10_000;

const fn published(sha256s: [&'static str; 4]) -> [PublishedFile; 4] {
    [
        PublishedFile {
            name: "train-images-idx3-ubyte",
            idx_len: TRAIN_IMAGES_LEN,
            sha256: sha256s[0],
        },
        PublishedFile {
            name: "train-labels-idx1-ubyte",
            idx_len: TRAIN_LABELS_LEN,
            sha256: sha256s[1],
        },
        PublishedFile {
            name: "t10k-images-idx3-ubyte",
            idx_len: TEST_IMAGES_LEN,
            sha256: sha256s[2],
        },
        PublishedFile {
            name: "t10k-labels-idx1-ubyte",
            idx_len: TEST_LABELS_LEN,
            sha256: sha256s[3],
        },
    ]
}

const MNIST_FILES: [PublishedFile; 4] = published([
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
]);

const FASHION_MNIST_FILES: [PublishedFile; 4] = published([
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
]);

/// MNIST's mirrors: the one torchvision uses (LeCun's own site no longer serves the files reliably),
/// then the one TensorFlow's datasets use.
const MNIST_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Fashion-MNIST's official site (used by torchvision and TensorFlow's datasets; HTTP only, the
/// checksums guard the content), then the copy Keras downloads from.
const FASHION_MNIST_MIRRORS: [&str; 2] = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
];

/// The classes of both known data sets: ten.
const CLASSES: usize = 10;

const DIGITS: [&str; CLASSES] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

const CLOTHING: [&str; CLASSES] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

impl KnownDataset {
    pub const ALL: [KnownDataset; 2] = [Self::Mnist, Self::FashionMnist];

    /// The name used by `--dataset` and in model files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::FashionMnist => "fashion-mnist",
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
        }
    }

    /// What label `k` means, for each k.
    pub fn class_names(self) -> &'static [&'static str] {
        match self {
            Self::Mnist => &DIGITS,
            Self::FashionMnist => &CLOTHING,
        }
    }

    /// The data set's classes: as many as its names.
    pub fn classes(self) -> Classes {
        Classes::named(self.class_names().iter().map(|&n| n.to_owned()).collect())
    }

    /// The folder under a data root that holds this data set's files; MNIST, the default, sits in
    /// the root itself.
    pub fn subdir(self) -> Option<&'static str> {
        match self {
            Self::Mnist => None,
            Self::FashionMnist => Some("fashion-mnist"),
        }
    }

    /// The four files, training images and labels then test images and labels.
    pub fn files(self) -> &'static [PublishedFile; 4] {
        match self {
            Self::Mnist => &MNIST_FILES,
            Self::FashionMnist => &FASHION_MNIST_FILES,
        }
    }

    /// The images and labels files of `split`.
    pub fn split_files(self, split: Split) -> &'static [PublishedFile] {
        let (train, test) = self.files().split_at(2);
        match split {
            Split::Train => train,
            Split::Test => test,
        }
    }

    /// Base URLs to download from, in the order they are tried; each ends with `/`.
    pub fn mirrors(self) -> &'static [&'static str] {
        match self {
            Self::Mnist => &MNIST_MIRRORS,
            Self::FashionMnist => &FASHION_MNIST_MIRRORS,
        }
    }
}

impl fmt::Display for KnownDataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The inverse of `name`: `mnist`, `fashion-mnist`.
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
                assert_eq!(file.sha256.len(), 64);
                assert!(
                    file.sha256
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                );
            }
        }
        assert_eq!(KnownDataset::from_name("cifar10"), None);
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
