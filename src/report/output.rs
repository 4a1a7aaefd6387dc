//! The output directory, replaced whole so that nothing is ever half there.
//!
//! A run's files are one unit: they are written into a fresh directory
//! beside the output directory (`.NAME.edgesim-XXXXXX`, created exclusively
//! under a random name, so two runs never share one and a planted symlink
//! is never followed), synced, and swapped in with one atomic exchange of
//! the two directories ([`crate::io::swap_in`]). Readers see the previous
//! set or the new set, never a mix, and a failure before the swap leaves
//! the previous set whole. A directory is only ever replaced when edgesim
//! wrote it (or when forced): `--out ~` must not delete a home directory.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow};

use crate::io::{resolve, swap_in, temp_builder, writable};

/// What marks a temporary directory of ours, after the output's name.
const TEMP_MARK: &str = ".edgesim-";
/// A temporary directory untouched this long, and locked by no process,
/// is a dead run's leftover (the age covers the instant between its
/// creation and its lock).
const STALE_AFTER: Duration = Duration::from_secs(10);

/// Why a directory cannot take the outputs. The command that names the
/// directory words what to do about it (which option to change).
#[derive(Debug, thiserror::Error)]
pub enum Unfit {
    #[error("{}: cannot write outputs there (it has no parent directory)", .0.display())]
    NoParent(PathBuf),
    #[error("cannot create output directory {}: {} is not a directory", .dir.display(), .ancestor.display())]
    BelowFile { dir: PathBuf, ancestor: PathBuf },
    #[error("cannot create output directory {}: cannot write in {} (permission denied)", .dir.display(), .ancestor.display())]
    ReadOnly { dir: PathBuf, ancestor: PathBuf },
    #[error("{}: exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// Refused unless forced: it holds files edgesim does not write.
    #[error("{}: {why}, so it is not an edgesim output directory; edgesim replaces its output directory whole", .dir.display())]
    NotOurs { dir: PathBuf, why: String },
    /// It could not be read; the message names the path.
    #[error(transparent)]
    Unreadable(#[from] anyhow::Error),
}

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
    pub fn check(dir: &Path, force: bool, known: Vec<&'static str>) -> Result<Self, Unfit> {
        let resolved = resolve(dir)?;
        let (Some(parent), Some(name)) = (resolved.parent(), resolved.file_name()) else {
            return Err(Unfit::NoParent(dir.to_path_buf()));
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
        let (dir, ancestor) = (dir.to_path_buf(), ancestor.to_path_buf());
        if !ancestor.is_dir() {
            return Err(Unfit::BelowFile { dir, ancestor });
        }
        if !writable(&ancestor) {
            return Err(Unfit::ReadOnly { dir, ancestor });
        }
        Ok(dest)
    }

    /// The directory, resolved: where the outputs will be.
    pub fn path(&self) -> PathBuf {
        self.parent.join(&self.name)
    }

    /// Refuses a directory whose files edgesim did not write (unless
    /// `force`), and anything that is not a directory.
    fn check_replaceable(&self) -> Result<(), Unfit> {
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
            Err(e) => {
                return Err(anyhow!(e)
                    .context(format!("cannot read {}", dir.display()))
                    .into());
            }
        };
        if !meta.is_dir() {
            return Err(Unfit::NotADirectory(self.shown.clone()));
        }
        if self.force {
            return Ok(());
        }
        let mut strangers = Vec::new();
        let mut empty = true;
        let unreadable = || format!("cannot read {}", dir.display());
        for entry in fs::read_dir(&dir).with_context(unreadable)? {
            let name = entry.with_context(unreadable)?.file_name();
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
            return Err(Unfit::NotOurs {
                dir: self.shown.clone(),
                why,
            });
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
        let temp = temp_builder(&self.temp_prefix(), "", 0o777)
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
