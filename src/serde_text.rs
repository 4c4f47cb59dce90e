//! Values kept as their text in settings and files, through `Display` and `FromStr`: an activation
//! as `relu`, a loss as `mse(identity)`, an initialization as `normal(std 0.01)`. For
//! `#[serde(with = "crate::serde_text")]` on a field, or `serialize_with` alone.

use std::fmt::Display;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serializer, de};

pub fn serialize<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: FromStr<Err: Display>,
    D: Deserializer<'de>,
{
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(de::Error::custom)
}
