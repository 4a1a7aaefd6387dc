//! Reading and writing files so that nothing is ever half there.
//!
//! A read fills its buffer however the reader splits it ([`read_full`]). A
//! single file (a converted trace, a decisions log) is written through a
//! temporary file beside it and a rename ([`write_atomic`]); a directory is
//! replaced whole by one atomic exchange with a new one ([`swap_in`]: Linux
//! `renameat2(RENAME_EXCHANGE)`; elsewhere the old one is renamed aside
//! first). Temporary names are random and created exclusively, so two
//! writers never share one and a planted symlink is never followed.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Puts directory `new` at `dir` in one step, leaving the previous `dir`
/// (if any) at `new`.
pub(crate) fn swap_in(new: &Path, dir: &Path) -> io::Result<()> {
    if dir.symlink_metadata().is_err() {
        match fs::rename(new, dir) {
            Ok(()) => return Ok(()),
            Err(e) if dir.symlink_metadata().is_err() => return Err(e),
            // Another run put its set there meanwhile: exchange with it.
            Err(_) => {}
        }
    }
    match exchange(new, dir) {
        Err(e) if unsupported(&e) => swap_aside(new, dir),
        done => done,
    }
}

/// Where the file system cannot exchange two directories: the old one is
/// renamed aside first, so for an instant `dir` is absent (never mixed).
fn swap_aside(new: &Path, dir: &Path) -> io::Result<()> {
    let mut aside = new.as_os_str().to_owned();
    aside.push(".old");
    let aside = PathBuf::from(aside);
    fs::rename(dir, &aside)?;
    if let Err(e) = fs::rename(new, dir) {
        fs::rename(&aside, dir).ok();
        return Err(e);
    }
    fs::rename(&aside, new)
}

/// Whether an exchange failed because the system or file system lacks it.
fn unsupported(e: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return true;
    }
    e.kind() == io::ErrorKind::Unsupported
}

/// Atomically exchanges two paths (Linux, on file systems that support it).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths, relative to the working
    // directory (AT_FDCWD) when not absolute.
    let status = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if status == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Writes `bytes` to `path` through a temporary file beside it, created
/// exclusively under a random name (`.NAME.XXXXXX.tmp`), synced, then
/// renamed over `path`: readers see the old file or the new one, never a
/// part, and a failure leaves the old one and no temporary file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let write = || -> io::Result<()> {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = path
            .file_name()
            .map_or("out".into(), |n| n.to_string_lossy());
        let prefix = format!(".{name}.");
        let mut temp = temp_builder(&prefix, ".tmp", 0o666).tempfile_in(dir)?;
        temp.write_all(bytes)?;
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    };
    write().with_context(|| format!("cannot write {}", path.display()))
}

/// Refuses to write `output` when it is `input` (the same file, whatever
/// the path or symlink that names it), or, when `output` is a directory
/// to be replaced, when it holds `input`. `what` names the output in the
/// message (e.g. "--decisions").
pub fn refuse_overwrite(input: &Path, output: &Path, what: &str) -> Result<()> {
    let (Ok(input_at), Some(output_at)) = (input.canonicalize(), resolve(output).ok()) else {
        return Ok(());
    };
    if input_at == output_at || input_at.starts_with(&output_at) {
        bail!(
            "{what} {}: is (or holds) the input {}, which writing would destroy: choose another output",
            output.display(),
            input.display()
        );
    }
    Ok(())
}

/// `path` made absolute with every existing part's symlinks followed, and
/// the rest (not yet created) appended lexically.
pub(crate) fn resolve(path: &Path) -> Result<PathBuf> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))?;
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut resolved = real;
            for part in missing.iter().rev() {
                match part {
                    Component::ParentDir => {
                        resolved.pop();
                    }
                    Component::CurDir => {}
                    part => resolved.push(part),
                }
            }
            return Ok(resolved);
        }
        let (Some(parent), Some(last)) = (existing.parent(), existing.components().next_back())
        else {
            return Ok(absolute.clone());
        };
        missing.push(last);
        existing = parent;
    }
}

/// Whether this process may create entries in directory `dir`.
#[cfg(unix)]
pub(crate) fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
pub(crate) fn writable(dir: &Path) -> bool {
    fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// A temporary name `PREFIX` + random + `suffix`, created with `mode`
/// less the umask, as `File::create` and `create_dir` do (tempfile's
/// default, owner only, would make outputs unreadable to the group).
pub(crate) fn temp_builder<'a>(
    prefix: &'a str,
    suffix: &'a str,
    mode: u32,
) -> tempfile::Builder<'a, 'a> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    builder
}

/// Reads until `buf` is full or `r` ends.
pub fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
