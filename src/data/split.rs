//! The two parts every MNIST-like data set is published in, and its number of classes: shared by the
//! catalog of known data sets (which files make a split) and the reader (which names to look for).

/// Number of classes in MNIST-like data sets (digits 0-9, or Fashion-MNIST's ten kinds of clothing).
pub const CLASSES: usize = 10;

/// Which part of a data set to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }

    /// The file-name stems under which this split's images and labels are published.
    pub(super) fn stems(self) -> (&'static str, &'static str) {
        match self {
            Split::Train => ("train-images", "train-labels"),
            Split::Test => ("t10k-images", "t10k-labels"),
        }
    }
}
