//! Data: the IDX file format, MNIST-like data sets built on it (and their nonzero pixels) with
//! their classes, the `Samples` the training loop cuts mini-batches from, small CSV tables of
//! numbers, pictures made MNIST-style, and the data sets known by name (MNIST, Fashion-MNIST,
//! KMNIST, K49, EMNIST) with their publishers' layouts, checksums and download.

pub mod augment;
pub mod catalog;
pub mod classes;
pub mod csv_images;
pub mod dataset;
pub mod download;
pub mod emnist;
pub mod idx;
pub mod image_table;
pub mod k49;
pub mod layout;
pub mod nonzero;
pub mod npz;
pub mod preprocess;
pub mod samples;
pub mod scaling;
pub mod source;
pub mod split;
pub mod table;
pub mod verify;
