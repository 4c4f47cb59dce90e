//! The IDX file format (LeCun's MNIST format), gzip-compressed or raw.
//!
//! ```text
//! offset 0: 0x00 0x00            two zero bytes
//! offset 2: type code            0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//! offset 3: number of dimensions d (at least 1)
//! offset 4: d big-endian u32     the size of each dimension
//! then:     the elements, big-endian, row-major (the last dimension varies fastest)
//! ```
//!
//! Gzip is recognised by its magic bytes (`1f 8b`), never by the file name. The size the header claims
//! is checked against the bytes really present before anything that size is allocated, so a hostile
//! header cannot make the reader allocate more than the input justifies. This module knows nothing of
//! digits or labels; `dataset` gives the arrays their meaning.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use byteorder::{BigEndian, ByteOrder};
use flate2::read::GzDecoder;

/// The first two bytes of every gzip stream.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The largest payload a header may claim: 16 GiB, far beyond any IDX data set in use.
const MAX_PAYLOAD_BYTES: u64 = 1 << 34;

/// The element type of an IDX array, as named by its type code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementType {
    U8,
    I8,
    I16,
    I32,
    F32,
    F64,
}

impl ElementType {
    fn from_code(code: u8) -> Option<Self> {
        match code {
            0x08 => Some(Self::U8),
            0x09 => Some(Self::I8),
            0x0B => Some(Self::I16),
            0x0C => Some(Self::I32),
            0x0D => Some(Self::F32),
            0x0E => Some(Self::F64),
            _ => None,
        }
    }

    /// The type code written in byte 2 of the header.
    pub fn code(self) -> u8 {
        match self {
            Self::U8 => 0x08,
            Self::I8 => 0x09,
            Self::I16 => 0x0B,
            Self::I32 => 0x0C,
            Self::F32 => 0x0D,
            Self::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::U8 | Self::I8 => 1,
            Self::I16 => 2,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }
}

impl fmt::Display for ElementType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::U8 => "unsigned byte (u8)",
            Self::I8 => "signed byte (i8)",
            Self::I16 => "16-bit integer (i16)",
            Self::I32 => "32-bit integer (i32)",
            Self::F32 => "32-bit float (f32)",
            Self::F64 => "64-bit float (f64)",
        };
        f.write_str(name)
    }
}

/// The elements of an IDX array, in file order, decoded to native values.
#[derive(Clone, Debug, PartialEq)]
pub enum IdxData {
    U8(Vec<u8>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

impl IdxData {
    pub fn element_type(&self) -> ElementType {
        match self {
            Self::U8(_) => ElementType::U8,
            Self::I8(_) => ElementType::I8,
            Self::I16(_) => ElementType::I16,
            Self::I32(_) => ElementType::I32,
            Self::F32(_) => ElementType::F32,
            Self::F64(_) => ElementType::F64,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Self::U8(v) => v.len(),
            Self::I8(v) => v.len(),
            Self::I16(v) => v.len(),
            Self::I32(v) => v.len(),
            Self::F32(v) => v.len(),
            Self::F64(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An n-dimensional IDX array: its dimensions and its elements.
#[derive(Clone, Debug, PartialEq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: IdxData,
}

/// What is wrong with an IDX byte stream, independent of where it came from.
#[derive(Debug, thiserror::Error)]
pub enum IdxFormatError {
    #[error("the file is {found} bytes long, too short for an IDX header ({needed} bytes)")]
    ShortHeader { needed: usize, found: usize },
    #[error("bad magic number {found:02x?}: an IDX file starts with two zero bytes, a type code and a dimension count")]
    BadMagic { found: [u8; 2] },
    #[error(
        "unknown element type code 0x{0:02x} (expected 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32 or 0x0e f64)"
    )]
    UnknownType(u8),
    #[error("the header declares 0 dimensions; an IDX array has at least one")]
    NoDimensions,
    #[error("dimension {index} has size 0; every dimension must be at least 1 (dimensions {dims:?})")]
    ZeroDimension { index: usize, dims: Vec<usize> },
    #[error("dimensions {dims:?} of {element} claim {claimed} bytes, more than the {limit} bytes this reader accepts")]
    TooLarge {
        dims: Vec<usize>,
        element: ElementType,
        claimed: String,
        limit: u64,
    },
    #[error("truncated: dimensions {dims:?} of {element} need {expected} bytes of data, but only {found} are there")]
    Truncated {
        dims: Vec<usize>,
        element: ElementType,
        expected: u64,
        found: u64,
    },
    #[error("{extra} bytes of trailing garbage after the {expected} bytes that dimensions {dims:?} of {element} need")]
    TrailingBytes {
        dims: Vec<usize>,
        element: ElementType,
        expected: u64,
        extra: u64,
    },
    #[error("corrupt gzip data: {0}")]
    CorruptGzip(io::Error),
}

/// An IDX file that could not be read, with its path.
#[derive(Debug, thiserror::Error)]
pub enum IdxError {
    #[error("cannot read IDX file {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {source}", path.display())]
    Format { path: PathBuf, source: IdxFormatError },
}

/// Reads the IDX file at `path`, gzip-compressed or raw (detected by content).
pub fn read_idx_file(path: &Path) -> Result<IdxArray, IdxError> {
    let io_error = |source| IdxError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io_error)?;
    let file_len = file.metadata().map_err(io_error)?.len();
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut file, &mut magic).map_err(io_error)?;
    let head = io::Cursor::new(magic[..got].to_vec()).chain(file);
    let result = if magic[..got] == GZIP_MAGIC {
        read_idx(GzDecoder::new(head), Stream::Gzip(file_len))
    } else {
        read_idx(head, Stream::Raw(file_len))
    };
    result.map_err(|source| match source {
        IdxReadError::Io(source) => io_error(source),
        IdxReadError::Format(source) => IdxError::Format {
            path: path.to_owned(),
            source,
        },
    })
}

/// Parses an IDX array from bytes in memory, gzip-compressed or raw.
pub fn parse_idx(bytes: &[u8]) -> Result<IdxArray, IdxFormatError> {
    let result = if bytes.starts_with(&GZIP_MAGIC) {
        read_idx(GzDecoder::new(bytes), Stream::Gzip(bytes.len() as u64))
    } else {
        read_idx(bytes, Stream::Raw(bytes.len() as u64))
    };
    result.map_err(|e| match e {
        IdxReadError::Format(e) => e,
        // Reading from memory fails only inside the gzip decoder.
        IdxReadError::Io(e) => IdxFormatError::CorruptGzip(e),
    })
}

/// Encodes an array as raw (uncompressed) IDX bytes.
pub fn encode_idx(array: &IdxArray) -> Vec<u8> {
    let element = array.data.element_type();
    let mut out = vec![0, 0, element.code(), array.dims.len() as u8];
    for &d in &array.dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    match &array.data {
        IdxData::U8(v) => out.extend_from_slice(v),
        IdxData::I8(v) => out.extend(v.iter().map(|x| x.to_be_bytes()[0])),
        IdxData::I16(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
        IdxData::I32(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
        IdxData::F32(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
        IdxData::F64(v) => out.extend(v.iter().flat_map(|x| x.to_be_bytes())),
    }
    out
}

enum IdxReadError {
    Io(io::Error),
    Format(IdxFormatError),
}

impl From<IdxFormatError> for IdxReadError {
    fn from(e: IdxFormatError) -> Self {
        Self::Format(e)
    }
}

/// What `read_idx` reads, with its length in bytes as stored.
#[derive(Clone, Copy)]
enum Stream {
    Raw(u64),
    Gzip(u64),
}

/// Deflate makes at most 1032 bytes out of one (a 258-byte match in 2 bits, RFC 1951), so a
/// gzip stream inflates to at most this many times its length.
pub(super) const MAX_INFLATION: u64 = 1032;

/// Reads one IDX array from `reader`. A raw stream's header claiming more than is there fails
/// before any allocation; a gzip stream's payload is given room for the header's claim, but never
/// more than its compressed length can inflate to.
fn read_idx<R: Read>(mut reader: R, stream: Stream) -> Result<IdxArray, IdxReadError> {
    let compressed = matches!(stream, Stream::Gzip(_));
    let read_error = |e: io::Error| {
        if compressed && e.kind() != io::ErrorKind::NotFound && e.kind() != io::ErrorKind::PermissionDenied {
            IdxReadError::Format(IdxFormatError::CorruptGzip(e))
        } else {
            IdxReadError::Io(e)
        }
    };

    let mut fixed = [0u8; 4];
    let got = read_up_to(&mut reader, &mut fixed).map_err(read_error)?;
    if got < 4 {
        return Err(IdxFormatError::ShortHeader { needed: 4, found: got }.into());
    }
    if fixed[..2] != [0, 0] {
        return Err(IdxFormatError::BadMagic {
            found: [fixed[0], fixed[1]],
        }
        .into());
    }
    let element = ElementType::from_code(fixed[2]).ok_or(IdxFormatError::UnknownType(fixed[2]))?;
    let ndims = usize::from(fixed[3]);
    if ndims == 0 {
        return Err(IdxFormatError::NoDimensions.into());
    }

    let header_len = 4 + 4 * ndims;
    let mut dim_bytes = vec![0u8; 4 * ndims];
    let got = read_up_to(&mut reader, &mut dim_bytes).map_err(read_error)?;
    if got < dim_bytes.len() {
        return Err(IdxFormatError::ShortHeader {
            needed: header_len,
            found: 4 + got,
        }
        .into());
    }
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| BigEndian::read_u32(c) as usize)
        .collect();
    if let Some(index) = dims.iter().position(|&d| d == 0) {
        return Err(IdxFormatError::ZeroDimension { index, dims }.into());
    }

    let claimed = dims
        .iter()
        .try_fold(element.size() as u128, |acc, &d| acc.checked_mul(d as u128))
        .unwrap_or(u128::MAX);
    if claimed > u128::from(MAX_PAYLOAD_BYTES) {
        let claimed = claimed.to_string();
        return Err(IdxFormatError::TooLarge {
            dims,
            element,
            claimed,
            limit: MAX_PAYLOAD_BYTES,
        }
        .into());
    }
    let expected = claimed as u64;

    let room = match stream {
        Stream::Raw(total) => {
            check_payload_length(total.saturating_sub(header_len as u64), expected, &dims, element)?;
            expected
        }
        Stream::Gzip(stored) => expected.min(stored.saturating_mul(MAX_INFLATION)),
    };

    // Room for the whole payload at once: growing by doubling would copy it (and hold two copies)
    // several times. For gzip the true length is unknown until decompressed: read at most one byte
    // more than needed and only count what lies beyond.
    let mut payload = Vec::new();
    // Where that much memory is refused, the buffer grows as the data arrives instead; a stream
    // that ends early then fails as too short, not as an abort.
    let _ = payload.try_reserve_exact(room as usize);
    (&mut reader)
        .take(expected + 1)
        .read_to_end(&mut payload)
        .map_err(read_error)?;
    let beyond = io::copy(&mut reader, &mut io::sink()).map_err(read_error)?;
    check_payload_length(payload.len() as u64 + beyond, expected, &dims, element)?;

    let data = decode_elements(element, payload);
    Ok(IdxArray { dims, data })
}

/// The payload must be exactly the `expected` bytes that the dimensions claim.
fn check_payload_length(found: u64, expected: u64, dims: &[usize], element: ElementType) -> Result<(), IdxFormatError> {
    let dims = dims.to_vec();
    if found < expected {
        return Err(IdxFormatError::Truncated {
            dims,
            element,
            expected,
            found,
        });
    }
    if found > expected {
        return Err(IdxFormatError::TrailingBytes {
            dims,
            element,
            expected,
            extra: found - expected,
        });
    }
    Ok(())
}

/// The payload's elements; u8 data keep the payload's buffer (MNIST's 47 MB of pixels are not copied).
fn decode_elements(element: ElementType, bytes: Vec<u8>) -> IdxData {
    fn decode<T: Default + Clone>(bytes: &[u8], size: usize, read: fn(&[u8], &mut [T])) -> Vec<T> {
        let mut out = vec![T::default(); bytes.len() / size];
        read(bytes, &mut out);
        out
    }
    match element {
        ElementType::U8 => IdxData::U8(bytes),
        ElementType::I8 => IdxData::I8(bytes.iter().map(|&b| b as i8).collect()),
        ElementType::I16 => IdxData::I16(decode(&bytes, 2, BigEndian::read_i16_into)),
        ElementType::I32 => IdxData::I32(decode(&bytes, 4, BigEndian::read_i32_into)),
        ElementType::F32 => IdxData::F32(decode(&bytes, 4, BigEndian::read_f32_into)),
        ElementType::F64 => IdxData::F64(decode(&bytes, 8, BigEndian::read_f64_into)),
    }
}

/// Fills `buf` from `reader` as far as the stream goes; returns how many bytes were read.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_parse_round_trips_every_type() {
        let arrays = [
            IdxArray {
                dims: vec![2, 3],
                data: IdxData::U8(vec![0, 1, 2, 253, 254, 255]),
            },
            IdxArray {
                dims: vec![3],
                data: IdxData::I8(vec![-128, 0, 127]),
            },
            IdxArray {
                dims: vec![1, 1, 2],
                data: IdxData::I16(vec![-300, 300]),
            },
            IdxArray {
                dims: vec![2],
                data: IdxData::I32(vec![i32::MIN, 70000]),
            },
            IdxArray {
                dims: vec![2],
                data: IdxData::F32(vec![-1.5, 3.25]),
            },
            IdxArray {
                dims: vec![1],
                data: IdxData::F64(vec![std::f64::consts::PI]),
            },
        ];
        for array in arrays {
            assert_eq!(parse_idx(&encode_idx(&array)).unwrap(), array);
        }
    }

    /// Gzips `bytes` at the fastest level.
    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn a_gzip_payload_is_read_into_room_made_once() {
        // 300,000 bytes of images: grown by doubling, the buffer would end with room for 2^19.
        let array = IdxArray {
            dims: vec![300, 1000],
            data: IdxData::U8((0..300_000).map(|i| (i % 7) as u8).collect()),
        };
        let parsed = parse_idx(&gzip(&encode_idx(&array))).unwrap();
        assert_eq!(parsed, array);
        let IdxData::U8(pixels) = parsed.data else {
            unreachable!("parsed as u8 above")
        };
        assert_eq!(pixels.capacity(), 300_000);
    }
}
