//! Classification metrics as counts: accuracy, the confusion matrix, per-class precision and recall.
//!
//! The confusion matrix counts[t][p] is how many samples of true class t were predicted as p.
//! precision(c) = counts[c][c] / Σ_t counts[t][c];  recall(c) = counts[c][c] / Σ_p counts[c][p].

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    /// counts[true class][predicted class]
    pub counts: Vec<Vec<u64>>,
}

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
            counts: vec![vec![0; classes]; classes],
        }
    }

    pub fn classes(&self) -> usize {
        self.counts.len()
    }

    pub fn record(&mut self, truth: usize, predicted: usize) {
        self.counts[truth][predicted] += 1;
    }

    /// Adds another matrix's counts (same class count) to this one.
    pub fn merge(&mut self, other: &ConfusionMatrix) {
        for (row, other_row) in self.counts.iter_mut().zip(&other.counts) {
            for (c, o) in row.iter_mut().zip(other_row) {
                *c += o;
            }
        }
    }

    pub fn accuracy(&self) -> Accuracy {
        let correct = (0..self.classes()).map(|c| self.counts[c][c]).sum();
        let total = self.counts.iter().flatten().sum();
        Accuracy { correct, total }
    }

    /// Of the samples predicted as `class`, the fraction that are; `None` when none were predicted.
    pub fn precision(&self, class: usize) -> Option<f64> {
        let predicted: u64 = self.counts.iter().map(|row| row[class]).sum();
        (predicted > 0).then(|| self.counts[class][class] as f64 / predicted as f64)
    }

    /// Of the samples of `class`, the fraction predicted as it; `None` when there are none.
    pub fn recall(&self, class: usize) -> Option<f64> {
        let actual: u64 = self.counts[class].iter().sum();
        (actual > 0).then(|| self.counts[class][class] as f64 / actual as f64)
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
    }
}
