//! MNIST and Fashion-MNIST: four gzip'd IDX files each under the same names and sizes (28x28
//! images, 60,000 for training and 10,000 for testing, labels 0-9); only the content and meaning
//! differ. Their pins are the SHA-256 of the decompressed IDX content, so a mirror that
//! re-compressed the data still verifies.

use super::{Check, PublishedFile};

/// Header bytes plus pixels: 60,000 and 10,000 images of 28x28, labels of one byte.
const TRAIN_IMAGES_LEN: u64 = 16 + 60_000 * 28 * 28;
const TRAIN_LABELS_LEN: u64 = 8 + 60_000;
const TEST_IMAGES_LEN: u64 = 16 + 10_000 * 28 * 28;
const TEST_LABELS_LEN: u64 = 8 + 10_000;

const fn file(name: &'static str, idx_len: u64, sha256: &'static str) -> PublishedFile {
    PublishedFile {
        name,
        check: Check::IdxContent { idx_len, sha256 },
    }
}

const fn published(sha256s: [&'static str; 4]) -> [PublishedFile; 4] {
    [
        file("train-images-idx3-ubyte", TRAIN_IMAGES_LEN, sha256s[0]),
        file("train-labels-idx1-ubyte", TRAIN_LABELS_LEN, sha256s[1]),
        file("t10k-images-idx3-ubyte", TEST_IMAGES_LEN, sha256s[2]),
        file("t10k-labels-idx1-ubyte", TEST_LABELS_LEN, sha256s[3]),
    ]
}

pub(super) const MNIST_FILES: [PublishedFile; 4] = published([
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
]);

pub(super) const FASHION_MNIST_FILES: [PublishedFile; 4] = published([
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
]);

/// MNIST's mirrors: the one torchvision uses (LeCun's own site no longer serves the files reliably),
/// then the one TensorFlow's datasets use.
pub(super) const MNIST_MIRRORS: [&str; 2] = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
];

/// Fashion-MNIST's official site (used by torchvision and TensorFlow's datasets; HTTP only, the
/// checksums guard the content), then the copy Keras downloads from.
pub(super) const FASHION_MNIST_MIRRORS: [&str; 2] = [
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
];

pub(super) const DIGITS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

pub(super) const CLOTHING: [&str; 10] = [
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
