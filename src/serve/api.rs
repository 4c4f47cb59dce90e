//! The two API answers: a picture's prediction (`POST /api/predict`) and the model's summary
//! (`GET /api/model`), both JSON.
//!
//! A prediction is one entry of `mlp predict --json`'s `predictions` (the same preprocessing, the
//! same keys), with every class ranked, plus `seen`: the image the network was given (after the
//! MNIST-style preprocessing, before the model's input scaling) as a `data:image/png;base64,` URL.

use std::io::Cursor;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};
use serde_json::Value;

use crate::data::classes::Classes;
use crate::data::dataset::ImageSize;
use crate::data::scaling::Scaling;
use crate::model_file::Model;
use crate::nn::Network;
use crate::predict::{InputError, outputs_are_probabilities, picture_input, prediction_json, top_classes};
use crate::summary::ModelSummary;

/// What a request body is called in error messages and in a prediction's `input`.
pub const BODY_NAME: &str = "request body";

/// A loaded model and everything the API says about it.
pub struct Api {
    network: Network<f32>,
    scaling: Scaling,
    size: ImageSize,
    classes: Classes,
    probabilities: bool,
    summary: Value,
}

impl Api {
    /// The API for `model`, whose file `summary` describes.
    pub fn new(model: Model, summary: &ModelSummary) -> Self {
        Self {
            probabilities: outputs_are_probabilities(&model.network),
            scaling: model.info.input.scaling,
            size: model.info.input.size(),
            classes: model.info.classes,
            network: model.network,
            summary: serde_json::to_value(summary).expect("a summary is plain data"),
        }
    }

    /// `GET /api/model`: the content of `mlp info --json`.
    pub fn summary(&self) -> &Value {
        &self.summary
    }

    /// `POST /api/predict`: every class of the picture in `bytes` (PNG, JPEG or PGM), largest
    /// output first, and the image the network saw.
    pub fn predict(&self, bytes: &[u8]) -> Result<Value, InputError> {
        let input = picture_input(bytes, Path::new(BODY_NAME), self.size)?;
        let ranked = top_classes(
            &self.network,
            self.scaling,
            std::slice::from_ref(&input),
            self.network.outputs(),
        );
        let mut prediction = prediction_json(&input, &ranked[0], &self.classes, self.probabilities);
        prediction["seen"] = Value::String(png_data_url(&input.pixels, self.size));
        Ok(prediction)
    }
}

/// An image of `size` (`pixels` row-major, channel last; 0 black to 255 white) as a PNG data URL.
fn png_data_url(pixels: &[u8], size: ImageSize) -> String {
    let (width, height) = (size.cols as u32, size.rows as u32);
    let image: DynamicImage = if size.channels == 3 {
        RgbImage::from_raw(width, height, pixels.to_vec())
            .expect("rows * cols * 3 values")
            .into()
    } else {
        GrayImage::from_raw(width, height, pixels.to_vec())
            .expect("rows * cols pixels")
            .into()
    };
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .expect("encoding a PNG in memory does not fail");
    format!("data:image/png;base64,{}", STANDARD.encode(&png))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seen_image_is_a_png_of_the_pixels() {
        let pixels: Vec<u8> = (0..12).map(|i| i * 20).collect();
        let url = png_data_url(&pixels, ImageSize::grey(3, 4));
        let png = STANDARD
            .decode(url.strip_prefix("data:image/png;base64,").unwrap())
            .unwrap();
        let decoded = image::load_from_memory_with_format(&png, ImageFormat::Png)
            .unwrap()
            .to_luma8();
        assert_eq!(decoded.dimensions(), (4, 3));
        assert_eq!(decoded.into_raw(), pixels);
    }
}
