//! Kuzushiji-MNIST (KMNIST) and Kuzushiji-49 (K49), cursive Japanese characters from CODH
//! (github:rois-codh/kmnist), 28x28 grey.
//!
//! KMNIST is four gzip'd IDX files under MNIST's names, 60,000 + 10,000 images of 10 hiragana;
//! torchvision's KMNIST class pins each file's MD5 and TensorFlow Datasets' kmnist checksums file
//! its length and SHA-256. K49 is four npz files of one array `arr_0` each, 232,365 + 38,547
//! images of 48 hiragana and the iteration mark ゝ; their lengths and MD5s are the ones Mila's
//! DataLad copy (github:datasets-mila/datasets--kmnist) recorded fetching them from CODH (neither
//! torchvision nor TensorFlow Datasets has K49). data/README.md cites each file.
//!
//! The class names are the characters of the publisher's kmnist_classmap.csv and k49_classmap.csv
//! (`index,codepoint,char` rows); the tests rebuild both files from these names and match the
//! lengths and MD5s Mila recorded for them.

use super::{Check, PublishedFile};

/// CODH's own server, the only one torchvision and TensorFlow Datasets know (HTTP only: the
/// checksums guard the content).
pub(super) const KMNIST_MIRRORS: [&str; 1] = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"];
pub(super) const K49_MIRRORS: [&str; 1] = ["http://codh.rois.ac.jp/kmnist/dataset/k49/"];

const fn published(name: &'static str, len: u64, md5: &'static str, sha256: Option<&'static str>) -> PublishedFile {
    PublishedFile {
        name,
        check: Check::Published { len, md5, sha256 },
    }
}

pub(super) const KMNIST_FILES: [PublishedFile; 4] = [
    published(
        "train-images-idx3-ubyte.gz",
        18_165_135,
        "bdb82020997e1d708af4cf47b453dcf7",
        Some("51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4"),
    ),
    published(
        "train-labels-idx1-ubyte.gz",
        29_497,
        "e144d726b3acfaa3e44228e80efcd344",
        Some("e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17"),
    ),
    published(
        "t10k-images-idx3-ubyte.gz",
        3_041_136,
        "5c965bf0a639b31b8f53240b1b52f4d7",
        Some("edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5"),
    ),
    published(
        "t10k-labels-idx1-ubyte.gz",
        5_120,
        "7320c461ea6c1c855c0b718fb2a4b134",
        Some("20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"),
    ),
];

pub(super) const K49_FILES: [PublishedFile; 4] = [
    published(
        "k49-train-imgs.npz",
        66_117_696,
        "7ac088b20481cf51dcd01ceaab89d821",
        None,
    ),
    published(
        "k49-train-labels.npz",
        164_485,
        "44a8e1b893f81e63ff38d73cad420f7a",
        None,
    ),
    published(
        "k49-test-imgs.npz",
        10_971_201,
        "d352e201d846ce6b94f42c990966f374",
        None,
    ),
    published("k49-test-labels.npz", 27_450, "4da6f7a62e67a832d5eb1bd85c5ee448", None),
];

/// kmnist_classmap.csv: one hiragana for each row of the syllabary but ん.
pub(super) const KMNIST_CLASSES: [&str; 10] = ["お", "き", "す", "つ", "な", "は", "ま", "や", "れ", "を"];

/// k49_classmap.csv: the hiragana in syllabary order, with the obsolete ゐ and ゑ, then ん and the
/// iteration mark ゝ.
pub(super) const K49_CLASSES: [&str; 49] = [
    "あ", "い", "う", "え", "お", "か", "き", "く", "け", "こ", "さ", "し", "す", "せ", "そ", "た", "ち", "つ", "て",
    "と", "な", "に", "ぬ", "ね", "の", "は", "ひ", "ふ", "へ", "ほ", "ま", "み", "む", "め", "も", "や", "ゆ", "よ",
    "ら", "り", "る", "れ", "ろ", "わ", "ゐ", "ゑ", "を", "ん", "ゝ",
];

#[cfg(test)]
mod tests {
    use md5::{Digest, Md5};

    use super::*;

    /// The publisher's class map as its rows read: `index,codepoint,char`.
    fn classmap(names: &[&str]) -> Vec<u8> {
        let mut csv = String::from("index,codepoint,char\n");
        for (k, name) in names.iter().enumerate() {
            let code = name.chars().next().expect("a class name is one character") as u32;
            csv += &format!("{k},U+{code:04X},{name}\n");
        }
        csv.into_bytes()
    }

    fn md5_hex(bytes: &[u8]) -> String {
        Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The lengths and MD5s are the git-annex keys of kmnist_classmap.csv and k49_classmap.csv in
    /// github:datasets-mila/datasets--kmnist (MD5E-s151--899202f6... and MD5E-s697--f7d0d039...),
    /// fetched from codh.rois.ac.jp/kmnist/dataset/{kmnist,k49}/.
    #[test]
    fn the_class_names_rebuild_the_publishers_class_maps_byte_for_byte() {
        let kmnist = classmap(&KMNIST_CLASSES);
        assert_eq!(
            (kmnist.len(), md5_hex(&kmnist).as_str()),
            (151, "899202f6e8dc29a321ac210a03d0f2f1")
        );
        let k49 = classmap(&K49_CLASSES);
        assert_eq!(
            (k49.len(), md5_hex(&k49).as_str()),
            (697, "f7d0d0391f68bdf0fe4cf160ceb85753")
        );
    }
}
