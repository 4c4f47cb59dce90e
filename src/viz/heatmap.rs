//! The confusion matrix as a heat map: one square per (true class, predicted class) with the count
//! written on it. Rows are true classes, columns predicted classes, as in `mlp eval`'s table.
//!
//! Colours are shares of the true class's samples (its row). The diagonal (right answers) is blue by
//! that share; the other squares (confusions) are red on a scale of their own, whose darkest red is
//! the largest confusion share, so one-in-a-hundred mistakes stay visible beside a diagonal of 98%.

use image::{Rgb, RgbImage};

use super::colormap::{sequential, text_colour_on, warm};
use super::text;

/// Side of one square in pixels.
pub const CELL: u32 = 44;
/// Room left of the squares for the row labels, above them for the column labels, below for the key.
const LEFT: u32 = 72;
const TOP: u32 = 64;
const BOTTOM: u32 = 40;
const MARGIN: u32 = 12;
const COUNT_TEXT: f64 = 14.0;
const LABEL_TEXT: f64 = 16.0;

/// Where the squares of a heat map are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeatmapLayout {
    pub classes: usize,
}

impl HeatmapLayout {
    pub fn size(&self) -> (u32, u32) {
        let side = self.classes as u32 * CELL;
        (LEFT + side + MARGIN, TOP + side + BOTTOM)
    }

    /// Top-left pixel of the square for true class `truth` and predicted class `predicted`.
    pub fn cell_origin(&self, truth: usize, predicted: usize) -> (u32, u32) {
        (LEFT + predicted as u32 * CELL, TOP + truth as u32 * CELL)
    }
}

/// The share of row `truth`'s samples predicted as `predicted`.
pub fn row_share(counts: &[Vec<u64>], truth: usize, predicted: usize) -> f64 {
    let total: u64 = counts[truth].iter().sum();
    if total == 0 {
        0.0
    } else {
        counts[truth][predicted] as f64 / total as f64
    }
}

/// The largest share of any off-diagonal square: the scale of the reds.
pub fn largest_confusion(counts: &[Vec<u64>]) -> f64 {
    let n = counts.len();
    (0..n)
        .flat_map(|t| (0..n).filter(move |&p| p != t).map(move |p| (t, p)))
        .map(|(t, p)| row_share(counts, t, p))
        .fold(0.0, f64::max)
}

/// The colour of square (`truth`, `predicted`), given the `largest_confusion`.
pub fn cell_colour(counts: &[Vec<u64>], truth: usize, predicted: usize, largest_confusion: f64) -> [u8; 3] {
    let share = row_share(counts, truth, predicted);
    if truth == predicted {
        sequential(share)
    } else if largest_confusion > 0.0 {
        warm(share / largest_confusion)
    } else {
        warm(0.0)
    }
}

/// Draws `counts[true][predicted]` (square) as a heat map with class labels and a key.
pub fn confusion_heatmap(counts: &[Vec<u64>]) -> (RgbImage, HeatmapLayout) {
    let layout = HeatmapLayout { classes: counts.len() };
    let (width, height) = layout.size();
    let mut picture = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let black = [0, 0, 0];
    let largest = largest_confusion(counts);
    for (truth, row) in counts.iter().enumerate() {
        for (predicted, &count) in row.iter().enumerate() {
            let colour = cell_colour(counts, truth, predicted, largest);
            let (x0, y0) = layout.cell_origin(truth, predicted);
            for y in y0..y0 + CELL {
                for x in x0..x0 + CELL {
                    picture.put_pixel(x, y, Rgb(colour));
                }
            }
            let centre = ((x0 + CELL / 2) as i32, (y0 + CELL / 2) as i32);
            text::draw_centred(
                &mut picture,
                &count.to_string(),
                text::SANS,
                centre,
                COUNT_TEXT,
                text_colour_on(colour),
            );
        }
    }
    let side = counts.len() as u32 * CELL;
    let middle = CELL as i32 / 2;
    for class in 0..counts.len() {
        let (x, y) = layout.cell_origin(class, class);
        let label = class.to_string();
        text::draw_centred(
            &mut picture,
            &label,
            text::SANS,
            (x as i32 + middle, TOP as i32 - 12),
            LABEL_TEXT,
            black,
        );
        text::draw_centred(
            &mut picture,
            &label,
            text::SANS,
            (LEFT as i32 - 14, y as i32 + middle),
            LABEL_TEXT,
            black,
        );
    }
    let across = (LEFT + side / 2) as i32;
    text::draw_centred(
        &mut picture,
        "predicted class",
        text::SANS,
        (across, TOP as i32 - 38),
        LABEL_TEXT,
        black,
    );
    text::draw_centred(
        &mut picture,
        "true",
        text::SANS,
        (LEFT as i32 - 48, (TOP + side / 2) as i32),
        LABEL_TEXT,
        black,
    );
    let key = format!(
        "blue: share of the row right · red: share confused, darkest {:.1}%",
        100.0 * largest
    );
    text::draw_centred(
        &mut picture,
        &key,
        text::SANS,
        (across, (TOP + side + BOTTOM / 2) as i32),
        COUNT_TEXT,
        black,
    );
    (picture, layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squares_are_coloured_by_the_share_of_their_row() {
        let counts = vec![vec![8, 2, 0], vec![0, 5, 5], vec![0, 0, 0]];
        let (picture, layout) = confusion_heatmap(&counts);
        assert_eq!(picture.dimensions(), layout.size());
        assert_eq!(largest_confusion(&counts), 0.5);
        let expected = [
            [sequential(0.8), warm(0.4), warm(0.0)],
            [warm(0.0), sequential(0.5), warm(1.0)],
            [warm(0.0), warm(0.0), sequential(0.0)],
        ];
        for (truth, row) in expected.iter().enumerate() {
            for (predicted, &colour) in row.iter().enumerate() {
                let (x, y) = layout.cell_origin(truth, predicted);
                // Corners carry no text.
                assert_eq!(
                    picture.get_pixel(x + 2, y + 2).0,
                    colour,
                    "square ({truth}, {predicted})"
                );
            }
        }
        // The count is written on the square: dark text on the pale 2 of row 0.
        let (x, y) = layout.cell_origin(0, 1);
        let dark = (y..y + CELL)
            .flat_map(|yy| (x..x + CELL).map(move |xx| (xx, yy)))
            .filter(|&(xx, yy)| picture.get_pixel(xx, yy).0[0] < 100)
            .count();
        assert!(dark > 5, "{dark} text pixels");
    }
}
