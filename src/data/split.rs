//! The two parts every MNIST-like data set is published in: shared by the catalog of known data
//! sets (which files make a split) and the reader (which names to look for).

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
