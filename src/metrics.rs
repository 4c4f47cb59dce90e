//! Classification metrics as counts: accuracy, the confusion matrix, per-class precision and recall.
//!
//! The confusion matrix counts[t][p] is how many samples of true class t were predicted as p.
//! precision(c) = counts[c][c] / Σ_t counts[t][c];  recall(c) = counts[c][c] / Σ_p counts[c][p].

use serde::{Deserialize, Serialize};

/// The confusion matrix of a classification, with each class's totals.
///
/// The whole matrix (classes² counts) is kept for up to `MATRIX_CLASSES` classes; beyond, only the
/// totals that accuracy, precision and recall need (a few counts per class), since a matrix of
/// 65,536² counts would not fit in memory and could not be read if it did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    /// counts[true class][predicted class], up to `MATRIX_CLASSES` classes.
    counts: Option<Vec<Vec<u64>>>,
    /// Per class: samples of it (Σ_p counts[c][p]), samples predicted as it (Σ_t counts[t][c]), and
    /// samples of it predicted as it (counts[c][c]).
    support: Vec<u64>,
    predicted: Vec<u64>,
    right: Vec<u64>,
}

/// The most classes whose whole confusion matrix is kept (8 MB of counts).
pub const MATRIX_CLASSES: usize = 1024;

/// Correct predictions out of a total, printed as `correct/total (xx.xx%)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accuracy {
    pub correct: u64,
    pub total: u64,
}

impl Accuracy {
    /// The fraction correct, 0 for an empty set.
    pub fn fraction(self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.correct as f64 / self.total as f64
        }
    }
}

impl std::fmt::Display for Accuracy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} ({:.2}%)", self.correct, self.total, 100.0 * self.fraction())
    }
}

impl ConfusionMatrix {
    pub fn new(classes: usize) -> Self {
        Self {
            counts: (classes <= MATRIX_CLASSES).then(|| vec![vec![0; classes]; classes]),
            support: vec![0; classes],
            predicted: vec![0; classes],
            right: vec![0; classes],
        }
    }

    pub fn classes(&self) -> usize {
        self.support.len()
    }

    pub fn record(&mut self, truth: usize, predicted: usize) {
        if let Some(counts) = &mut self.counts {
            counts[truth][predicted] += 1;
        }
        self.support[truth] += 1;
        self.predicted[predicted] += 1;
        self.right[truth] += u64::from(truth == predicted);
    }

    /// counts[true class][predicted class], when the matrix has at most `MATRIX_CLASSES` classes.
    pub fn counts(&self) -> Option<&[Vec<u64>]> {
        self.counts.as_deref()
    }

    /// The samples of `class`.
    pub fn support(&self, class: usize) -> u64 {
        self.support[class]
    }

    pub fn accuracy(&self) -> Accuracy {
        Accuracy {
            correct: self.right.iter().sum(),
            total: self.support.iter().sum(),
        }
    }

    /// Of the samples predicted as `class`, the fraction that are; `None` when none were predicted.
    pub fn precision(&self, class: usize) -> Option<f64> {
        let predicted = self.predicted[class];
        (predicted > 0).then(|| self.right[class] as f64 / predicted as f64)
    }

    /// Of the samples of `class`, the fraction predicted as it; `None` when there are none.
    pub fn recall(&self, class: usize) -> Option<f64> {
        let actual = self.support[class];
        (actual > 0).then(|| self.right[class] as f64 / actual as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_and_recall_follow_from_the_counts() {
        let mut m = ConfusionMatrix::new(3);
        // Class 0: 3 samples, 2 right and 1 called 1; class 1: 1 sample, right; class 2: none.
        for (t, p) in [(0, 0), (0, 0), (0, 1), (1, 1)] {
            m.record(t, p);
        }
        assert_eq!(m.accuracy(), Accuracy { correct: 3, total: 4 });
        assert_eq!(m.precision(0), Some(1.0));
        assert_eq!(m.precision(1), Some(0.5));
        assert_eq!(m.precision(2), None);
        assert!((m.recall(0).unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m.recall(1), Some(1.0));
        assert_eq!(m.recall(2), None);
        assert_eq!(m.accuracy().to_string(), "3/4 (75.00%)");
        assert_eq!(m.counts().unwrap()[0], vec![2, 1, 0]);
        assert_eq!(m.support(0), 3);
    }

    #[test]
    fn beyond_the_matrix_limit_the_totals_still_give_every_metric() {
        let classes = MATRIX_CLASSES + 1;
        let mut m = ConfusionMatrix::new(classes);
        for (t, p) in [(0, 0), (0, 0), (0, 1), (1, 1), (classes - 1, 0)] {
            m.record(t, p);
        }
        assert_eq!(m.counts(), None);
        assert_eq!(m.accuracy(), Accuracy { correct: 3, total: 5 });
        assert_eq!(m.precision(0), Some(2.0 / 3.0));
        assert_eq!(m.recall(classes - 1), Some(0.0));
        assert_eq!(m.recall(2), None);
    }
}
