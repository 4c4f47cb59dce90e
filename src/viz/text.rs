//! Text on pictures, with a font compiled into the binary.
//!
//! The fonts are the two that the `epaint_default_fonts` crate (egui's fonts) ships: Ubuntu Light
//! (Ubuntu Font Licence 1.0) as the `sans-serif` family for charts and labels, and Hack Regular (MIT
//! and Bitstream Vera licences) as `monospace` for captions, which need its arrow (→). They are
//! registered once with plotters' `ab_glyph` renderer (pure Rust, no fontconfig or freetype), so
//! pictures render the same everywhere.

use std::sync::Once;

use image::RgbImage;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// The family of chart text and labels.
pub const SANS: &str = "sans-serif";
/// The family of captions.
pub const MONO: &str = "monospace";

/// Makes the bundled fonts available to plotters; call before drawing any text.
pub fn register() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        let fonts = [
            (SANS, epaint_default_fonts::UBUNTU_LIGHT),
            (MONO, epaint_default_fonts::HACK_REGULAR),
        ];
        for (family, bytes) in fonts {
            if register_font(family, FontStyle::Normal, bytes).is_err() {
                panic!("the bundled {family} font is not a readable TrueType font");
            }
        }
    });
}

/// Draws `text` in `family`, `size` pixels high, in `colour` onto `image`, centred on `centre` (x, y).
pub fn draw_centred(image: &mut RgbImage, text: &str, family: &str, centre: (i32, i32), size: f64, colour: [u8; 3]) {
    register();
    let (width, height) = image.dimensions();
    let area = BitMapBackend::with_buffer(image, (width, height)).into_drawing_area();
    let colour = RGBColor(colour[0], colour[1], colour[2]);
    let style = TextStyle::from((family, size).into_font())
        .color(&colour)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(text, &style, centre)
        .expect("drawing text into a memory buffer cannot fail once the font is registered");
}

/// The width in pixels of `text` in `family`, `size` pixels high, as `draw_centred` draws it.
pub fn width(text: &str, family: &str, size: f64) -> u32 {
    register();
    (family, size).into_font().box_size(text).map_or(0, |(width, _)| width)
}
