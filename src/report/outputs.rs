//! Putting a command's output files in place so that a reader can trust them, even after a crash.
//!
//! Each file is written to a temporary name beside its final one (`.NAME.PID.tmp`) and synced to disk;
//! then the previous manifest is removed, every file is renamed into place, files the previous run of the
//! same command wrote but this one does not (a `timeline.png` after `--no-chart`) are removed, the folder is
//! synced, and last a new manifest (`run-manifest.json`, `sweep-manifest.json`) lists every file with its
//! size and SHA-256. A folder whose manifest is missing, or whose files do not match it, holds an
//! interrupted run. The run id in the manifest is a digest of the files, so identical runs have identical
//! manifests. Temporary files that an interrupted quotasim left behind are removed at the next write.

use crate::Error;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// A file being written: its bytes go to the file and the digest at once.
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

/// Syncs a folder's entries (the renames into it) to disk, where the system allows opening a folder.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` through a synced temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let fail = |source| Error::Write { path: path.display().to_string(), source };
    let tmp = temp_path(path);
    let result = File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)?;
    sync_dir(path.parent().unwrap_or(Path::new(".")));
    Ok(())
}

/// Whether process `pid` may still be running (then its temporary files are left alone).
fn may_be_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    if cfg!(target_os = "linux") { Path::new("/proc").join(pid.to_string()).exists() } else { true }
}

/// Removes `.NAME.PID.tmp` files in `dir` left by a quotasim that is no longer running; returns them.
pub fn remove_leftovers(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !may_be_running(pid) && std::fs::remove_file(entry.path()).is_ok() {
            removed.push(entry.path());
        }
    }
    removed.sort();
    removed
}

/// The files of one command's run, written to temporary names until [`OutputSet::commit`] puts them in
/// place. Dropped without committing, it removes what it wrote.
pub struct OutputSet {
    dir: PathBuf,
    command: String,
    files: Vec<(String, PathBuf, ManifestFile)>,
    /// Leftover temporary files removed when the set was made.
    pub removed_leftovers: Vec<PathBuf>,
}

impl OutputSet {
    pub fn new(dir: &Path, command: &str) -> OutputSet {
        OutputSet {
            dir: dir.to_path_buf(),
            command: command.to_string(),
            files: Vec::new(),
            removed_leftovers: remove_leftovers(dir),
        }
    }

    /// Writes file `name` with `write`, streaming, to its temporary name, and syncs it.
    pub fn add(&mut self, name: &str, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<(), Error> {
        let path = self.dir.join(name);
        let tmp = temp_path(&path);
        let fail = |source| Error::Write { path: path.display().to_string(), source };
        let file = File::create(&tmp).map_err(fail)?;
        let mut w = Hashing { inner: BufWriter::with_capacity(1 << 16, file), hash: Sha256::new(), bytes: 0 };
        let result = write(&mut w).and_then(|()| w.flush()).and_then(|()| w.inner.get_ref().sync_all());
        if let Err(e) = result {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(e));
        }
        let entry = ManifestFile { name: name.to_string(), bytes: w.bytes, sha256: hex(&w.hash.finalize()) };
        self.files.push((name.to_string(), tmp, entry));
        Ok(())
    }

    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        self.add(name, |w| w.write_all(bytes))
    }

    /// Puts every file in place, removes the previous run's files that this one did not write, and writes
    /// the manifest last. Returns the paths written.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, Error> {
        let manifest_path = self.dir.join(manifest_name(&self.command));
        let previous: Option<Manifest> =
            std::fs::read(&manifest_path).ok().and_then(|b| serde_json::from_slice(&b).ok());
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
            if let Err(e) = std::fs::rename(&tmp, &path) {
                let _ = std::fs::remove_file(&tmp);
                return Err(fail(&path, e));
            }
            written.push(path);
            entries.push(entry);
        }
        // Only names a manifest of ours listed, and only plain names: never a path from a file's contents.
        for old in previous.iter().flat_map(|m| &m.files) {
            let plain = !old.name.contains(['/', '\\']) && old.name != ".." && old.name != ".";
            if plain && !entries.iter().any(|e| e.name == old.name) {
                let _ = std::fs::remove_file(self.dir.join(&old.name));
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

impl Drop for OutputSet {
    fn drop(&mut self) {
        for (_, tmp, _) in &self.files {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
