//! Putting a command's output files in place so that a reader can trust them, even after a crash, and so
//! that the output folder cannot be turned against whoever runs quotasim.
//!
//! The folder's guarantees:
//! - **Created new, never through a link.** Every temporary file and write probe is created exclusively
//!   (`O_CREAT | O_EXCL`, which refuses an existing name and a symlink alike) under a random name
//!   `.quotasim-PID-RANDOM.tmp`; a file is put in place by a rename, which replaces a name and never writes
//!   through it. A final name that exists as anything but a regular file (a symlink, a folder, a device)
//!   is refused before anything is written.
//! - **One writer at a time.** The whole write holds an exclusive lock on the folder itself (on Unix; a
//!   `.quotasim.lock` file in it elsewhere), so nothing but the outputs is left in it; a second quotasim
//!   waits for it, and says so.
//! - **Removes only what it can prove it wrote**: its own temporary files (its naming, regular files,
//!   their process gone, found while holding the lock), and files a previous run's manifest listed that this
//!   run does not write, only when the name is one quotasim writes, the entry is a regular file and its
//!   bytes still hash to what the manifest says. Nothing else, whatever a manifest lists.
//! - **Ctrl-C** removes the run's own temporary files before the process ends.
//!
//! Each file is written to its temporary name and synced; then the previous manifest is removed, every file
//! is renamed into place, stale files of the same command are removed as above, the folder is synced, and
//! last a new manifest (`run-manifest.json`, `sweep-manifest.json`, `advise-manifest.json`) lists every file
//! with its size and SHA-256. A folder whose manifest is missing, or whose files do not match it, holds an
//! interrupted run. The run id in the manifest is a digest of the files, so identical runs have identical
//! manifests.

use crate::Error;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Serialize, Deserialize)]
pub struct ManifestFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// `<command>-manifest.json`: which files one run wrote.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub command: String,
    /// A digest of every file's name and digest: the same outputs, the same id.
    pub run_id: String,
    pub files: Vec<ManifestFile>,
}

pub fn manifest_name(command: &str) -> String {
    format!("{command}-manifest.json")
}

/// The lock file every writer of a folder holds for the whole write, where a folder cannot be locked
/// itself (not on Unix).
pub const LOCK_NAME: &str = ".quotasim.lock";

/// The names quotasim writes into an output folder, besides its charts: the only names it ever removes.
const OWN_FILES: &[&str] = &[
    "summary.json",
    "summary.csv",
    "timeseries.csv",
    "billing.csv",
    "report.html",
    "sweep.json",
    "sweep.csv",
    "advice.json",
    "advice.csv",
    "run-manifest.json",
    "sweep-manifest.json",
    "advise-manifest.json",
    "fit.json",
    "fit-manifest.json",
];

/// Chart names, each written as `.png` and/or `.svg`.
const OWN_CHARTS: &[&str] =
    &["timeline", "sweep-compare", "sweep-qps", "sweep-metrics", "sweep-heatmap", "advice-qps", "advice-plans"];

/// Whether `name` is one that quotasim writes into an output folder (and so may remove when stale).
pub fn is_own_name(name: &str) -> bool {
    OWN_FILES.contains(&name)
        || name
            .strip_suffix(".png")
            .or_else(|| name.strip_suffix(".svg"))
            .is_some_and(|stem| OWN_CHARTS.contains(&stem) || is_fit_chart(stem))
}

/// `fit`, `fit-2`, `fit-3`, ...: one chart per fitted group.
fn is_fit_chart(stem: &str) -> bool {
    stem == "fit" || stem.strip_prefix("fit-").is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 random bits from the process's randomly keyed hasher (seeded from the system's randomness).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

/// The temporary files this process has created and not yet renamed or removed: what Ctrl-C removes.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn track(path: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.push(path.to_path_buf());
    }
}

fn untrack(path: &Path) {
    if let Ok(mut t) = TEMPORARIES.lock() {
        t.retain(|p| p != path);
    }
}

/// Removes every temporary file this process still has open; for an interrupt handler.
pub fn remove_own_temporaries() {
    // A handler must not wait on a lock a panicking thread poisoned: take what is there either way.
    let paths = match TEMPORARIES.lock() {
        Ok(mut t) => std::mem::take(&mut *t),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    };
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// A file created new under a random name beside `dir`'s entries; removed on drop unless kept.
struct Temporary {
    path: PathBuf,
    file: File,
}

impl Temporary {
    fn create(dir: &Path, suffix: &str) -> std::io::Result<Temporary> {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        // A clash with a planted or leftover name is refused by O_EXCL; a fresh random name is tried.
        let mut last = None;
        for _ in 0..16 {
            let path = dir.join(format!(".quotasim-{}-{:016x}.{suffix}", std::process::id(), random_u64()));
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(file) => {
                    track(&path);
                    return Ok(Temporary { path, file });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
    }

    /// Renames the file to `to` (replacing the name, never writing through it).
    fn persist(self, to: &Path) -> std::io::Result<()> {
        let result = std::fs::rename(&self.path, to);
        if result.is_ok() {
            untrack(&self.path);
            std::mem::forget(self);
        }
        result
    }
}

impl Drop for Temporary {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        untrack(&self.path);
    }
}

/// Writes `name`'s bytes with `write` to a new temporary file in `dir`, synced, with its manifest entry.
fn write_temporary(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(String, Temporary, ManifestFile), Error> {
    debug_assert!(is_own_name(name), "{name} is not in the list of names quotasim writes");
    let path = dir.join(name);
    check_destination(&path)?;
    let fail = |source| Error::Write { path: path.display().to_string(), source };
    let tmp = Temporary::create(dir, "tmp").map_err(fail)?;
    let entry = {
        let mut w = BufWriter::with_capacity(1 << 16, Hashing { inner: &tmp.file, hash: Sha256::new(), bytes: 0 });
        write(&mut w).and_then(|()| w.flush()).map_err(fail)?;
        let h = w.into_inner().map_err(|e| fail(e.into_error()))?;
        ManifestFile { name: name.to_string(), bytes: h.bytes, sha256: hex(&h.hash.finalize()) }
    };
    tmp.file.sync_all().map_err(fail)?;
    Ok((name.to_string(), tmp, entry))
}

/// Parses quotasim's temporary names, `.quotasim-PID-HEX16.tmp` or `.probe`, into the PID.
fn temporary_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(".quotasim-")?;
    let rest = rest.strip_suffix(".tmp").or_else(|| rest.strip_suffix(".probe"))?;
    let (pid, random) = rest.split_once('-')?;
    let hex = random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    if hex && digits { pid.parse().ok() } else { None }
}

/// What stands at `path` if it exists and is not a regular file (never following a link).
fn not_regular(path: &Path) -> Option<&'static str> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let kind = meta.file_type();
    if kind.is_file() {
        None
    } else if kind.is_symlink() {
        Some("a symbolic link")
    } else if kind.is_dir() {
        Some("a folder")
    } else {
        Some("not a regular file")
    }
}

/// Refuses a final name that exists as something quotasim will not replace.
pub fn check_destination(path: &Path) -> Result<(), Error> {
    match not_regular(path) {
        None => Ok(()),
        Some(what) => Err(Error::BadInput(format!(
            "{} exists and is {what}; quotasim replaces only regular files: remove it or choose another output",
            path.display()
        ))),
    }
}

/// Syncs a folder's entries (the renames into it) to disk, where the system allows opening a folder.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
        let _ = d.sync_all();
    }
}

fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Checks that `dir` can be written, by creating and removing a probe of quotasim's own naming.
pub fn probe_dir(dir: &Path) -> std::io::Result<()> {
    let probe = Temporary::create(dir, "probe")?;
    drop(probe);
    Ok(())
}

/// Writes `bytes` to `path` through a synced temporary file created new in the same folder, and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_streamed(path, |w| {
        w.write_all(bytes).map_err(|source| Error::Write { path: path.display().to_string(), source })
    })
}

/// Writes `path` by streaming into a temporary file created new beside it, then renaming it into place;
/// on an error (or a drop) the temporary file is removed and `path` is untouched.
pub fn write_streamed<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&File>) -> Result<T, Error>,
) -> Result<T, Error> {
    check_destination(path)?;
    let fail = |source| Error::Write { path: path.display().to_string(), source };
    let dir = parent_of(path);
    let tmp = Temporary::create(dir, "tmp").map_err(fail)?;
    let mut w = BufWriter::with_capacity(1 << 16, &tmp.file);
    let value = write(&mut w)?;
    w.flush().map_err(fail)?;
    drop(w);
    tmp.file.sync_all().map_err(fail)?;
    tmp.persist(path).map_err(fail)?;
    sync_dir(dir);
    Ok(value)
}

/// Whether process `pid` may still be running (then its temporary files are left alone).
fn may_be_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

/// Removes quotasim's own temporary files in `dir` left by a process that is no longer running: only
/// regular files named as quotasim names them. Call it holding the folder's lock. Returns them.
fn remove_leftovers(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(temporary_pid) else { continue };
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if regular && !may_be_running(pid) && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed.sort();
    removed
}

/// An exclusive lock on an output folder, held until dropped.
///
/// On Unix the lock is taken on the folder itself (`flock` on a descriptor of the directory), so the folder
/// holds nothing but the outputs: two identical runs leave identical folders. Elsewhere it is a regular
/// file, [`LOCK_NAME`], left in place.
pub struct FolderLock {
    _file: File,
}

impl FolderLock {
    /// Takes the lock on `dir`, waiting (and saying so on standard error) while another process holds it.
    pub fn take(dir: &Path) -> Result<FolderLock, Error> {
        let (file, path) = Self::open(dir)?;
        let fail = |source| Error::Write { path: path.display().to_string(), source };
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let _ =
                    writeln!(std::io::stderr(), "waiting for another quotasim, which is writing to {}", dir.display());
                file.lock().map_err(fail)?;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e)),
        }
        Ok(FolderLock { _file: file })
    }

    /// The folder itself, opened as a directory (what a Unix lock is taken on).
    #[cfg(unix)]
    fn open(dir: &Path) -> Result<(File, PathBuf), Error> {
        use std::os::unix::fs::OpenOptionsExt;
        let fail = |source| Error::Write { path: dir.display().to_string(), source };
        let file = OpenOptions::new().read(true).custom_flags(libc::O_DIRECTORY).open(dir).map_err(fail)?;
        Ok((file, dir.to_path_buf()))
    }

    /// A regular file of quotasim's name in the folder, never followed through a link.
    #[cfg(not(unix))]
    fn open(dir: &Path) -> Result<(File, PathBuf), Error> {
        let path = dir.join(LOCK_NAME);
        let fail = |source| Error::Write { path: path.display().to_string(), source };
        let file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(|e| {
            match not_regular(&path) {
                Some(what) => Error::BadInput(format!(
                    "{} is {what}; quotasim locks its output folder with a regular file of that name: remove it",
                    path.display()
                )),
                None => fail(e),
            }
        })?;
        if !file.metadata().map_err(fail)?.is_file() {
            return Err(Error::BadInput(format!(
                "{} is not a regular file; quotasim locks its output folder with a regular file of that name: remove \
                    it",
                path.display()
            )));
        }
        Ok((file, path))
    }
}

/// Reads a previous manifest: a regular file of at most 16 MiB, never through a link.
fn read_manifest(path: &Path) -> Option<Manifest> {
    if not_regular(path).is_some() {
        return None;
    }
    let mut bytes = Vec::new();
    File::open(path).ok()?.take(16 << 20).read_to_end(&mut bytes).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Whether the regular file at `path` still holds exactly the bytes `entry` describes.
fn unchanged(path: &Path, entry: &ManifestFile) -> bool {
    if not_regular(path).is_some() {
        return false;
    }
    let Ok(mut file) = File::open(path) else { return false };
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hash.update(&buf[..n]);
                bytes += n as u64;
            }
            Err(_) => return false,
        }
    }
    bytes == entry.bytes && hex(&hash.finalize()) == entry.sha256
}

/// A file being written: its bytes go to the file and the digest at once. It sits behind the buffer, so
/// the digest takes 64 KiB at a time rather than every small write a serializer makes.
struct Hashing<W: Write> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The files of one command's run, written to temporary names until [`OutputSet::commit`] puts them in
/// place, all under the folder's lock. Dropped without committing, it removes what it wrote.
pub struct OutputSet {
    dir: PathBuf,
    command: String,
    files: Vec<(String, Temporary, ManifestFile)>,
    /// Leftover temporary files removed when the set was made.
    pub removed_leftovers: Vec<PathBuf>,
    _lock: FolderLock,
}

impl OutputSet {
    /// Takes the folder's lock (waiting for another writer) and removes leftovers of dead runs.
    pub fn new(dir: &Path, command: &str) -> Result<OutputSet, Error> {
        let lock = FolderLock::take(dir)?;
        Ok(OutputSet {
            dir: dir.to_path_buf(),
            command: command.to_string(),
            files: Vec::new(),
            removed_leftovers: remove_leftovers(dir),
            _lock: lock,
        })
    }

    /// Writes file `name` with `write`, streaming, to a new temporary file, and syncs it.
    pub fn add(&mut self, name: &str, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Error> {
        let file = write_temporary(&self.dir, name, write)?;
        self.files.push(file);
        Ok(())
    }

    /// [`OutputSet::add`] of two files at once, the second on a thread of its own: a million callers'
    /// summaries take seconds each to write. The set lists them in the order given either way.
    pub fn add_two(
        &mut self,
        (first, write_first): (&str, impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send),
        (second, write_second): (&str, impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send),
    ) -> Result<(), Error> {
        let dir = &self.dir;
        let (a, b) = std::thread::scope(|s| {
            let b = s.spawn(|| write_temporary(dir, second, write_second));
            let a = write_temporary(dir, first, write_first);
            (a, b.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
        // Either error drops both temporaries, which removes them.
        let (a, b) = (a?, b?);
        self.files.extend([a, b]);
        Ok(())
    }

    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        self.add(name, |w| w.write_all(bytes))
    }

    /// Puts every file in place, removes the previous run's files that this one did not write (only
    /// quotasim's own names whose bytes still match the manifest), and writes the manifest last. Returns
    /// the paths written.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, Error> {
        let manifest_path = self.dir.join(manifest_name(&self.command));
        check_destination(&manifest_path)?;
        let previous = read_manifest(&manifest_path);
        let fail = |path: &Path, source| Error::Write { path: path.display().to_string(), source };
        match std::fs::remove_file(&manifest_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(fail(&manifest_path, e)),
            _ => {}
        }
        sync_dir(&self.dir);
        let files = std::mem::take(&mut self.files);
        let mut written = Vec::with_capacity(files.len());
        let mut entries = Vec::with_capacity(files.len());
        for (name, tmp, entry) in files {
            let path = self.dir.join(&name);
            tmp.persist(&path).map_err(|e| fail(&path, e))?;
            written.push(path);
            entries.push(entry);
        }
        for old in previous.iter().flat_map(|m| &m.files) {
            let stale = is_own_name(&old.name) && !entries.iter().any(|e| e.name == old.name);
            let path = self.dir.join(&old.name);
            if stale && unchanged(&path, old) {
                let _ = std::fs::remove_file(path);
            }
        }
        sync_dir(&self.dir);
        let mut id = Sha256::new();
        for e in &entries {
            id.update(e.name.as_bytes());
            id.update(e.sha256.as_bytes());
        }
        let manifest = Manifest { command: self.command.clone(), run_id: hex(&id.finalize()[..8]), files: entries };
        let mut bytes = serde_json::to_vec_pretty(&manifest).expect("a manifest serialises");
        bytes.push(b'\n');
        write_atomic(&manifest_path, &bytes)?;
        written.push(manifest_path);
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_parse_only_in_quotasim_form() {
        assert_eq!(temporary_pid(".quotasim-123-0123456789abcdef.tmp"), Some(123));
        assert_eq!(temporary_pid(".quotasim-9-0123456789abcdef.probe"), Some(9));
        for other in [
            ".summary.json.777777.tmp",
            ".quotasim-123-0123456789ABCDEF.tmp",
            ".quotasim-123-0123.tmp",
            ".quotasim--0123456789abcdef.tmp",
            ".quotasim-12a-0123456789abcdef.tmp",
            "quotasim-123-0123456789abcdef.tmp",
        ] {
            assert_eq!(temporary_pid(other), None, "{other}");
        }
    }

    #[test]
    fn own_names_are_a_fixed_set() {
        for name in ["summary.json", "timeline.png", "sweep-heatmap.svg", "advise-manifest.json"] {
            assert!(is_own_name(name), "{name}");
        }
        for name in ["thesis.docx", ".hidden", "../summary.json", "timeline.pdf", "x/summary.json", ""] {
            assert!(!is_own_name(name), "{name}");
        }
    }
}
