//! `sfmcp audit -o PATH`: write the report as a shell redirection would where the kind of
//! target matters, and atomically where that is safe.
//!
//! A rename replaces whatever is at the path, so it is used only for a regular file this
//! process may replace (or a new path): a reader then never sees half a report. A FIFO, a
//! character device (`/dev/null`, a terminal) or a file with other hard links is written
//! through, as `> PATH` would. A symlink stays a link and the file it points to is replaced.
//! A replaced file keeps its mode (and, where the process may set it, its owner), so
//! `-o report.json` never widens a 0600 report to 0644.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub fn write_report(path: &Path, content: &[u8]) -> io::Result<()> {
    // `metadata` follows symlinks: what matters is what the link points to.
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() || has_other_links(&meta) => write_through(path, content),
        Ok(meta) => {
            // Renaming over the link itself would turn it into a plain file.
            let target = fs::canonicalize(path)?;
            replace(&target, content, Some(&meta))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs::symlink_metadata(path).is_ok() {
                // A dangling symlink: a redirection creates the file it names.
                write_through(path, content)
            } else {
                replace(path, content, None)
            }
        }
        Err(e) => Err(e),
    }
}

/// A rename would give this name a new inode and leave the other names with the old report.
#[cfg(unix)]
fn has_other_links(meta: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    meta.nlink() > 1
}

#[cfg(not(unix))]
fn has_other_links(_meta: &Metadata) -> bool {
    false
}

fn write_through(path: &Path, content: &[u8]) -> io::Result<()> {
    // O_TRUNC is ignored by FIFOs and devices and empties a regular file, as `>` does.
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(content)?;
    file.flush()
}

fn replace(path: &Path, content: &[u8], existing: Option<&Metadata>) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let (tmp, file) = create_temp(dir, &name)?;
    let result = fill(file, content, existing).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A new file next to the target (a rename cannot cross file systems). `create_new` never
/// follows a symlink someone planted under the temporary name.
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut attempt = 0;
    loop {
        let tmp = dir.join(format!(
            ".{name}.{}.{:08x}.tmp",
            std::process::id(),
            u32::from_le_bytes(sfmcp_salesforce::crypto::random_bytes::<4>())
        ));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

fn fill(mut file: File, content: &[u8], existing: Option<&Metadata>) -> io::Result<()> {
    if let Some(meta) = existing {
        // Owner first: changing it may clear set-id bits the mode then restores.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            // Only root may give a file away; anyone else replaces a file they own anyway.
            let _ = std::os::unix::fs::fchown(&file, Some(meta.uid()), Some(meta.gid()));
        }
        file.set_permissions(meta.permissions())?;
    }
    file.write_all(content)?;
    // On disk before the rename, so a crash leaves the old report or the new one, never an
    // empty file.
    file.sync_all()
}
