//! Whether a file holds what its publisher published, as `catalog` pins it: for `IdxContent`, the
//! length and SHA-256 of the IDX content once decompressed (gzip recognised by its first two
//! bytes); for `Published`, the length, MD5 and (where pinned) SHA-256 of the bytes themselves.
//! At most one byte past the pinned length is read, so a wrong file costs no more than a right one.

use std::io::{self, BufRead, Read, Write};

use flate2::read::GzDecoder;
use md5::Md5;
use sha2::{Digest, Sha256};

use super::catalog::{Check, PublishedFile};
use super::idx::GZIP_MAGIC;

/// Why content is not the published file.
#[derive(Debug)]
pub enum Unverified {
    /// It cannot be read: not a gzip stream where one is needed, or a read failed; worded for a
    /// message.
    Unreadable(String),
    /// It reads, but is other content: its length and digests, worded for a message.
    Differs(String),
}

/// The content is `file` as published. For an `IdxContent` check, says whether it was
/// gzip-compressed (else raw IDX).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub gzipped: bool,
}

/// Checks `content`, from its first byte, against `file`'s pin.
pub fn verify(mut content: impl BufRead, file: &PublishedFile) -> Result<Verified, Unverified> {
    match file.check {
        Check::IdxContent { idx_len, sha256 } => {
            let unreadable = |e: io::Error| Unverified::Unreadable(format!("not a readable gzip file ({e})"));
            // A fresh buffer over a file holds its first bytes, unless the file is shorter.
            let gzipped = content.fill_buf().map_err(unreadable)?.starts_with(&GZIP_MAGIC);
            let idx: Box<dyn Read> = if gzipped {
                Box::new(GzDecoder::new(content))
            } else {
                Box::new(content)
            };
            let digests = Digests::of(idx, idx_len).map_err(unreadable)?;
            if digests.length == idx_len && digests.sha256 == sha256 {
                Ok(Verified { gzipped })
            } else {
                let Digests { length, sha256, .. } = digests;
                Err(Unverified::Differs(format!(
                    "the content ({length} bytes, SHA-256 {sha256})"
                )))
            }
        }
        Check::Published { len, md5, sha256 } => {
            let unreadable = |e: io::Error| Unverified::Unreadable(format!("cannot be read ({e})"));
            let digests = Digests::of(content, len).map_err(unreadable)?;
            let sha256_matches = sha256.is_none_or(|pinned| digests.sha256 == pinned);
            if digests.length == len && digests.md5 == md5 && sha256_matches {
                return Ok(Verified { gzipped: false });
            }
            let Digests { length, md5, .. } = &digests;
            let shown = match sha256 {
                Some(_) => format!("the file ({length} bytes, MD5 {md5}, SHA-256 {})", digests.sha256),
                None => format!("the file ({length} bytes, MD5 {md5})"),
            };
            Err(Unverified::Differs(shown))
        }
    }
}

/// The length, MD5 and SHA-256 (lower-case hex) of at most `limit + 1` bytes of a stream.
struct Digests {
    length: u64,
    md5: String,
    sha256: String,
}

impl Digests {
    fn of(content: impl Read, limit: u64) -> io::Result<Self> {
        let mut hashers = Hashers(Md5::new(), Sha256::new());
        let length = io::copy(&mut content.take(limit + 1), &mut hashers)?;
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            length,
            md5: hex(&hashers.0.finalize()),
            sha256: hex(&hashers.1.finalize()),
        })
    }
}

/// Feeds written bytes to both hashers.
struct Hashers(Md5, Sha256);

impl Write for Hashers {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.update(bytes);
        self.1.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MD5 and SHA-256 of the three bytes `abc` (RFC 1321 and FIPS 180-2 test vectors).
    const ABC_MD5: &str = "900150983cd24fb0d6963f7d28e17f72";
    const ABC_SHA256: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn published(len: u64, md5: &'static str, sha256: Option<&'static str>) -> PublishedFile {
        PublishedFile {
            name: "abc.bin",
            check: Check::Published { len, md5, sha256 },
        }
    }

    #[test]
    fn published_bytes_verify_by_length_md5_and_sha256() {
        let verified = Verified { gzipped: false };
        assert_eq!(
            verify(&b"abc"[..], &published(3, ABC_MD5, Some(ABC_SHA256))).unwrap(),
            verified
        );
        assert_eq!(verify(&b"abc"[..], &published(3, ABC_MD5, None)).unwrap(), verified);
        let wrong_sha = "0".repeat(64).leak();
        let Err(Unverified::Differs(shown)) = verify(&b"abc"[..], &published(3, ABC_MD5, Some(wrong_sha))) else {
            panic!("a wrong SHA-256 fails")
        };
        assert_eq!(
            shown,
            format!("the file (3 bytes, MD5 {ABC_MD5}, SHA-256 {ABC_SHA256})")
        );
        let Err(Unverified::Differs(shown)) = verify(&b"abcd"[..], &published(3, ABC_MD5, None)) else {
            panic!("a longer file fails")
        };
        assert!(shown.starts_with("the file (4 bytes, MD5 "), "{shown}");
    }

    #[test]
    fn idx_content_verifies_raw_or_gzipped() {
        let file = PublishedFile {
            name: "abc",
            check: Check::IdxContent {
                idx_len: 3,
                sha256: ABC_SHA256,
            },
        };
        assert_eq!(verify(&b"abc"[..], &file).unwrap(), Verified { gzipped: false });
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"abc").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(verify(&gz[..], &file).unwrap(), Verified { gzipped: true });
        assert!(matches!(
            verify(&gz[..gz.len() / 2], &file),
            Err(Unverified::Unreadable(_))
        ));
    }
}
