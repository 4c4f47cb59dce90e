//! EMNIST (Cohen, Afshar, Tapson and van Schaik, 2017): handwritten digits and letters from NIST
//! Special Database 19 in MNIST's 28x28 format, published by NIST as one zip archive whose `gzip/`
//! folder holds six sets, each as four gzip'd IDX files
//! (`gzip/emnist-letters-train-images-idx3-ubyte.gz`, ...) and a `-mapping.txt` of label to
//! character codes. torchvision's EMNIST class pins the archive's MD5 and TensorFlow Datasets'
//! emnist checksums file its length and SHA-256.
//!
//! As published, every image is stored transposed (rows as columns: "inverted horizontally and
//! rotated 90 anti-clockwise", as TensorFlow Datasets puts it), and the letters set numbers its 26
//! classes 1-26 (upper and lower case merged). The class lists are torchvision's, and the archive's
//! `-mapping.txt` files (label, character code) give the same characters: byclass has digits, A-Z
//! and a-z; bymerge and balanced merge the 15 letters whose cases look alike (c i j k l m o p s u v
//! w x y z) into the capital.

use super::{Check, PublishedFile};

/// One of the six sets the archive holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmnistSplit {
    Digits,
    Letters,
    Balanced,
    ByClass,
    ByMerge,
    Mnist,
}

/// NIST's server, then the address torchvision and TensorFlow Datasets were written against.
pub(super) const MIRRORS: [&str; 2] = [
    "https://biometrics.nist.gov/cs_links/EMNIST/",
    "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/",
];

/// The archive, 536 MB, which serves all six sets.
pub(super) const ARCHIVE: [PublishedFile; 1] = [PublishedFile {
    name: "gzip.zip",
    check: Check::Published {
        len: 561_753_746,
        md5: "58c8d27c78d21e728a6bc7b3cc06412e",
        sha256: Some("fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e"),
    },
}];

const LETTERS: [&str; 26] = [
    "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w",
    "x", "y", "z",
];

/// Digits, A-Z, a-z.
const BY_CLASS: [&str; 62] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M",
    "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
    "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
];

/// Digits, A-Z, and the 11 lower-case letters whose shape differs from the capital's.
const BY_MERGE: [&str; 47] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M",
    "N", "O", "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "a", "b", "d", "e", "f", "g", "h", "n", "q", "r",
    "t",
];

impl EmnistSplit {
    pub const ALL: [EmnistSplit; 6] = [
        Self::Digits,
        Self::Letters,
        Self::Balanced,
        Self::ByClass,
        Self::ByMerge,
        Self::Mnist,
    ];

    /// The set's name in the archive's file names (`emnist-{name}-train-...`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Digits => "digits",
            Self::Letters => "letters",
            Self::Balanced => "balanced",
            Self::ByClass => "byclass",
            Self::ByMerge => "bymerge",
            Self::Mnist => "mnist",
        }
    }

    /// As the EMNIST paper names it: `EMNIST Letters`, `EMNIST ByClass`.
    pub fn title(self) -> &'static str {
        match self {
            Self::Digits => "EMNIST Digits",
            Self::Letters => "EMNIST Letters",
            Self::Balanced => "EMNIST Balanced",
            Self::ByClass => "EMNIST ByClass",
            Self::ByMerge => "EMNIST ByMerge",
            Self::Mnist => "EMNIST MNIST",
        }
    }

    pub(super) fn class_names(self) -> &'static [&'static str] {
        match self {
            Self::Digits | Self::Mnist => &super::mnist::DIGITS,
            Self::Letters => &LETTERS,
            Self::Balanced | Self::ByMerge => &BY_MERGE,
            Self::ByClass => &BY_CLASS,
        }
    }

    /// The label the published files give class 0: 1 for letters (a is 1, z is 26), else 0.
    pub fn first_label(self) -> u16 {
        match self {
            Self::Letters => 1,
            _ => 0,
        }
    }

    /// The archive members of a split's images and labels: `gzip/emnist-letters-train-images-idx3-ubyte.gz`.
    pub fn members(self, split: super::Split) -> [String; 2] {
        let part = split.name();
        ["images-idx3", "labels-idx1"].map(|kind| format!("gzip/emnist-{}-{part}-{kind}-ubyte.gz", self.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The character of each line `label code` of a mapping file.
    fn mapped(mapping: &str) -> Vec<String> {
        let code = |line: &str| line.split(' ').nth(1).and_then(|c| c.parse::<u8>().ok()).unwrap();
        mapping.lines().map(|line| char::from(code(line)).to_string()).collect()
    }

    /// `gzip/emnist-balanced-mapping.txt` of the archive, as the copy in
    /// github:Sharron4me/EMNIST-Prediction-Model (commit b44f77a7) holds it.
    const BALANCED_MAPPING: &str = "0 48\n1 49\n2 50\n3 51\n4 52\n5 53\n6 54\n7 55\n8 56\n9 57\n10 65\n11 66\n\
        12 67\n13 68\n14 69\n15 70\n16 71\n17 72\n18 73\n19 74\n20 75\n21 76\n22 77\n23 78\n24 79\n25 80\n26 81\n\
        27 82\n28 83\n29 84\n30 85\n31 86\n32 87\n33 88\n34 89\n35 90\n36 97\n37 98\n38 100\n39 101\n40 102\n\
        41 103\n42 104\n43 110\n44 113\n45 114\n46 116";

    #[test]
    fn the_class_names_are_the_archives_mapping() {
        assert_eq!(mapped(BALANCED_MAPPING), EmnistSplit::Balanced.class_names());
        assert_eq!(EmnistSplit::ByMerge.class_names(), EmnistSplit::Balanced.class_names());
        // byclass maps 0-61 to the codes of 0-9, A-Z, a-z in turn.
        let codes = (b'0'..=b'9').chain(b'A'..=b'Z').chain(b'a'..=b'z');
        let byclass: String = codes.enumerate().map(|(k, code)| format!("{k} {code}\n")).collect();
        assert_eq!(mapped(&byclass), EmnistSplit::ByClass.class_names());
        let letters: Vec<String> = (b'a'..=b'z').map(|c| char::from(c).to_string()).collect();
        assert_eq!(letters, EmnistSplit::Letters.class_names());
    }
}
