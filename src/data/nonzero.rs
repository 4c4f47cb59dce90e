//! The nonzero pixels of a set of images, image by image, so that a batch of mostly-zero images
//! (81% of an MNIST digit's pixels are background) is gathered straight into the sparse rows that
//! the first layer multiplies (`kernels::sparse_input`): no dense batch of scaled pixels is written
//! and then scanned for its nonzeros.
//!
//! An image's pixels are kept as they are stored (u8), with their positions in the image (u16), 3
//! bytes per nonzero pixel: 32 MB more for MNIST's 70,000 digits beside their 55 MB of pixels.

use ndarray::ArrayView2;

use crate::float::Float;
use crate::kernels::cache;
use crate::kernels::{MAX_DENSITY, SparseInput};

/// How many images ahead `gather` asks for pixels: enough to cover a miss to memory while the
/// images in between are copied.
const PREFETCH_AHEAD: usize = 4;

#[derive(Clone, Debug)]
pub struct NonzeroPixels {
    /// Pixels per image.
    pixels: usize,
    /// Image i's nonzero pixels are `values[starts[i]..starts[i + 1]]`, at the same range of `positions`.
    starts: Vec<usize>,
    /// Where each value is in its image, row-major.
    positions: Vec<u16>,
    values: Vec<u8>,
}

impl NonzeroPixels {
    /// The nonzero pixels of `images` (samples, pixels); `None` when more than `MAX_DENSITY` of them
    /// are nonzero (the sparse products would not pay) or an image has more pixels than u16 positions.
    pub fn of(images: ArrayView2<u8>) -> Option<Self> {
        let (samples, pixels) = images.dim();
        if pixels > usize::from(u16::MAX) + 1 {
            return None;
        }
        let rows = || {
            images
                .rows()
                .into_iter()
                .map(|image| image.to_slice().expect("a data set's images are in standard layout"))
        };
        let nonzero: usize = rows().map(count_nonzero).sum();
        if nonzero as f64 > MAX_DENSITY * images.len() as f64 {
            return None;
        }
        // One slot more than needed: `push_nonzero` writes a zero before it knows to leave it.
        let mut positions = vec![0u16; nonzero + 1];
        let mut values = vec![0u8; nonzero + 1];
        let mut starts = Vec::with_capacity(samples + 1);
        starts.push(0);
        let mut next = 0;
        for image in rows() {
            // Eight pixels at a time, skipping the background's all-zero runs.
            let chunks = image.chunks_exact(8);
            let tail = chunks.remainder();
            for (c, chunk) in chunks.enumerate() {
                if u64::from_le_bytes(chunk.try_into().expect("8 bytes")) != 0 {
                    for (k, &p) in chunk.iter().enumerate() {
                        push_nonzero(&mut positions, &mut values, &mut next, 8 * c + k, p);
                    }
                }
            }
            for (k, &p) in tail.iter().enumerate() {
                push_nonzero(&mut positions, &mut values, &mut next, image.len() - tail.len() + k, p);
            }
            starts.push(next);
        }
        positions.truncate(nonzero);
        values.truncate(nonzero);
        let kept = Self {
            pixels,
            starts,
            positions,
            values,
        };
        Some(kept)
    }

    /// Writes the images `indices`, in that order, into `x` as sparse rows, each pixel p as `scaled[p]`
    /// (`scaled[0]` must be 0: zeros are not written).
    pub fn gather<F: Float>(&self, indices: &[usize], scaled: &[F; 256], x: &mut SparseInput<F>) {
        debug_assert!(scaled[0] == F::zero(), "a scaling that moves 0 makes the batch dense");
        // A shuffled batch reads images from all over the set, each a few cache misses away: ask
        // for every image's start first, then for each image's pixels a few images ahead.
        for &i in indices {
            cache::prefetch(&self.starts[i]);
        }
        let range = |i: usize| self.starts[i]..self.starts[i + 1];
        for &i in indices.iter().take(PREFETCH_AHEAD) {
            self.prefetch_image(range(i));
        }
        x.fill_rows(indices.len(), self.pixels, |r, positions, values| {
            if let Some(&ahead) = indices.get(r + PREFETCH_AHEAD) {
                self.prefetch_image(range(ahead));
            }
            let range = range(indices[r]);
            positions.extend(self.positions[range.clone()].iter().map(|&j| u32::from(j)));
            values.extend(self.values[range].iter().map(|&p| scaled[usize::from(p)]));
        });
    }

    fn prefetch_image(&self, range: std::ops::Range<usize>) {
        cache::prefetch_slice(&self.positions[range.clone()]);
        cache::prefetch_slice(&self.values[range]);
    }
}

/// Writes pixel `p` at `position` into the next free slot, which it takes only when it is nonzero:
/// no branch to mispredict at the edges of the ink.
#[inline(always)]
fn push_nonzero(positions: &mut [u16], values: &mut [u8], next: &mut usize, position: usize, p: u8) {
    positions[*next] = position as u16;
    values[*next] = p;
    *next += usize::from(p != 0);
}

/// The nonzero values of `pixels`, counted in byte-wide sums of at most 255 that vectorize.
fn count_nonzero(pixels: &[u8]) -> usize {
    pixels
        .chunks(255)
        .map(|chunk| usize::from(chunk.iter().fold(0u8, |n, &p| n + u8::from(p != 0))))
        .sum()
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;
    use crate::kernels::Start;

    #[test]
    fn gathered_rows_multiply_as_the_dense_images_do() {
        let images: Array2<u8> = array![[0, 3, 0, 255], [0, 0, 0, 0], [7, 0, 0, 0], [0, 0, 0, 0], [0, 0, 9, 0]];
        let kept = NonzeroPixels::of(images.view()).expect("20% nonzero");
        let scaled: [f64; 256] = std::array::from_fn(|p| p as f64 / 255.0);
        let mut x = SparseInput::default();
        let order = [4, 0, 1, 2];
        kept.gather(&order, &scaled, &mut x);

        // Through the product with a matrix whose row j is (j+1, 10(j+1)): each output row is the
        // image's scaled pixels weighted by their positions.
        let m = Array2::from_shape_fn((4, 2), |(j, c)| (j + 1) as f64 * if c == 0 { 1.0 } else { 10.0 });
        let mut got = Array2::zeros((4, 2));
        x.rows()
            .expect("kept")
            .mul(m.view(), Start::Chain(None), got.view_mut());
        let dense = images.select(ndarray::Axis(0), &order).mapv(|p| scaled[usize::from(p)]);
        assert_eq!(got, dense.dot(&m));
    }

    #[test]
    fn dense_or_huge_images_are_not_kept() {
        let half_ink = Array2::from_shape_fn((4, 10), |(i, j)| u8::from((i + j) % 2 == 0));
        assert!(NonzeroPixels::of(half_ink.view()).is_none());
        let huge = Array2::<u8>::zeros((1, 70_000));
        assert!(NonzeroPixels::of(huge.view()).is_none());
        let blank = Array2::<u8>::zeros((3, 784));
        assert!(NonzeroPixels::of(blank.view()).is_some());
    }
}
