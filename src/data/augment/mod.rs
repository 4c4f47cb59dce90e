//! Data augmentation: random shifts, rotations, scalings, elastic distortions and horizontal flips
//! of training images, drawn afresh for every image of every batch from the one seeded generator.
//!
//! An image x (rows·cols pixels, row-major, already scaled; a colour pixel's channels side by side)
//! is resampled: output pixel p (as (row, col)) takes, in each channel, the bilinear interpolation
//! of x at the source point
//!
//! ```text
//! src(p) = R(-θ)·(p - c - d) / s + c + α·(G_σ * u)(p)
//! ```
//!
//! with c the image centre, d an integer shift in [-shift, shift]², θ uniform in ±rotate degrees,
//! s uniform in [1 - scale, 1 + scale], and for elastic distortions (Simard et al. 2003) u a field
//! of independent uniform(-1, 1) displacements smoothed by a Gaussian of std σ and scaled by α.
//! With flips, half the images (a fair coin each) read their source mirrored left to right, as
//! suits clothing and photographs (not digits or letters, whose mirror images are other shapes).
//! Points outside the image read the background (the input value of a 0 pixel). Interpolation is
//! linear, so scaling pixels before or after resampling is the same.

mod spec;

use ndarray::{ArrayViewMut1, ArrayViewMut2};
use rand::{Rng, RngExt};

pub use spec::{Augment, DEFAULT_ELASTIC_SIGMA};

use crate::float::Float;

/// The smoothing sums of an elastic field computed side by side.
const SUMS: usize = 8;

/// The shape of image inputs (rows x cols pixels of `channels` values each, channel last) and the
/// input value of an empty pixel, which fills what moves in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImageShape {
    pub rows: usize,
    pub cols: usize,
    pub channels: usize,
    pub background: f64,
}

/// Augments batches of images; holds the buffers it reuses.
#[derive(Clone, Debug)]
pub struct Augmenter<F> {
    augment: Augment,
    shape: ImageShape,
    /// One source image.
    source: Vec<F>,
    /// The elastic displacement fields (rows·cols each), and one line of them between zeros, to
    /// smooth it.
    field: [Vec<f64>; 2],
    padded: Vec<f64>,
    /// The Gaussian kernel of the elastic fields, normalized to sum 1, from -radius to radius.
    kernel: Vec<f64>,
}

impl<F: Float> Augmenter<F> {
    pub fn new(augment: Augment, shape: ImageShape) -> Self {
        let pixels = shape.rows * shape.cols;
        let values = pixels * shape.channels;
        let radius = (3.0 * augment.elastic_sigma).ceil() as i64;
        let mut kernel: Vec<f64> = (-radius..=radius)
            .map(|k| (-((k * k) as f64) / (2.0 * augment.elastic_sigma.powi(2))).exp())
            .collect();
        let sum: f64 = kernel.iter().sum();
        kernel.iter_mut().for_each(|k| *k /= sum);
        let longest = shape.rows.max(shape.cols);
        Self {
            augment,
            shape,
            source: vec![F::zero(); values],
            field: [vec![0.0; pixels], vec![0.0; pixels]],
            // Room for the last sums of a line, SUMS at a time, to read past its end.
            padded: vec![0.0; longest + kernel.len() + SUMS],
            kernel,
        }
    }

    /// Replaces every row of `x` (batch, rows·cols·channels) by a randomly transformed copy.
    pub fn apply<R: Rng + ?Sized>(&mut self, mut x: ArrayViewMut2<F>, rng: &mut R) {
        let a = self.augment;
        for image in x.rows_mut() {
            let shift = a.shift as i64;
            let (dr, dc) = if shift > 0 {
                (
                    rng.random_range(-shift..=shift) as f64,
                    rng.random_range(-shift..=shift) as f64,
                )
            } else {
                (0.0, 0.0)
            };
            let degrees = if a.rotate > 0.0 {
                rng.random_range(-a.rotate..=a.rotate)
            } else {
                0.0
            };
            let factor = if a.scale > 0.0 {
                rng.random_range(1.0 - a.scale..=1.0 + a.scale)
            } else {
                1.0
            };
            let elastic = a.elastic > 0.0;
            if elastic {
                self.draw_fields(rng);
            }
            // Drawn last, and only when on: runs without flips draw what they always did.
            let mirror = a.flip && rng.random_bool(0.5);
            self.resample(image, (dr, dc), degrees.to_radians(), factor, (elastic, mirror));
        }
    }

    /// Overwrites `image` (rows·cols·channels) with itself shifted by `shift` (rows, cols), rotated
    /// by `angle` radians and scaled by `factor` about its centre, displaced by the elastic fields
    /// when `elastic`, read mirrored left to right when `mirror`; every channel of a pixel moves alike.
    fn resample(
        &mut self,
        image: ArrayViewMut1<F>,
        shift: (f64, f64),
        angle: f64,
        factor: f64,
        (elastic, mirror): (bool, bool),
    ) {
        for (s, &v) in self.source.iter_mut().zip(image.iter()) {
            *s = v;
        }
        if angle == 0.0 && factor == 1.0 && !elastic {
            self.move_whole(image, (shift.0 as i64, shift.1 as i64), mirror);
        } else {
            self.interpolate(image, shift, angle, factor, (elastic, mirror));
        }
    }

    /// `resample` by bilinear interpolation at each output pixel's source point (`self.source`
    /// holds the image).
    fn interpolate(
        &self,
        mut image: ArrayViewMut1<F>,
        shift: (f64, f64),
        angle: f64,
        factor: f64,
        (elastic, mirror): (bool, bool),
    ) {
        let ImageShape {
            rows, cols, channels, ..
        } = self.shape;
        let centre = ((rows as f64 - 1.0) / 2.0, (cols as f64 - 1.0) / 2.0);
        let (sin, cos) = angle.sin_cos();
        for r in 0..rows {
            for c in 0..cols {
                let (y, x) = (r as f64 - centre.0 - shift.0, c as f64 - centre.1 - shift.1);
                // R(-θ)·(y, x) / s
                let mut sy = (cos * y + sin * x) / factor + centre.0;
                let mut sx = (-sin * y + cos * x) / factor + centre.1;
                if elastic {
                    sy += self.field[0][r * cols + c];
                    sx += self.field[1][r * cols + c];
                }
                if mirror {
                    sx = (cols - 1) as f64 - sx;
                }
                for k in 0..channels {
                    image[(r * cols + c) * channels + k] = self.sample(sy, sx, k);
                }
            }
        }
    }

    /// `resample` for shifts and flips alone, which move pixels by whole steps: each output pixel
    /// copies the source pixel it reads, or the background from outside. That is what the bilinear
    /// interpolation gives there (weights 1 and 0), bit for bit, without its arithmetic per pixel.
    fn move_whole(&self, mut image: ArrayViewMut1<F>, (dr, dc): (i64, i64), mirror: bool) {
        let ImageShape {
            rows,
            cols,
            channels,
            background,
        } = self.shape;
        let background = F::of(background);
        let inside = |i: i64, n: usize| usize::try_from(i).ok().filter(|&i| i < n);
        for r in 0..rows {
            let source_row = inside(r as i64 - dr, rows);
            for c in 0..cols {
                let sc = c as i64 - dc;
                let sc = if mirror { (cols - 1) as i64 - sc } else { sc };
                let from = source_row
                    .zip(inside(sc, cols))
                    .map(|(sr, sc)| (sr * cols + sc) * channels);
                for k in 0..channels {
                    image[(r * cols + c) * channels + k] = from.map_or(background, |at| self.source[at + k]);
                }
            }
        }
    }

    /// Bilinear interpolation of channel `k` of the source image at (y, x), background outside.
    fn sample(&self, y: f64, x: f64, k: usize) -> F {
        let ImageShape {
            rows,
            cols,
            channels,
            background,
        } = self.shape;
        let (y0, x0) = (floor(y), floor(x));
        let (fy, fx) = (y - y0, x - x0);
        let at = |r: f64, c: f64| -> f64 {
            if r < 0.0 || c < 0.0 || r >= rows as f64 || c >= cols as f64 {
                background
            } else {
                self.source[(r as usize * cols + c as usize) * channels + k].as_f64()
            }
        };
        let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1.0) * fx;
        let bottom = at(y0 + 1.0, x0) * (1.0 - fx) + at(y0 + 1.0, x0 + 1.0) * fx;
        F::of(top * (1.0 - fy) + bottom * fy)
    }

    /// Fills both displacement fields with α·(G_σ * uniform(-1, 1)), smoothing rows then columns
    /// (zero beyond the border).
    fn draw_fields<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let ImageShape { rows, cols, .. } = self.shape;
        let radius = self.kernel.len() / 2;
        for field in &mut self.field {
            for v in field.iter_mut() {
                *v = rng.random_range(-1.0..1.0);
            }
            let passes: [(usize, usize, usize, usize); 2] = [(rows, cols, cols, 1), (cols, rows, 1, cols)];
            for (lines, length, line_stride, step) in passes {
                // The line between `radius` zeros on either side: a sum that starts at +0 and
                // adds w·0 = +0 for a point beyond the border is the sum without that term.
                let padded = &mut self.padded[..length + 2 * radius + SUMS];
                padded.fill(0.0);
                for line in 0..lines {
                    let at = |i: usize| line * line_stride + i * step;
                    for i in 0..length {
                        padded[radius + i] = field[at(i)];
                    }
                    // SUMS neighbouring sums at a time, held in registers tap after tap: each
                    // still adds its terms in the order of the kernel.
                    for first in (0..length).step_by(SUMS) {
                        let mut sums = [0.0; SUMS];
                        for (k, &w) in self.kernel.iter().enumerate() {
                            let values = &padded[first + k..first + k + SUMS];
                            for (sum, &v) in sums.iter_mut().zip(values) {
                                *sum += w * v;
                            }
                        }
                        for (i, &sum) in (first..length).zip(&sums) {
                            field[at(i)] = sum;
                        }
                    }
                }
            }
            for v in field.iter_mut() {
                *v *= self.augment.elastic;
            }
        }
    }
}

/// ⌊v⌋ for the finite source coordinates of `sample`, exactly as `f64::floor` (signed zeros too),
/// which on the baseline x86-64 target is a call into libm: a truncating conversion and a compare.
fn floor(v: f64) -> f64 {
    debug_assert!(v.abs() < 1e15, "a source coordinate of {v}");
    let truncated = v as i64 as f64;
    if truncated > v {
        truncated - 1.0
    } else {
        truncated.copysign(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const SHAPE: ImageShape = ImageShape {
        rows: 5,
        cols: 6,
        channels: 1,
        background: -0.5,
    };

    fn image() -> Array2<f64> {
        Array2::from_shape_fn((1, 30), |(_, i)| i as f64)
    }

    #[test]
    fn a_shift_moves_pixels_by_whole_steps_and_fills_with_background() {
        let augment = Augment {
            shift: 1,
            ..Augment::default()
        };
        let mut augmenter = Augmenter::new(augment, SHAPE);
        let mut seen_shifted = false;
        for seed in 0..20 {
            let mut x = image();
            augmenter.apply(x.view_mut(), &mut ChaCha8Rng::seed_from_u64(seed));
            // Every output pixel is a source pixel or the background: no interpolation.
            assert!(
                x.iter()
                    .all(|&v| v == -0.5 || (v.fract() == 0.0 && (0.0..30.0).contains(&v)))
            );
            // Inner pixels are their source moved by the same (dr, dc) in {-1, 0, 1}².
            let moved = x[[0, 2 * 6 + 2]] - 14.0;
            assert!([-7.0, -6.0, -5.0, -1.0, 0.0, 1.0, 5.0, 6.0, 7.0].contains(&moved));
            assert_eq!(x[[0, 2 * 6 + 3]] - 15.0, moved);
            seen_shifted |= moved != 0.0;
        }
        assert!(seen_shifted);
    }

    #[test]
    fn shifts_and_flips_copy_exactly_what_interpolation_gives() {
        // Colour pixels of random values on a negative background (as standard scaling gives).
        let shape = ImageShape {
            rows: 7,
            cols: 5,
            channels: 3,
            background: -0.4242,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let image: Vec<f32> = (0..7 * 5 * 3).map(|_| rng.random_range(-1.0..2.0)).collect();
        let mut augmenter = Augmenter::new(Augment::default(), shape);
        augmenter.source.copy_from_slice(&image);
        for dr in -8..=8 {
            for dc in -6..=6 {
                for mirror in [false, true] {
                    let mut copied = Array1::from(image.clone());
                    let mut interpolated = copied.clone();
                    augmenter.move_whole(copied.view_mut(), (dr, dc), mirror);
                    let shift = (dr as f64, dc as f64);
                    augmenter.interpolate(interpolated.view_mut(), shift, 0.0, 1.0, (false, mirror));
                    let bits = |x: &Array1<f32>| x.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    assert_eq!(
                        bits(&copied),
                        bits(&interpolated),
                        "shift ({dr}, {dc}), mirror {mirror}"
                    );
                }
            }
        }
    }

    /// The elastic fields as Simard et al. define them, by the direct sum at every point in the
    /// kernel's order (terms beyond the border left out), from the same uniform draws.
    fn direct_fields(augmenter: &Augmenter<f64>, rng: &mut ChaCha8Rng) -> [Vec<f64>; 2] {
        let ImageShape { rows, cols, .. } = augmenter.shape;
        let radius = (augmenter.kernel.len() / 2) as i64;
        [0, 1].map(|_| {
            let mut field: Vec<f64> = (0..rows * cols).map(|_| rng.random_range(-1.0..1.0)).collect();
            for (lines, length, line_stride, step) in [(rows, cols, cols, 1), (cols, rows, 1, cols)] {
                let mut smoothed = field.clone();
                for line in 0..lines {
                    for i in 0..length as i64 {
                        let mut sum = 0.0;
                        for (k, w) in augmenter.kernel.iter().enumerate() {
                            let j = i + k as i64 - radius;
                            if (0..length as i64).contains(&j) {
                                sum += w * field[line * line_stride + j as usize * step];
                            }
                        }
                        smoothed[line * line_stride + i as usize * step] = sum;
                    }
                }
                field = smoothed;
            }
            field.iter().map(|v| v * augmenter.augment.elastic).collect()
        })
    }

    #[test]
    fn elastic_fields_are_the_direct_smoothing_sums_bit_for_bit() {
        // Kernels longer than the image (σ 4 on 5x6: radius 12) and shorter (σ 0.5: radius 2).
        for sigma in [4.0, 0.5] {
            let augment = Augment {
                elastic: 3.0,
                elastic_sigma: sigma,
                ..Augment::default()
            };
            let mut augmenter = Augmenter::<f64>::new(augment, SHAPE);
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            augmenter.draw_fields(&mut rng.clone());
            let want = direct_fields(&augmenter, &mut rng);
            let bits = |f: &[f64]| f.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            for (got, want) in augmenter.field.iter().zip(&want) {
                assert_eq!(bits(got), bits(want), "sigma {sigma}");
            }
        }
    }

    #[test]
    fn floor_is_f64_floor_bit_for_bit() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            27.0,
            -27.0,
            1e-300,
            -1e-300,
            0.999_999_999_999_999_9,
        ];
        let random = (0..10_000).map(|_| rng.random_range(-100.0..100.0));
        for v in edges.into_iter().chain(random) {
            assert_eq!(floor(v).to_bits(), v.floor().to_bits(), "{v}");
        }
    }

    #[test]
    fn quarter_and_half_turns_move_pixels_where_geometry_says() {
        let mut augmenter = Augmenter::new(Augment::default(), SHAPE);
        let mut x = image();
        augmenter.resample(x.row_mut(0), (0.0, 0.0), std::f64::consts::PI, 1.0, (false, false));
        for i in 0..30 {
            assert!((x[[0, i]] - (29 - i) as f64).abs() < 1e-9, "{x:?}");
        }
        // A square 5x5 image turned a quarter: output (r, c) reads source (c, 4 - r) for θ = +90°.
        let square = ImageShape {
            rows: 5,
            cols: 5,
            channels: 1,
            background: 0.0,
        };
        let mut augmenter = Augmenter::new(Augment::default(), square);
        let mut x = Array2::from_shape_fn((1, 25), |(_, i)| i as f64);
        augmenter.resample(
            x.row_mut(0),
            (0.0, 0.0),
            std::f64::consts::FRAC_PI_2,
            1.0,
            (false, false),
        );
        for r in 0..5 {
            for c in 0..5 {
                assert!((x[[0, r * 5 + c]] - (c * 5 + 4 - r) as f64).abs() < 1e-9, "{x:?}");
            }
        }
        // Scaling by 2 about the centre: output (2, 3) reads source (2, 2.5), halfway between.
        let mut x = Array2::from_shape_fn((1, 25), |(_, i)| i as f64);
        augmenter.resample(x.row_mut(0), (0.0, 0.0), 0.0, 2.0, (false, false));
        assert!((x[[0, 2 * 5 + 3]] - 12.5).abs() < 1e-12);
    }

    #[test]
    fn the_same_seed_gives_the_same_distortion_and_no_transform_changes_nothing() {
        let augment: Augment = "shift=2,rotate=15,scale=0.1,elastic=6,elastic-sigma=2".parse().unwrap();
        let mut augmenter = Augmenter::new(augment, SHAPE);
        let (mut a, mut b) = (image(), image());
        augmenter.apply(a.view_mut(), &mut ChaCha8Rng::seed_from_u64(4));
        augmenter.apply(b.view_mut(), &mut ChaCha8Rng::seed_from_u64(4));
        assert_eq!(a, b);
        assert_ne!(a, image());

        let mut identity = Augmenter::new(Augment::default(), SHAPE);
        let mut c = image();
        identity.apply(c.view_mut(), &mut ChaCha8Rng::seed_from_u64(4));
        assert_eq!(c, image());
    }

    #[test]
    fn the_channels_of_a_colour_pixel_move_together() {
        // Channel k is (k + 1) times the grey image, on a background of 0: interpolation is linear,
        // so every transformed channel is (k + 1) times the transformed grey image.
        let grey_shape = ImageShape {
            background: 0.0,
            ..SHAPE
        };
        let colour = ImageShape {
            channels: 3,
            ..grey_shape
        };
        let pixels = SHAPE.rows * SHAPE.cols;
        let rgb_image = Array2::from_shape_fn((1, 3 * pixels), |(_, v)| ((v % 3 + 1) * (v / 3)) as f64);
        let augment: Augment = "shift=1,rotate=20,elastic=3".parse().unwrap();
        let (mut grey, mut rgb) = (image(), rgb_image.clone());
        Augmenter::new(augment, grey_shape).apply(grey.view_mut(), &mut ChaCha8Rng::seed_from_u64(9));
        Augmenter::new(augment, colour).apply(rgb.view_mut(), &mut ChaCha8Rng::seed_from_u64(9));
        assert_ne!(rgb, rgb_image);
        for i in 0..pixels {
            for k in 0..3 {
                let expected = (k + 1) as f64 * grey[[0, i]];
                let found = rgb[[0, 3 * i + k]];
                assert!(
                    (found - expected).abs() < 1e-9,
                    "pixel {i} channel {k}: {found} for {expected}"
                );
            }
        }
    }

    #[test]
    fn a_flip_mirrors_about_half_the_images_left_to_right_and_nothing_else() {
        let augment = Augment {
            flip: true,
            ..Augment::default()
        };
        let mut augmenter = Augmenter::new(augment, SHAPE);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let original = image();
        let mirrored = Array2::from_shape_fn((1, 30), |(_, i)| {
            let (r, c) = (i / 6, i % 6);
            (r * 6 + 5 - c) as f64
        });
        let mut flipped = 0;
        for _ in 0..200 {
            let mut x = original.clone();
            augmenter.apply(x.view_mut(), &mut rng);
            if x == mirrored {
                flipped += 1;
            } else {
                assert_eq!(x, original, "an image is either kept or mirrored");
            }
        }
        assert!((70..=130).contains(&flipped), "{flipped} of 200 flipped");
        let parsed: Augment = "shift=2,flip".parse().unwrap();
        assert!(parsed.flip && !parsed.is_off());
        assert_eq!(parsed.to_string(), "shift=2,flip");
        assert_eq!(parsed.to_string().parse::<Augment>().unwrap(), parsed);
        // Recorded only when on: a run without flips writes the JSON it always did.
        assert!(!serde_json::to_string(&Augment::default()).unwrap().contains("flip"));
        assert!(serde_json::to_string(&parsed).unwrap().contains(r#""flip":true"#));
    }
}
