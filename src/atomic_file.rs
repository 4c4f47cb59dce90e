//! Writing a file whole or not at all.
//!
//! The bytes go to a temporary file beside the target (`.mlp-*.tmp`, in the same directory, hence on
//! the same file system), which is synced to disk and then renamed over the target. A rename within
//! one file system is atomic, so a reader (another process, or a crash before the rename) sees the
//! old file or the new one, never half of one; a failed write leaves no temporary file behind.
//!
//! Permissions: a temporary file is private (0600) by default; the finished file gets what any new
//! file gets (0666 less the umask), so that others can read a model or a picture as they could a
//! file written directly.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to a temporary file in `path`'s directory, syncs it, and renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".mlp-").suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_reader_sees_the_old_file_or_the_new_one_never_half_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        // Large enough that a write in place would be seen half done.
        let (old, new) = (vec![b'o'; 1 << 18], vec![b'n'; 1 << 18]);
        write_atomically(&path, &old).unwrap();
        let writing = AtomicBool::new(true);
        std::thread::scope(|s| {
            s.spawn(|| {
                for k in 0..20 {
                    write_atomically(&path, if k % 2 == 0 { &new } else { &old }).unwrap();
                }
                write_atomically(&path, &new).unwrap();
                writing.store(false, Ordering::SeqCst);
            });
            while writing.load(Ordering::SeqCst) {
                let seen = fs::read(&path).unwrap();
                assert!(seen == old || seen == new, "read {} bytes of a mixed file", seen.len());
            }
        });
        assert_eq!(fs::read(&path).unwrap(), new);
        assert_eq!(names_in(dir.path()), ["out.bin"]);
    }

    #[test]
    fn a_failed_rename_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A file cannot be renamed over a directory.
        let target = dir.path().join("a-directory");
        fs::create_dir(&target).unwrap();
        assert!(write_atomically(&target, b"bytes").is_err());
        assert_eq!(names_in(dir.path()), ["a-directory"]);
    }

    #[cfg(unix)]
    #[test]
    fn the_file_gets_the_permissions_of_any_new_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (atomic, plain) = (dir.path().join("atomic"), dir.path().join("plain"));
        write_atomically(&atomic, b"bytes").unwrap();
        fs::write(&plain, b"bytes").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&atomic), mode(&plain));
    }
}
