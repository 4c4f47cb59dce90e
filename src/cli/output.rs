//! Files named on the command line for writing: checked before the long work starts, so a bad path
//! fails in a second rather than after an hour of training.

use std::path::Path;

use super::exit::{UsageError, usage_bail};
use crate::viz::Format;

/// Fails with a usage error when `path` (given with `flag`) is a directory, or its directory does
/// not exist or does not take new files.
pub fn check_writable(flag: &str, path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        usage_bail!("{flag} {} is a directory; give a file name", path.display());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        usage_bail!(
            "{flag} {}: {} is not an existing directory; create it first or choose another path",
            path.display(),
            dir.display()
        );
    }
    if let Err(error) = tempfile::Builder::new().prefix(".mlp-").tempfile_in(dir) {
        // The error names the random temporary file; the directory is what the user needs to hear.
        let reason = std::io::Error::from(error.kind());
        usage_bail!(
            "{flag} {}: cannot create files in {}: {reason}",
            path.display(),
            dir.display()
        );
    }
    Ok(())
}

/// The format of the picture `path` (by its extension; SVG only where `svg_allowed`), after checking
/// that it can be written.
pub fn picture(flag: &str, path: &Path, svg_allowed: bool) -> anyhow::Result<Format> {
    let format = Format::of_path(flag, path, svg_allowed).map_err(|e| UsageError(format!("{e:#}")))?;
    check_writable(flag, path)?;
    Ok(format)
}
