//! The logic tables of the classic tiny-network example: inputs x1, x2 and a bias column that is
//! always 1 (3 inputs), one target per row.
//!
//! | x1 | x2 | bias | or | and | xor |
//! |----|----|------|----|-----|-----|
//! | 0  | 0  | 1    | 0  | 0   | 0   |
//! | 0  | 1  | 1    | 1  | 0   | 1   |
//! | 1  | 0  | 1    | 1  | 0   | 1   |
//! | 1  | 1  | 1    | 1  | 1   | 0   |
//!
//! OR and AND are linearly separable, so a network without a hidden layer learns them; XOR is not,
//! and needs one.

use ndarray::Array2;

use super::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Toy {
    Or,
    And,
    Xor,
}

impl Toy {
    pub fn name(self) -> &'static str {
        match self {
            Self::Or => "or",
            Self::And => "and",
            Self::Xor => "xor",
        }
    }

    fn target(self, a: bool, b: bool) -> bool {
        match self {
            Self::Or => a || b,
            Self::And => a && b,
            Self::Xor => a != b,
        }
    }

    /// The four rows: x (4, 3) = [x1, x2, 1], t (4, 1).
    pub fn problem(self) -> Problem {
        let rows = [(false, false), (false, true), (true, false), (true, true)];
        let bit = |b: bool| if b { 1.0 } else { 0.0 };
        Problem {
            x: Array2::from_shape_fn((4, 3), |(i, j)| match j {
                0 => bit(rows[i].0),
                1 => bit(rows[i].1),
                _ => 1.0,
            }),
            t: Array2::from_shape_fn((4, 1), |(i, _)| bit(self.target(rows[i].0, rows[i].1))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_are_the_truth_tables_with_a_bias_column() {
        let xor = Toy::Xor.problem();
        assert_eq!(
            xor.x,
            ndarray::array![[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]
        );
        assert_eq!(xor.t.column(0).to_vec(), [0.0, 1.0, 1.0, 0.0]);
        assert_eq!(Toy::Or.problem().t.column(0).to_vec(), [0.0, 1.0, 1.0, 1.0]);
        assert_eq!(Toy::And.problem().t.column(0).to_vec(), [0.0, 0.0, 0.0, 1.0]);
    }
}
