//! What the CSV and npz readers return: a table of images, one a row, with their labels when the
//! file has them, independent of `Dataset` (which the caller builds from it).
//!
//! ```text
//! pixels: (samples, rows * cols * channels) u8, 0-255
//! pixel (r, c, channel k) of sample i = pixels[[i, (r * cols + c) * channels + k]]
//! ```
//!
//! Rows of the image follow one another (row-major) and a colour image keeps its channels last
//! (R, G, B of one pixel side by side), as NumPy's (N, H, W, 3) arrays hold them; the network sees
//! exactly this flattened row. Channels are 1 (grey) or 3 (RGB).
//!
//! The image size of flat rows (a CSV line, an (N, H*W) array) is given, or else found from the row
//! length: a perfect square L = s² is a grey s x s image, and L = 3 s² an RGB one. No length is both
//! (3 s² = t² has no whole solution), so the rule is never ambiguous.

use ndarray::Array2;

/// The size of each image: `rows` x `cols` pixels of `channels` values (1 grey, 3 RGB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageShape {
    pub rows: usize,
    pub cols: usize,
    pub channels: usize,
}

/// A labelled or unlabelled image table: `pixels` (samples, rows * cols * channels) in the order of
/// the module doc, `labels` (samples) when the source has them.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageTable {
    pub pixels: Array2<u8>,
    pub shape: ImageShape,
    pub labels: Option<Vec<u32>>,
}

impl ImageShape {
    /// Values per image: rows * cols * channels.
    pub fn values(&self) -> usize {
        self.rows * self.cols * self.channels
    }

    /// The shape of a flat row of `len` values: `size` (rows, cols) when given, grey if
    /// `len` = rows * cols and RGB if `len` = 3 * rows * cols; without `size`, a square grey or RGB
    /// image. The error says what the length is and what would fit, for the reader to put after the
    /// file's name.
    pub fn from_row_length(len: usize, size: Option<(usize, usize)>) -> Result<Self, String> {
        let shape = |rows, cols, channels| Self { rows, cols, channels };
        match size {
            Some((rows, cols)) => {
                let area = rows.checked_mul(cols).filter(|&a| a > 0);
                match area {
                    Some(a) if len == a => Ok(shape(rows, cols, 1)),
                    Some(a) if Some(len) == a.checked_mul(3) => Ok(shape(rows, cols, 3)),
                    _ => Err(format!(
                        "{len} values a row do not make {rows}x{cols} images ({rows}x{cols} grey or {rows}x{cols}x3 RGB)"
                    )),
                }
            }
            None => {
                if let Some(side) = exact_sqrt(len).filter(|&s| s > 0) {
                    Ok(shape(side, side, 1))
                } else if let Some(side) = len
                    .is_multiple_of(3)
                    .then(|| exact_sqrt(len / 3))
                    .flatten()
                    .filter(|&s| s > 0)
                {
                    Ok(shape(side, side, 3))
                } else {
                    Err(format!(
                        "{len} values a row are not a square image (s x s grey or s x s x 3 RGB); give the image size{}",
                        hint_for_length(len)
                    ))
                }
            }
        }
    }
}

/// A hint for a row one value too long or too short for a square image: a label column too many
/// (an unlabelled reader given a labelled file) or too few (the other way round).
fn hint_for_length(len: usize) -> String {
    let square = |n: usize| exact_sqrt(n).filter(|&s| s > 0);
    if let Some(side) = len.checked_sub(1).and_then(square) {
        format!(" ({len} = 1 + {side}x{side}: is the first column a label?)")
    } else if let Some(side) = len.checked_add(1).and_then(square) {
        format!(" ({len} + 1 = {side}x{side}: is there no label column?)")
    } else {
        String::new()
    }
}

/// The whole square root of `n`, when `n` is a perfect square.
fn exact_sqrt(n: usize) -> Option<usize> {
    let root = (n as f64).sqrt().round() as usize;
    (root.checked_mul(root) == Some(n)).then_some(root)
}

impl ImageTable {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.pixels.nrows()
    }

    pub fn is_empty(&self) -> bool {
        self.pixels.nrows() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_square_length_is_grey_and_three_squares_are_rgb() {
        let grey = ImageShape::from_row_length(784, None).unwrap();
        assert_eq!((grey.rows, grey.cols, grey.channels), (28, 28, 1));
        let rgb = ImageShape::from_row_length(2352, None).unwrap();
        assert_eq!((rgb.rows, rgb.cols, rgb.channels), (28, 28, 3));
        assert_eq!(rgb.values(), 2352);
    }

    #[test]
    fn a_given_size_decides_and_must_fit() {
        let wide = ImageShape::from_row_length(32 * 16, Some((16, 32))).unwrap();
        assert_eq!((wide.rows, wide.cols, wide.channels), (16, 32, 1));
        let rgb = ImageShape::from_row_length(3 * 32 * 16, Some((16, 32))).unwrap();
        assert_eq!(rgb.channels, 3);
        let message = ImageShape::from_row_length(784, Some((20, 20))).unwrap_err();
        assert_eq!(
            message,
            "784 values a row do not make 20x20 images (20x20 grey or 20x20x3 RGB)"
        );
        assert!(ImageShape::from_row_length(0, Some((0, 5))).is_err());
        assert!(ImageShape::from_row_length(3, Some((usize::MAX, 2))).is_err());
    }

    #[test]
    fn a_length_off_by_one_names_the_label_column() {
        let labelled = ImageShape::from_row_length(785, None).unwrap_err();
        assert!(
            labelled.ends_with("(785 = 1 + 28x28: is the first column a label?)"),
            "{labelled}"
        );
        let unlabelled = ImageShape::from_row_length(783, None).unwrap_err();
        assert!(
            unlabelled.ends_with("(783 + 1 = 28x28: is there no label column?)"),
            "{unlabelled}"
        );
        assert!(ImageShape::from_row_length(0, None).is_err());
        assert!(
            ImageShape::from_row_length(7, None)
                .unwrap_err()
                .ends_with("give the image size")
        );
    }
}
