//! Writing outputs so that nothing is ever half there.
//!
//! A run's files are one unit: they are written into a fresh directory
//! beside the output directory (`.NAME.edgesim-XXXXXX`, created exclusively
//! under a random name, so two runs never share one and a planted symlink
//! is never followed), synced, and swapped in with one atomic exchange of
//! the two directories (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere the
//! old one is renamed aside first). Readers see the previous set or the new
//! set, never a mix, and a failure before the swap leaves the previous set
//! whole. A directory is only ever replaced when edgesim wrote it (or with
//! `--force`): `--out ~` must not delete a home directory.
//!
//! A single output file (a converted trace, a decisions log) is written the
//! same way, through an exclusively created temporary file and a rename.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};

/// What marks a temporary directory of ours, after the output's name.
const TEMP_MARK: &str = ".edgesim-";
/// A temporary directory untouched this long, and locked by no process,
/// is a dead run's leftover (the age covers the instant between its
/// creation and its lock).
const STALE_AFTER: Duration = Duration::from_secs(10);

/// An output directory, checked before any work and replaced whole by
/// [`Destination::write`].
#[derive(Debug, Clone)]
pub struct Destination {
    /// The directory as the user named it, for messages.
    shown: PathBuf,
    /// Its parent, resolved (symlinks followed) as far as it exists.
    parent: PathBuf,
    name: OsString,
    /// Replace it even when it holds files edgesim does not write.
    force: bool,
    /// Every file name an edgesim output directory may hold.
    known: Vec<&'static str>,
}

impl Destination {
    /// Checks, without creating anything, that `dir` can be replaced by a
    /// new set of files named among `known`: it is absent, empty, or an
    /// edgesim output directory (unless `force`), and its parent (or the
    /// nearest existing ancestor) is a writable directory.
    pub fn check(dir: &Path, force: bool, known: Vec<&'static str>) -> Result<Self> {
        let resolved = resolve(dir)?;
        let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) else {
            bail!(
                "{}: cannot write outputs there (it has no parent directory): give --out a directory below it",
                dir.display()
            );
        };
        let dest = Destination {
            shown: dir.to_path_buf(),
            parent: parent.to_path_buf(),
            name: name.to_os_string(),
            force,
            known,
        };
        dest.check_replaceable()?;
        let ancestor = parent
            .ancestors()
            .find(|a| a.exists())
            .unwrap_or(Path::new("/"));
        if !ancestor.is_dir() {
            bail!(
                "cannot create output directory {}: {} is not a directory: give --out a path inside a directory",
                dir.display(),
                ancestor.display()
            );
        }
        if !writable(ancestor) {
            bail!(
                "cannot create output directory {}: cannot write in {} (permission denied): give --out a writable place",
                dir.display(),
                ancestor.display()
            );
        }
        Ok(dest)
    }

    /// The directory, resolved: where the outputs will be.
    pub fn path(&self) -> PathBuf {
        self.parent.join(&self.name)
    }

    /// Refuses a directory whose files edgesim did not write (unless
    /// `force`), and anything that is not a directory.
    fn check_replaceable(&self) -> Result<()> {
        let dir = self.path();
        let meta = match fs::metadata(&dir) {
            Ok(meta) => meta,
            // Absent, or below a file: the parent's check says which.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(());
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
        };
        if !meta.is_dir() {
            bail!(
                "{}: exists and is not a directory: give --out a directory name",
                self.shown.display()
            );
        }
        if self.force {
            return Ok(());
        }
        let mut strangers = Vec::new();
        let mut empty = true;
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let name = entry?.file_name();
            empty = false;
            if !self.is_known(&name) {
                strangers.push(name.to_string_lossy().into_owned());
            }
        }
        if empty {
            return Ok(());
        }
        strangers.sort();
        let ours = written_by_edgesim(&dir);
        if !strangers.is_empty() || !ours {
            let why = if strangers.is_empty() {
                "has no runs.json or results.json written by edgesim".to_string()
            } else {
                let more = strangers.len().saturating_sub(5);
                let mut names = strangers.into_iter().take(5).collect::<Vec<_>>().join(", ");
                if more > 0 {
                    names.push_str(&format!(" and {more} more"));
                }
                format!("holds files edgesim does not write ({names})")
            };
            bail!(
                "{}: {why}, so it is not an edgesim output directory; edgesim replaces its output directory whole: give --out a new or empty directory, or pass --force to replace it and everything in it",
                self.shown.display()
            );
        }
        Ok(())
    }

    /// A name edgesim writes, or the fixed temporary name (`.NAME.tmp`)
    /// of a file that an older edgesim was writing when it stopped.
    fn is_known(&self, name: &std::ffi::OsStr) -> bool {
        let name = name.to_string_lossy();
        let bare = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .unwrap_or(&name);
        self.known.contains(&bare)
    }

    /// Writes `files` as the directory's whole new content: into a fresh
    /// temporary directory, then swapped in. Returns the files' paths.
    pub fn write(&self, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>> {
        fs::create_dir_all(&self.parent)
            .with_context(|| format!("cannot create {}", self.parent.display()))?;
        self.remove_stale();
        let temp = builder(&self.temp_prefix(), "", 0o777)
            .tempdir_in(&self.parent)
            .with_context(|| format!("cannot create a directory in {}", self.parent.display()))?;
        // Held while the directory lives, so that another run does not
        // take it for a dead one's leftover.
        let lock = File::open(temp.path())?;
        lock.try_lock()
            .map_err(|e| anyhow::anyhow!("cannot lock {}: {e}", temp.path().display()))?;
        for (name, bytes) in files {
            let path = temp.path().join(name);
            let write = || -> io::Result<()> {
                let mut file = File::create_new(&path)?;
                file.write_all(bytes)?;
                file.sync_all()
            };
            write()
                .with_context(|| format!("cannot write {}", self.path().join(name).display()))?;
        }
        lock.sync_all()?;
        // Once more, just before the swap: files may have appeared during
        // a long run.
        self.check_replaceable()?;
        let temp = temp.keep();
        if let Err(e) = swap_in(&temp, &self.path()) {
            fs::remove_dir_all(&temp).ok();
            return Err(e).with_context(|| format!("cannot replace {}", self.shown.display()));
        }
        // `temp` now holds the previous set, if there was one.
        if temp.exists() {
            fs::remove_dir_all(&temp).ok();
        }
        if let Ok(parent) = File::open(&self.parent) {
            parent.sync_all().ok();
        }
        Ok(files
            .iter()
            .map(|(name, _)| self.shown.join(name))
            .collect())
    }

    /// The start of the names of this directory's temporary directories.
    fn temp_prefix(&self) -> String {
        format!(".{}{TEMP_MARK}", self.name.to_string_lossy())
    }

    /// Removes the temporary directories of runs into this directory that
    /// died (killed while writing): unlocked and untouched for a while.
    /// Anything in doubt is left alone.
    fn remove_stale(&self) {
        let prefix = self.temp_prefix();
        let Ok(entries) = fs::read_dir(&self.parent) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let is_ours = name.to_string_lossy().starts_with(&prefix);
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let old = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_some_and(|age| age > STALE_AFTER);
            if !is_ours || !meta.is_dir() || !old {
                continue;
            }
            let Ok(dir) = File::open(entry.path()) else {
                continue;
            };
            if dir.try_lock().is_ok() {
                fs::remove_dir_all(entry.path()).ok();
            }
        }
    }
}

/// Whether `dir` holds a runs.json or results.json that edgesim wrote.
fn written_by_edgesim(dir: &Path) -> bool {
    let starts = |name: &str, head: &[u8]| {
        let mut buf = vec![0; head.len()];
        File::open(dir.join(name))
            .and_then(|mut f| io::Read::read_exact(&mut f, &mut buf))
            .is_ok_and(|()| buf == head)
    };
    starts(super::runs::FILE, b"{\"format\":\"edgesim-runs\"")
        || starts("results.json", b"{\n  \"edgesim_version\":")
}

/// Puts directory `new` at `dir` in one step, leaving the previous `dir`
/// (if any) at `new`.
fn swap_in(new: &Path, dir: &Path) -> io::Result<()> {
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
        let mut temp = builder(&prefix, ".tmp", 0o666).tempfile_in(dir)?;
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
fn resolve(path: &Path) -> Result<PathBuf> {
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
fn writable(dir: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

#[cfg(not(unix))]
fn writable(dir: &Path) -> bool {
    fs::metadata(dir).is_ok_and(|m| !m.permissions().readonly())
}

/// A temporary name `PREFIX` + random + `suffix`, created with `mode`
/// less the umask, as `File::create` and `create_dir` do (tempfile's
/// default, owner only, would make outputs unreadable to the group).
fn builder<'a>(prefix: &'a str, suffix: &'a str, mode: u32) -> tempfile::Builder<'a, 'a> {
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
