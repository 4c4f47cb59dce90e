//! Colour maps: numbers to colours, by linear interpolation between anchor colours.
//!
//! | map        | domain   | colours                                                   | used for          |
//! |------------|----------|-----------------------------------------------------------|-------------------|
//! | diverging  | [-1, 1]  | blue (-1), white (0), red (+1): ColorBrewer RdBu's ends   | signed weights    |
//! | sequential | [0, 1]   | white (0) to dark blue (1): ColorBrewer Blues              | shares, counts    |
//! | warm       | [0, 1]   | white (0) to dark red (1): ColorBrewer Reds                | shares of errors  |
//!
//! Values outside the domain are clamped; NaN maps to the middle of the domain.

pub type Rgb = [u8; 3];

const DIVERGING: [(f64, Rgb); 3] = [(-1.0, [33, 102, 172]), (0.0, [247, 247, 247]), (1.0, [178, 24, 43])];

const SEQUENTIAL: [(f64, Rgb); 3] = [(0.0, [247, 251, 255]), (0.5, [107, 174, 214]), (1.0, [8, 48, 107])];

const WARM: [(f64, Rgb); 3] = [(0.0, [255, 245, 240]), (0.5, [251, 106, 74]), (1.0, [103, 0, 13])];

/// Blue for negative, white for zero, red for positive; `v` in [-1, 1].
pub fn diverging(v: f64) -> Rgb {
    interpolate(&DIVERGING, v)
}

/// White for 0 to dark blue for 1.
pub fn sequential(v: f64) -> Rgb {
    interpolate(&SEQUENTIAL, v)
}

/// White for 0 to dark red for 1.
pub fn warm(v: f64) -> Rgb {
    interpolate(&WARM, v)
}

/// Black or white, whichever reads better on `background` (by its luma, Rec. 601 weights).
pub fn text_colour_on(background: Rgb) -> Rgb {
    let [r, g, b] = background.map(f64::from);
    if 0.299 * r + 0.587 * g + 0.114 * b < 128.0 {
        [255, 255, 255]
    } else {
        [0, 0, 0]
    }
}

/// The colour at `v` on the piecewise-linear map through `anchors` (sorted by position).
fn interpolate(anchors: &[(f64, Rgb)], v: f64) -> Rgb {
    let (lo, hi) = (anchors[0].0, anchors[anchors.len() - 1].0);
    let v = if v.is_nan() { (lo + hi) / 2.0 } else { v.clamp(lo, hi) };
    let segment = anchors
        .windows(2)
        .find(|w| v <= w[1].0)
        .expect("v is clamped to the anchors' range");
    let ((p0, c0), (p1, c1)) = (segment[0], segment[1]);
    let f = (v - p0) / (p1 - p0);
    std::array::from_fn(|k| (f64::from(c0[k]) + f * (f64::from(c1[k]) - f64::from(c0[k]))).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_hit_exactly_and_the_domain_is_clamped() {
        assert_eq!(diverging(-1.0), [33, 102, 172]);
        assert_eq!(diverging(0.0), [247, 247, 247]);
        assert_eq!(diverging(1.0), [178, 24, 43]);
        assert_eq!(diverging(-7.0), diverging(-1.0));
        assert_eq!(diverging(f64::NAN), diverging(0.0));
        assert_eq!(sequential(0.0), [247, 251, 255]);
        assert_eq!(sequential(2.0), [8, 48, 107]);
        assert_eq!(warm(0.0), [255, 245, 240]);
        assert_eq!(warm(1.0), [103, 0, 13]);
    }

    #[test]
    fn halfway_between_anchors_is_the_mean_colour() {
        // Between white (247,247,247) and red (178,24,43): (212.5, 135.5, 145) rounded.
        assert_eq!(diverging(0.5), [213, 136, 145]);
    }

    #[test]
    fn sequential_darkens_steadily() {
        let luma = |c: Rgb| c.iter().map(|&v| u32::from(v)).sum::<u32>();
        let steps: Vec<u32> = (0..=10).map(|i| luma(sequential(f64::from(i) / 10.0))).collect();
        assert!(steps.windows(2).all(|w| w[1] < w[0]), "{steps:?}");
        assert_eq!(text_colour_on(sequential(0.0)), [0, 0, 0]);
        assert_eq!(text_colour_on(sequential(1.0)), [255, 255, 255]);
    }
}
