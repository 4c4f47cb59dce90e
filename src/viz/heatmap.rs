//! The confusion matrix as a heat map: one square per (true class, predicted class) with the count
//! written on it. Rows are true classes, columns predicted classes, as in `mlp eval`'s table.
//!
//! Colours are shares of the true class's samples (its row). The diagonal (right answers) is blue by
//! that share; the other squares (confusions) are red on a scale of their own, whose darkest red is
//! the largest confusion share, so one-in-a-hundred mistakes stay visible beside a diagonal of 98%.

use image::{Rgb, RgbImage};

use super::colormap::{sequential, text_colour_on, warm};
use super::text;

/// Side of one square in pixels, up to `FULL_SIZE_CLASSES` classes; with more, the squares shrink
/// so that the matrix stays about `FULL_SIZE_CLASSES` squares of this size across (62 classes get
/// 28-pixel squares), but never below `MIN_CELL`.
pub const CELL: u32 = 44;
const FULL_SIZE_CLASSES: u32 = 40;
const MIN_CELL: u32 = 2;
/// Room left of the squares for the row labels, above them for the column labels, below for the key.
const LEFT: u32 = 72;
const TOP: u32 = 64;
const BOTTOM: u32 = 40;
const MARGIN: u32 = 12;
/// Text heights on full-size squares; on smaller squares counts and labels shrink with them, and
/// a count that does not fit its square, or would be smaller than `MIN_COUNT_TEXT`, is left out
/// (its colour still tells).
const COUNT_TEXT: f64 = 14.0;
const MIN_COUNT_TEXT: f64 = 8.0;
const LABEL_TEXT: f64 = 16.0;
const MIN_LABEL_TEXT: f64 = 9.0;
/// Pixels kept free between neighbouring column labels.
const LABEL_GAP: u32 = 4;

/// Where the squares of a heat map are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeatmapLayout {
    pub classes: usize,
    /// Side of one square in pixels.
    pub cell: u32,
}

impl HeatmapLayout {
    /// The layout of a matrix of `classes` classes.
    pub fn new(classes: usize) -> Self {
        let full_side = FULL_SIZE_CLASSES * CELL;
        let cell = (full_side / (classes as u32).max(1)).clamp(MIN_CELL, CELL);
        Self { classes, cell }
    }

    pub fn size(&self) -> (u32, u32) {
        let side = self.classes as u32 * self.cell;
        (LEFT + side + MARGIN, TOP + side + BOTTOM)
    }

    /// Top-left pixel of the square for true class `truth` and predicted class `predicted`.
    pub fn cell_origin(&self, truth: usize, predicted: usize) -> (u32, u32) {
        (LEFT + predicted as u32 * self.cell, TOP + truth as u32 * self.cell)
    }

    /// Height of the counts written on the squares.
    fn count_text(&self) -> f64 {
        COUNT_TEXT.min(0.42 * f64::from(self.cell))
    }

    /// Height of the class labels along the axes.
    fn label_text(&self) -> f64 {
        LABEL_TEXT.min(0.55 * f64::from(self.cell)).max(MIN_LABEL_TEXT)
    }

    /// Every how many classes a label is written: 1, 2, 5, 10, 20, 50, ..., the first that leaves
    /// the widest label room beside its neighbours.
    pub fn label_step(&self) -> usize {
        let widest = text::width(&(self.classes.max(1) - 1).to_string(), text::SANS, self.label_text());
        let steps = [1, 2, 5]
            .into_iter()
            .cycle()
            .zip(0u32..)
            .map(|(m, i)| m * 10usize.pow(i / 3));
        steps
            .take_while(|&step| step < self.classes.max(2))
            .find(|&step| step as u32 * self.cell >= widest + LABEL_GAP)
            .unwrap_or(self.classes.max(1))
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
    let layout = HeatmapLayout::new(counts.len());
    let (width, height) = layout.size();
    let mut picture = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let black = [0, 0, 0];
    let largest = largest_confusion(counts);
    let cell = layout.cell;
    let count_text = layout.count_text();
    for (truth, row) in counts.iter().enumerate() {
        for (predicted, &count) in row.iter().enumerate() {
            let colour = cell_colour(counts, truth, predicted, largest);
            let (x0, y0) = layout.cell_origin(truth, predicted);
            for y in y0..y0 + cell {
                for x in x0..x0 + cell {
                    picture.put_pixel(x, y, Rgb(colour));
                }
            }
            let count = count.to_string();
            if count_text >= MIN_COUNT_TEXT && text::width(&count, text::SANS, count_text) + 2 <= cell {
                let centre = ((x0 + cell / 2) as i32, (y0 + cell / 2) as i32);
                text::draw_centred(
                    &mut picture,
                    &count,
                    text::SANS,
                    centre,
                    count_text,
                    text_colour_on(colour),
                );
            }
        }
    }
    let side = counts.len() as u32 * cell;
    let middle = cell as i32 / 2;
    let label_text = layout.label_text();
    for class in (0..counts.len()).step_by(layout.label_step()) {
        let (x, y) = layout.cell_origin(class, class);
        let label = class.to_string();
        text::draw_centred(
            &mut picture,
            &label,
            text::SANS,
            (x as i32 + middle, TOP as i32 - 12),
            label_text,
            black,
        );
        text::draw_centred(
            &mut picture,
            &label,
            text::SANS,
            (LEFT as i32 - 14, y as i32 + middle),
            label_text,
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
        assert_eq!((layout.cell, layout.label_step()), (CELL, 1));
    }

    #[test]
    fn many_classes_get_smaller_squares_and_fewer_labels() {
        assert_eq!(HeatmapLayout::new(40).cell, CELL);
        let sixty_two = HeatmapLayout::new(62);
        assert_eq!((sixty_two.cell, sixty_two.label_step()), (28, 1));
        let many = HeatmapLayout::new(300);
        assert_eq!(many.cell, 5);
        assert!([5, 10].contains(&many.label_step()), "{}", many.label_step());
        assert_eq!(HeatmapLayout::new(1024).cell, MIN_CELL);
        // A square too small for its count is left without it: the colour alone.
        let mut counts = vec![vec![0u64; 300]; 300];
        counts[0][0] = 123;
        let (picture, layout) = confusion_heatmap(&counts);
        assert_eq!(picture.dimensions(), layout.size());
        let (x, y) = layout.cell_origin(0, 0);
        let square: Vec<_> = (y..y + 5).flat_map(|yy| (x..x + 5).map(move |xx| (xx, yy))).collect();
        assert!(
            square
                .iter()
                .all(|&(xx, yy)| picture.get_pixel(xx, yy).0 == sequential(1.0))
        );
    }
}
