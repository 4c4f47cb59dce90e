//! Pictures of digits made the way MNIST's were, so that a network trained on MNIST sees a drawn or
//! photographed digit the way it saw its training data.
//!
//! MNIST's makers took each digit's ink, scaled it to fit a 20x20 box keeping its aspect ratio (the
//! anti-aliasing made grey levels), and placed it in a 28x28 field so that its centre of mass fell
//! on the field's centre. Measured on the first 2,000 test digits, the longest side of every
//! digit's ink is exactly 20 pixels and the mean centre of mass is at pixel (14.00, 13.99), counting
//! pixels from 0. For a picture of any size:
//!
//! 1. grey: luma in [0, 1], transparent parts counted as white paper;
//! 2. inverted when the paper is light (the median of the picture's border above one half), so that
//!    ink is bright on dark as in MNIST;
//! 3. stretched so paper (that median) becomes 0 and the brightest ink 1; what stays below
//!    `NOISE` is paper grain or JPEG ringing and becomes 0;
//! 4. cropped to the ink's bounding box, scaled (triangle filter, area-averaging when shrinking) so
//!    its longer side is 20/28 of the field, and stretched again so its brightest pixel is 1;
//! 5. pasted into the field with its centre of mass (intensity-weighted, whole pixels) on pixel
//!    (cols/2, rows/2): (14, 14) for 28x28.
//!
//! Colour pictures for a colour model are not digits: they are only resized (`colour_resized`).

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::{ImageBuffer, Luma, Rgb};

/// A grey picture: one f32 per pixel, 0 black to 1 white.
pub type Grey = ImageBuffer<Luma<f32>, Vec<f32>>;

/// Stretched values below this are taken for paper, not ink.
pub const NOISE: f32 = 0.1;
/// Less difference than this between paper and the brightest ink is no ink at all.
pub const MIN_CONTRAST: f32 = 0.1;
/// The digit box's side as a share of the field: MNIST's 20 of 28.
const BOX_SHARE: f64 = 20.0 / 28.0;

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: not a readable picture: {message}", path.display())]
    Decode { path: PathBuf, message: String },
    #[error(
        "{}: no digit found: the darkest and lightest parts differ by less than {:.0}% \
         (is it blank, or a photo too dim to tell ink from paper?)",
        path.display(),
        100.0 * MIN_CONTRAST
    )]
    NoInk { path: PathBuf },
}

/// A digit ready for the network.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// rows * cols pixels, row-major, 0 (background) to 255 (ink).
    pub pixels: Vec<u8>,
    /// Whether the picture had dark ink on light paper and was inverted.
    pub inverted: bool,
}

/// Decodes a PNG, JPEG or PGM picture (`bytes`, read from `path`) into grey, with transparent parts
/// counted as white paper.
pub fn decode_picture(bytes: &[u8], path: &Path) -> Result<Grey, PictureError> {
    let picture = image::load_from_memory(bytes).map_err(|e| PictureError::Decode {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let grey_alpha = picture.to_luma_alpha32f();
    Ok(Grey::from_fn(grey_alpha.width(), grey_alpha.height(), |x, y| {
        let [luma, alpha] = grey_alpha.get_pixel(x, y).0;
        Luma([luma * alpha + (1.0 - alpha)])
    }))
}

/// Makes `picture` (read from `path`, named in errors) into a `rows` x `cols` MNIST-style digit.
pub fn mnist_style(picture: &Grey, rows: usize, cols: usize, path: &Path) -> Result<Prepared, PictureError> {
    let paper = median(border(picture));
    let inverted = paper > 0.5;
    let ink_of = |v: f32| if inverted { 1.0 - v } else { v };
    let background = ink_of(paper);
    let peak = picture.pixels().map(|p| ink_of(p.0[0])).fold(0.0, f32::max);
    if peak - background < MIN_CONTRAST {
        return Err(PictureError::NoInk { path: path.to_owned() });
    }
    let ink = Grey::from_fn(picture.width(), picture.height(), |x, y| {
        let v = ((ink_of(picture.get_pixel(x, y).0[0]) - background) / (peak - background)).clamp(0.0, 1.0);
        Luma([if v < NOISE { 0.0 } else { v }])
    });

    let (x0, y0, width, height) = ink_box(&ink).expect("the peak pixel is ink");
    let digit = imageops::crop_imm(&ink, x0, y0, width, height).to_image();
    let box_side = (BOX_SHARE * rows.min(cols) as f64).round().max(1.0);
    let scale = box_side / f64::from(width.max(height));
    let scaled_size = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
    let mut digit = imageops::resize(&digit, scaled_size(width), scaled_size(height), FilterType::Triangle);
    let brightest = digit.pixels().map(|p| p.0[0]).fold(0.0, f32::max);
    if brightest > 0.0 {
        digit.pixels_mut().for_each(|p| p.0[0] = (p.0[0] / brightest).min(1.0));
    }

    let (cx, cy) = centre_of_mass(&digit);
    let dx = (cols as f64 / 2.0 - cx).round() as i64;
    let dy = (rows as f64 / 2.0 - cy).round() as i64;
    let mut pixels = vec![0u8; rows * cols];
    for (x, y, p) in digit.enumerate_pixels() {
        let (fx, fy) = (i64::from(x) + dx, i64::from(y) + dy);
        if (0..cols as i64).contains(&fx) && (0..rows as i64).contains(&fy) {
            pixels[fy as usize * cols + fx as usize] = (p.0[0] * 255.0).round() as u8;
        }
    }
    Ok(Prepared { pixels, inverted })
}

/// Decodes a PNG, JPEG or PGM picture (`bytes`, read from `path`) and resizes it to `rows` x
/// `cols` (triangle filter, area-averaging when shrinking; the aspect ratio is not kept), with
/// transparent parts counted as white: rows * cols RGB pixels, row-major, channel last. What a
/// colour model sees of a photograph.
pub fn colour_resized(bytes: &[u8], rows: usize, cols: usize, path: &Path) -> Result<Vec<u8>, PictureError> {
    let picture = image::load_from_memory(bytes).map_err(|e| PictureError::Decode {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let rgba = picture.to_rgba32f();
    let on_white = ImageBuffer::<Rgb<f32>, Vec<f32>>::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, alpha] = rgba.get_pixel(x, y).0;
        Rgb([r, g, b].map(|v| v * alpha + (1.0 - alpha)))
    });
    let resized = imageops::resize(&on_white, cols as u32, rows as u32, FilterType::Triangle);
    Ok(resized
        .pixels()
        .flat_map(|p| p.0)
        .map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8)
        .collect())
}

/// The pixels of the picture's outer frame, about a twentieth of its shorter side thick.
fn border(picture: &Grey) -> Vec<f32> {
    let (w, h) = picture.dimensions();
    let thickness = (w.min(h) / 20).max(1);
    picture
        .enumerate_pixels()
        .filter(|&(x, y, _)| x < thickness || y < thickness || x >= w - thickness || y >= h - thickness)
        .map(|(_, _, p)| p.0[0])
        .collect()
}

fn median(mut values: Vec<f32>) -> f32 {
    values.sort_by(f32::total_cmp);
    values[values.len() / 2]
}

/// (x, y, width, height) of the smallest rectangle holding every non-zero pixel.
fn ink_box(ink: &Grey) -> Option<(u32, u32, u32, u32)> {
    let mut found: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in ink.enumerate_pixels() {
        if p.0[0] > 0.0 {
            let (x0, y0, x1, y1) = found.unwrap_or((x, y, x, y));
            found = Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y)));
        }
    }
    found.map(|(x0, y0, x1, y1)| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
}

/// The intensity-weighted mean pixel position (x, y), counting pixels from 0.
fn centre_of_mass(digit: &Grey) -> (f64, f64) {
    let (mut total, mut sx, mut sy) = (0.0, 0.0, 0.0);
    for (x, y, p) in digit.enumerate_pixels() {
        let v = f64::from(p.0[0]);
        total += v;
        sx += v * f64::from(x);
        sy += v * f64::from(y);
    }
    if total > 0.0 {
        (sx / total, sy / total)
    } else {
        (f64::from(digit.width()) / 2.0, f64::from(digit.height()) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepare(picture: &Grey) -> Prepared {
        mnist_style(picture, 28, 28, Path::new("t.png")).unwrap()
    }

    /// A dark bar, `w` x `h`, on light paper at (x0, y0) of a `width` x `height` picture.
    fn bar(width: u32, height: u32, (x0, y0): (u32, u32), (w, h): (u32, u32)) -> Grey {
        Grey::from_fn(width, height, |x, y| {
            let on = (x0..x0 + w).contains(&x) && (y0..y0 + h).contains(&y);
            Luma([if on { 0.1 } else { 0.9 }])
        })
    }

    fn ink_box_of(prepared: &Prepared) -> (u32, u32, u32, u32) {
        let grey = Grey::from_fn(28, 28, |x, y| Luma([f32::from(prepared.pixels[(y * 28 + x) as usize])]));
        ink_box(&grey).unwrap()
    }

    #[test]
    fn dark_ink_on_light_paper_is_inverted_scaled_to_20_and_centred() {
        // A 40x100 bar in a corner of a 300x200 page becomes an 8x20 bar whose centre (3.5, 9.5)
        // moves to (14, 14) rounded half away from zero: columns 11..19, rows 5..25.
        let prepared = prepare(&bar(300, 200, (10, 20), (40, 100)));
        assert!(prepared.inverted);
        assert_eq!(ink_box_of(&prepared), (11, 5, 8, 20));
        assert_eq!(prepared.pixels[14 * 28 + 14], 255);
        assert_eq!(prepared.pixels[0], 0);
    }

    #[test]
    fn light_ink_on_dark_is_kept_and_a_small_digit_is_enlarged() {
        let picture = Grey::from_fn(12, 12, |x, y| {
            Luma([if (4..8).contains(&x) && (2..7).contains(&y) {
                1.0
            } else {
                0.0
            }])
        });
        let prepared = prepare(&picture);
        assert!(!prepared.inverted);
        // 4x5 ink becomes 16x20 with its centre (7.5, 9.5) moved to (14, 14): columns 7..23, rows 5..25.
        assert_eq!(ink_box_of(&prepared), (7, 5, 16, 20));
        assert!(prepared.pixels.iter().all(|&p| p == 0 || p == 255));
    }

    #[test]
    fn transparent_paper_counts_as_white() {
        let mut png = Vec::new();
        let picture = image::RgbaImage::from_fn(30, 30, |x, _| {
            image::Rgba(if (10..14).contains(&x) {
                [0, 0, 0, 255]
            } else {
                [0, 0, 0, 0]
            })
        });
        picture
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let grey = decode_picture(&png, Path::new("t.png")).unwrap();
        assert_eq!(grey.get_pixel(0, 0).0[0], 1.0);
        assert_eq!(grey.get_pixel(11, 5).0[0], 0.0);
        assert!(prepare(&grey).inverted);
    }

    #[test]
    fn a_blank_picture_is_an_error_naming_the_file() {
        let blank = Grey::from_pixel(50, 50, Luma([0.8]));
        let error = mnist_style(&blank, 28, 28, Path::new("blank.png")).unwrap_err();
        assert!(error.to_string().starts_with("blank.png: no digit found"), "{error}");
        let error = decode_picture(b"not a picture", Path::new("x.png")).unwrap_err();
        assert!(
            error.to_string().starts_with("x.png: not a readable picture"),
            "{error}"
        );
    }

    #[test]
    fn a_colour_picture_is_resized_as_it_is() {
        let png = |picture: image::RgbImage| {
            let mut bytes = Vec::new();
            picture
                .write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png)
                .unwrap();
            bytes
        };
        let solid = png(image::RgbImage::from_pixel(7, 5, image::Rgb([200, 30, 90])));
        let pixels = colour_resized(&solid, 2, 3, Path::new("t.png")).unwrap();
        assert_eq!(pixels, [200, 30, 90].repeat(6));
        // Red on the left, blue on the right: so at 1x2, not inverted or centred.
        let halves = png(image::RgbImage::from_fn(40, 10, |x, _| {
            image::Rgb(if x < 20 { [220, 0, 0] } else { [0, 0, 220] })
        }));
        let pixels = colour_resized(&halves, 1, 2, Path::new("t.png")).unwrap();
        assert!(pixels[0] > 150 && pixels[2] < 70, "{pixels:?}");
        assert!(pixels[3] < 70 && pixels[5] > 150, "{pixels:?}");
    }

    #[test]
    fn an_mnist_like_digit_comes_back_unchanged() {
        // 5x20 ink whose fainter top row puts the centre of mass at (14, 13.69): MNIST's form already.
        let picture = Grey::from_fn(28, 28, |x, y| {
            let v = match ((12..17).contains(&x), y) {
                (true, 4) => 0.6,
                (true, 5..24) => 1.0,
                _ => 0.0,
            };
            Luma([v])
        });
        let prepared = prepare(&picture);
        let original: Vec<u8> = picture.pixels().map(|p| (p.0[0] * 255.0).round() as u8).collect();
        assert_eq!(prepared.pixels, original);
    }
}
