//! Grids of small images ("tiles"), such as digits or one hidden unit's weights each.
//!
//! Every tile is scaled up by a whole factor with nearest-neighbour sampling, so each source pixel
//! becomes a clean `scale`x`scale` square that a test can read back exactly. Tiles sit in rows of
//! `cols`, separated by a gap; with captions, each tile has a strip of text underneath.
//!
//! ```text
//! margin | tile 0 | gap | tile 1 | ...        cell width  = tile width * scale
//!        | cap 0  |     | cap 1  |            cell height = tile height * scale + caption strip
//! ```

use image::{Rgb, RgbImage};

use super::colormap::Rgb as Colour;
use super::text;

/// Grey between cells and around the grid.
pub const BACKGROUND: Colour = [210, 210, 210];
/// Pixels between neighbouring cells, and around the grid.
pub const GAP: u32 = 2;
/// Height of the caption text in pixels, and of the strip that holds it.
pub const CAPTION_TEXT: f64 = 14.0;
pub const CAPTION_STRIP: u32 = 18;

/// One image of the grid with the text to write under it.
#[derive(Clone, Debug)]
pub struct Tile {
    pub image: RgbImage,
    pub caption: Option<String>,
}

/// Where each tile lands in the picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridLayout {
    /// Size of one tile before scaling.
    pub tile_width: u32,
    pub tile_height: u32,
    pub scale: u32,
    pub cols: u32,
    pub rows: u32,
    pub captions: bool,
}

impl GridLayout {
    /// The layout of `tiles` tiles of `tile_width`x`tile_height` pixels in rows of `cols`.
    pub fn new(tiles: usize, (tile_width, tile_height): (u32, u32), cols: u32, scale: u32, captions: bool) -> Self {
        let cols = cols.max(1);
        let rows = (tiles as u32).div_ceil(cols).max(1);
        Self {
            tile_width,
            tile_height,
            scale: scale.max(1),
            cols,
            rows,
            captions,
        }
    }

    fn cell_width(&self) -> u32 {
        self.tile_width * self.scale
    }

    fn cell_height(&self) -> u32 {
        self.tile_height * self.scale + if self.captions { CAPTION_STRIP } else { 0 }
    }

    /// Width and height of the whole picture.
    pub fn size(&self) -> (u32, u32) {
        (
            GAP + self.cols * (self.cell_width() + GAP),
            GAP + self.rows * (self.cell_height() + GAP),
        )
    }

    /// Top-left pixel of the scaled tile `index` (counted along rows).
    pub fn tile_origin(&self, index: usize) -> (u32, u32) {
        let (row, col) = (index as u32 / self.cols, index as u32 % self.cols);
        (
            GAP + col * (self.cell_width() + GAP),
            GAP + row * (self.cell_height() + GAP),
        )
    }

    /// Centre of the caption strip under tile `index`.
    fn caption_centre(&self, index: usize) -> (i32, i32) {
        let (x, y) = self.tile_origin(index);
        let below_tile = y + self.tile_height * self.scale;
        (
            (x + self.cell_width() / 2) as i32,
            (below_tile + CAPTION_STRIP / 2) as i32,
        )
    }
}

/// Draws `tiles` (all of one size) in rows of `cols`, each scaled by `scale`.
///
/// Panics if `tiles` is empty or the tiles differ in size: callers build them from one data set.
pub fn draw_grid(tiles: &[Tile], cols: u32, scale: u32) -> (RgbImage, GridLayout) {
    let first = tiles.first().expect("a grid needs at least one tile");
    let captions = tiles.iter().any(|t| t.caption.is_some());
    let layout = GridLayout::new(tiles.len(), first.image.dimensions(), cols, scale, captions);
    let (width, height) = layout.size();
    let mut picture = RgbImage::from_pixel(width, height, Rgb(BACKGROUND));
    for (index, tile) in tiles.iter().enumerate() {
        assert_eq!(
            tile.image.dimensions(),
            first.image.dimensions(),
            "tiles of one grid share a size"
        );
        let (x0, y0) = layout.tile_origin(index);
        for (x, y, pixel) in tile.image.enumerate_pixels() {
            for dy in 0..layout.scale {
                for dx in 0..layout.scale {
                    picture.put_pixel(x0 + x * layout.scale + dx, y0 + y * layout.scale + dy, *pixel);
                }
            }
        }
        if let Some(caption) = &tile.caption {
            text::draw_centred(
                &mut picture,
                caption,
                text::MONO,
                layout.caption_centre(index),
                CAPTION_TEXT,
                [0, 0, 0],
            );
        }
    }
    (picture, layout)
}

/// A tile from an image's pixels as a data set stores them (row-major, `width` per row, each of
/// `channels` values: 1 grey, 3 RGB), shown as they are: grey 0 black and 255 white, RGB as is.
pub fn image_tile(pixels: &[u8], width: u32, channels: usize, caption: Option<String>) -> Tile {
    let height = (pixels.len() / channels) as u32 / width;
    let image = RgbImage::from_fn(width, height, |x, y| {
        let at = (y * width + x) as usize * channels;
        match pixels[at..at + channels] {
            [r, g, b] => Rgb([r, g, b]),
            _ => Rgb([pixels[at]; 3]),
        }
    });
    Tile { image, caption }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tile_pixel_becomes_a_square_at_its_place() {
        let tiles: Vec<Tile> = (0..5u8)
            .map(|t| image_tile(&[t, 10 * t, 100 + t, 200 + t, 7, 9], 3, 1, None))
            .collect();
        let (picture, layout) = draw_grid(&tiles, 2, 4);
        assert_eq!((layout.rows, layout.cols), (3, 2));
        assert_eq!(picture.dimensions(), (2 + 2 * (12 + 2), 2 + 3 * (8 + 2)));
        for (index, tile) in tiles.iter().enumerate() {
            let (x0, y0) = layout.tile_origin(index);
            for y in 0..8 {
                for x in 0..12 {
                    assert_eq!(picture.get_pixel(x0 + x, y0 + y), tile.image.get_pixel(x / 4, y / 4));
                }
            }
        }
        // The sixth cell is empty and gaps are background.
        let (x0, y0) = layout.tile_origin(5);
        assert_eq!(picture.get_pixel(x0 + 3, y0 + 3).0, BACKGROUND);
        assert_eq!(picture.get_pixel(0, 0).0, BACKGROUND);
    }

    #[test]
    fn colour_tiles_keep_each_pixels_channels() {
        let tile = image_tile(&[255, 0, 0, 0, 128, 0, 1, 2, 3, 9, 9, 9], 2, 3, None);
        assert_eq!(tile.image.dimensions(), (2, 2));
        assert_eq!(tile.image.get_pixel(0, 0).0, [255, 0, 0]);
        assert_eq!(tile.image.get_pixel(1, 0).0, [0, 128, 0]);
        assert_eq!(tile.image.get_pixel(0, 1).0, [1, 2, 3]);
        assert_eq!(image_tile(&[7, 8], 2, 1, None).image.get_pixel(1, 0).0, [8, 8, 8]);
    }

    #[test]
    fn captions_are_drawn_below_the_tiles_and_leave_them_intact() {
        let black = image_tile(&[0; 28 * 28], 28, 1, Some("7".to_owned()));
        let (picture, layout) = draw_grid(std::slice::from_ref(&black), 1, 2);
        assert_eq!(picture.dimensions(), (2 + 56 + 2, 2 + 56 + CAPTION_STRIP + 2));
        let (x0, y0) = layout.tile_origin(0);
        assert!((0..56).all(|y| (0..56).all(|x| picture.get_pixel(x0 + x, y0 + y).0 == [0, 0, 0])));
        let strip = (y0 + 56..y0 + 56 + CAPTION_STRIP).flat_map(|y| (x0..x0 + 56).map(move |x| (x, y)));
        let dark = strip.filter(|&(x, y)| picture.get_pixel(x, y).0[0] < 100).count();
        assert!(dark > 10, "the caption left {dark} dark pixels in its strip");
    }
}
