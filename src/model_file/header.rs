//! The safetensors envelope that models and checkpoints share: the `format` and `format_version`
//! metadata, the version check, the checksum, and a header written in sorted order.
//!
//! Checksum of versions 2 and 3, the `sha256` key: SHA-256 over every tensor sorted by name (name, 0 byte,
//! its bytes) and then every other metadata entry sorted by key (key, 0, value, 0). Version 1's
//! `tensor_sha256` covers only the layers' bytes, in the order layers.0.weight, layers.0.bias, ...

use std::collections::HashMap;

use safetensors::SafeTensors;
use safetensors::tensor::TensorView;
use sha2::{Digest, Sha256};

use super::tensors::{Tensor, hex, parameter_names};
use super::{ChecksumCheck, FORMAT, FORMAT_VERSION, ModelFormatError};

/// The safetensors bytes of `tensors` with `metadata`, the `format` keys and the checksum.
pub(super) fn seal(tensors: Vec<Tensor>, mut metadata: HashMap<String, String>) -> Vec<u8> {
    metadata.insert("format".to_owned(), FORMAT.to_owned());
    metadata.insert("format_version".to_owned(), FORMAT_VERSION.to_string());
    let digest = content_sha256(
        tensors
            .iter()
            .map(|(name, _, _, data)| (name.as_str(), data.as_slice())),
        &metadata,
    );
    metadata.insert("sha256".to_owned(), digest);
    safetensors_bytes(&tensors, metadata)
}

/// The safetensors bytes of `tensors` with `metadata`, the header in sorted order (see
/// `with_sorted_header`): for any safetensors file mlp writes, a model or an export.
pub(crate) fn safetensors_bytes(tensors: &[Tensor], metadata: HashMap<String, String>) -> Vec<u8> {
    let views: Vec<(String, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, data)| {
            let view = TensorView::new(*dtype, shape.clone(), data).expect("shape matches data length");
            (name.clone(), view)
        })
        .collect();
    let bytes = safetensors::serialize(views, Some(metadata)).expect("serializing in-memory tensors cannot fail");
    with_sorted_header(&bytes)
}

/// The checksum since version 2: every tensor by name (name, 0, bytes), then every metadata entry but
/// `sha256` by key (key, 0, value, 0).
fn content_sha256<'a>(
    tensors: impl Iterator<Item = (&'a str, &'a [u8])>,
    metadata: &HashMap<String, String>,
) -> String {
    let mut tensors: Vec<_> = tensors.collect();
    tensors.sort_by_key(|&(name, _)| name);
    let mut entries: Vec<_> = metadata.iter().filter(|(k, _)| k.as_str() != "sha256").collect();
    entries.sort();
    let mut hasher = Sha256::new();
    for (name, data) in tensors {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(data);
    }
    for (key, value) in entries {
        hasher.update(key.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hex(&hasher.finalize())
}

/// The same safetensors bytes with the header's JSON keys in sorted order. The safetensors crate
/// writes metadata in hash-map order, which changes from run to run; sorted, the same model always
/// gives the same bytes.
fn with_sorted_header(bytes: &[u8]) -> Vec<u8> {
    let header_len = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + header_len]).expect("safetensors wrote a JSON header");
    // serde_json's map is ordered by key.
    let mut sorted = header.to_string().into_bytes();
    // The data must start 8-byte aligned; the format pads the header with spaces.
    sorted.resize(sorted.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + sorted.len() + bytes.len() - 8 - header_len);
    out.extend_from_slice(&(sorted.len() as u64).to_le_bytes());
    out.extend_from_slice(&sorted);
    out.extend_from_slice(&bytes[8 + header_len..]);
    out
}

/// The metadata of an mlp file, read with errors that name the key.
pub(super) struct Metadata<'a>(&'a HashMap<String, String>);

impl<'a> Metadata<'a> {
    /// The metadata of a safetensors file, if it says it is an mlp file.
    pub(super) fn of_mlp(metadata: &'a Option<HashMap<String, String>>) -> Result<Self, ModelFormatError> {
        let metadata = metadata.as_ref().ok_or(ModelFormatError::Foreign)?;
        if metadata.get("format").map(String::as_str) != Some(FORMAT) {
            return Err(ModelFormatError::Foreign);
        }
        Ok(Self(metadata))
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a str> {
        self.0.get(key).map(String::as_str)
    }

    /// The value of `key`, which must be there.
    pub(super) fn field(&self, key: &str) -> Result<&'a str, ModelFormatError> {
        self.get(key)
            .ok_or_else(|| ModelFormatError::Corrupt(format!("metadata has no `{key}`")))
    }

    /// The value of `key` as JSON.
    pub(super) fn json(&self, key: &str) -> Result<serde_json::Value, ModelFormatError> {
        serde_json::from_str(self.field(key)?)
            .map_err(|e| ModelFormatError::Corrupt(format!("metadata `{key}` is not valid JSON: {e}")))
    }

    /// The format version, one this mlp reads (1 to `FORMAT_VERSION`).
    pub(super) fn version(&self) -> Result<u32, ModelFormatError> {
        let version_text = self.field("format_version")?;
        let version: u32 = version_text
            .parse()
            .map_err(|_| ModelFormatError::Corrupt(format!("format_version `{version_text}` is not a number")))?;
        if version > FORMAT_VERSION {
            return Err(ModelFormatError::FutureVersion(version));
        }
        if version == 0 {
            return Err(ModelFormatError::Corrupt("format_version 0 does not exist".to_owned()));
        }
        Ok(version)
    }

    /// The checksum recorded for `version` beside the one the content of `file` gives, a model of
    /// `layers` layers whose tensors have all been read.
    pub(super) fn checksum(
        &self,
        file: &SafeTensors<'_>,
        version: u32,
        layers: usize,
    ) -> Result<ChecksumCheck, ModelFormatError> {
        let (key, computed) = if version == 1 {
            let mut hasher = Sha256::new();
            for name in parameter_names(layers) {
                hasher.update(file.tensor(&name).expect("read above").data());
            }
            ("tensor_sha256", hex(&hasher.finalize()))
        } else {
            let tensors = file.iter().map(|(name, view)| (name, view.data()));
            ("sha256", content_sha256(tensors, self.0))
        };
        Ok(ChecksumCheck {
            key,
            recorded: self.field(key)?.to_owned(),
            computed,
        })
    }
}
