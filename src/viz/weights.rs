//! The first layer's weights as pictures: what each hidden unit looks for in the input image.
//!
//! Column j of W₁ (inputs, hidden) holds the weights from every pixel into hidden unit j; reshaped
//! to the image's rows x cols it is a picture. Each picture is scaled by its own largest |w| into
//! [-1, 1]. Grey images are coloured with the diverging map: blue where a bright pixel lowers the
//! unit's input, red where it raises it, white where the pixel does not matter. Colour images have
//! three weights per pixel, one per channel, shown as that pixel's red, green and blue:
//! 127.5·(1 + w/max|w|) each, so mid-grey where the pixel does not matter and, say, red where a red
//! pixel raises the unit's input.

use image::{Rgb, RgbImage};
use ndarray::ArrayView2;

use super::colormap::diverging;
use super::grid::Tile;

/// One tile per column of `weight` (rows * cols * channels, units), each `cols` wide and `rows`
/// high; `channels` is 1 (grey) or 3 (RGB).
pub fn weight_tiles(weight: ArrayView2<f32>, rows: usize, cols: usize, channels: usize) -> Vec<Tile> {
    assert_eq!(
        weight.nrows(),
        rows * cols * channels,
        "one weight per pixel and channel"
    );
    weight
        .columns()
        .into_iter()
        .map(|unit| {
            let largest = unit.iter().fold(0.0f32, |m, &w| m.max(w.abs()));
            let scale = if largest > 0.0 { 1.0 / f64::from(largest) } else { 0.0 };
            let image = RgbImage::from_fn(cols as u32, rows as u32, |x, y| {
                let at = (y as usize * cols + x as usize) * channels;
                let scaled = |k: usize| f64::from(unit[at + k]) * scale;
                Rgb(match channels {
                    3 => [0, 1, 2].map(|k| (127.5 * (1.0 + scaled(k))).round() as u8),
                    _ => diverging(scaled(0)),
                })
            });
            Tile { image, caption: None }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn each_unit_is_scaled_to_its_own_largest_weight() {
        // Two units over a 2x2 image: unit 0 spans -2..1, unit 1 is all zero.
        let weight = array![[-2.0f32, 0.0], [1.0, 0.0], [0.0, 0.0], [0.5, 0.0]];
        let tiles = weight_tiles(weight.view(), 2, 2, 1);
        let unit0 = &tiles[0].image;
        assert_eq!(unit0.get_pixel(0, 0).0, diverging(-1.0));
        assert_eq!(unit0.get_pixel(1, 0).0, diverging(0.5));
        assert_eq!(unit0.get_pixel(0, 1).0, diverging(0.0));
        assert_eq!(unit0.get_pixel(1, 1).0, diverging(0.25));
        assert!(tiles[1].image.pixels().all(|p| p.0 == diverging(0.0)));
    }

    #[test]
    fn a_colour_unit_shows_its_three_weights_per_pixel_as_red_green_and_blue() {
        // One unit over a 1x2 colour image: pixel 0 weighs red +4, pixel 1 blue -2 and green +2.
        let weight = array![[4.0f32], [0.0], [0.0], [0.0], [2.0], [-2.0]];
        let tiles = weight_tiles(weight.view(), 1, 2, 3);
        let unit = &tiles[0].image;
        assert_eq!(unit.get_pixel(0, 0).0, [255, 128, 128]);
        assert_eq!(unit.get_pixel(1, 0).0, [128, 191, 64]);
    }
}
