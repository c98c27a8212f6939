//! Online backup and restore of a data dir's files.
//!
//! A backup is a consistent snapshot of each file, never a raw copy of a file in use (redb's
//! maintainer warns that copying a file while it is written is unsafe): every table of a file
//! is read inside one read transaction — which sees one commit and never waits for the writer
//! — and written into a new redb file. The server opens its files in redb's single-writer
//! mode, so `kinerja backup` can open them read-only from another process while the server
//! writes; the server also streams a region's snapshot over HTTP
//! (`GET /api/v1/regions/{region}/backup`).
//!
//! A backup is laid out as a data dir (`system.redb`, `regions/{region}.redb`); each file
//! carries its manifest in a table of its own (so one region's file is a whole backup of that
//! region): per table the rows and a SHA-256 over them in key order, the file's place, and the
//! commit point (the file's counters at the snapshot: every numbered write up to them is in
//! the backup, none after). The files' manifests are written beside them as `manifest.json`
//! for people. A restore checks each file's integrity (redb's check of every page) and every
//! table's digest on a staged copy before it replaces anything.

use super::files::{region_of_rel, region_rel};
use super::tables::{self, EachTable, COUNTERS, REGIONS};
use super::{Result as StoreResult, Store, StoreError, LAYOUT1_FILE, REGIONS_DIR, SYSTEM_FILE};
use redb::{
    Builder, ConcurrencyMode, Database, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, TableError, TableHandle,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The format of the backups written here (2: a directory laid out as a data dir, one
/// snapshot per file); a restore refuses another.
pub const BACKUP_FORMAT: u32 = 2;

/// The human copy of a backup's manifests, beside its files.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What a restore appends to the name of a file it replaces, before the time of the restore
/// (nanoseconds since 1970) after a `-`; the operator removes it.
pub const REPLACED_SUFFIX: &str = ".before-restore";

/// What a restore names a file's copy while it is checked, after the live name's `.redb`;
/// a restore cut short leaves it, and the next one removes it.
pub(crate) const STAGED_SUFFIX: &str = ".restoring";

/// The manifest, inside the backup: key `manifest` → its JSON.
const MANIFEST: TableDefinition<&str, &str> = TableDefinition::new("backup_manifest");

/// How processes share the database: the server writes, and a backup may read beside it.
pub(super) const SHARING: ConcurrencyMode = ConcurrencyMode::SingleWriter;

/// What a backup holds, for checking it whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// The version of kinerja that wrote it.
    pub kinerja: String,
    pub created_at: String,
    /// The file's place in a data dir: `system.redb` or `regions/{region}.redb`.
    #[serde(default)]
    pub file: Option<String>,
    /// The counters at the snapshot (`audit`, `activity`, `decision`, …): every write numbered
    /// up to them is in the backup, and none after them.
    pub commit_point: BTreeMap<String, u64>,
    pub regions: Vec<String>,
    /// Per table, by name.
    pub tables: BTreeMap<String, TableSum>,
}

/// A table's rows and the SHA-256 over them in key order (each key and value as redb stores
/// it, each preceded by its length as 8 bytes little-endian).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSum {
    pub rows: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists already: a backup goes to a new directory (or an empty one)")]
    Exists(PathBuf),
    #[error(
        "no database at {0}: give the data dir of a server with --data-dir (and a region it holds)"
    )]
    NoDatabase(PathBuf),
    #[error(
        "no backup at {0}: give the directory `kinerja backup` wrote (or a region's file it \
         or GET /api/v1/regions/{{region}}/backup wrote)"
    )]
    NoBackup(PathBuf),
    #[error(
        "the database {0} is in use by a kinerja server; stop it before a restore (a backup \
         may be taken while it runs)"
    )]
    InUse(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not an intact database: {source}")]
    Damaged {
        path: PathBuf,
        #[source]
        source: redb::DatabaseError,
    },
    #[error("{0} is not an intact database: reading it failed")]
    Unreadable(PathBuf),
    #[error("{0} holds no backup manifest: not a kinerja backup")]
    NoManifest(PathBuf),
    #[error("{path} is a backup of format {found}; this kinerja reads format {BACKUP_FORMAT}")]
    Format { path: PathBuf, found: u32 },
    #[error("{path} does not match its manifest: {what}; nothing was restored")]
    Mismatch { path: PathBuf, what: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

type Result<T, E = BackupError> = std::result::Result<T, E>;

impl BackupError {
    /// As a store error, for a server taking a snapshot of its own file: the store's own
    /// errors as they are, the rest (its disk, a copy that does not check) its fault.
    pub fn into_store(self) -> StoreError {
        match self {
            BackupError::Store(e) => e,
            e => StoreError::Fault(e.to_string()),
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn store_err(e: impl Into<redb::Error>) -> BackupError {
    BackupError::Store(StoreError::from(e.into()))
}

/// The running digest of one table.
struct Sum {
    hash: Sha256,
    rows: u64,
}

impl Sum {
    fn new() -> Sum {
        Sum {
            hash: Sha256::new(),
            rows: 0,
        }
    }

    fn row(&mut self, key: &[u8], value: &[u8]) {
        for part in [key, value] {
            self.hash.update((part.len() as u64).to_le_bytes());
            self.hash.update(part);
        }
        self.rows += 1;
    }

    fn finish(self) -> TableSum {
        TableSum {
            rows: self.rows,
            sha256: hex::encode(self.hash.finalize()),
        }
    }
}

/// Sums each table of a snapshot, and with `to`, copies it into the backup being written.
struct Sums<'a> {
    from: &'a ReadTransaction,
    to: Option<&'a redb::WriteTransaction>,
    sums: BTreeMap<String, TableSum>,
}

impl<'a> Sums<'a> {
    fn new(from: &'a ReadTransaction, to: Option<&'a redb::WriteTransaction>) -> Sums<'a> {
        Sums {
            from,
            to,
            sums: BTreeMap::new(),
        }
    }
}

impl EachTable for Sums<'_> {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        t: TableDefinition<'static, K, V>,
    ) -> StoreResult<()> {
        let mut to = self.to.map(|w| w.open_table(t)).transpose()?;
        let mut sum = Sum::new();
        match self.from.open_table(t) {
            Ok(from) => {
                for row in from.iter()? {
                    let (k, v) = row?;
                    let (k, v) = (k.value(), v.value());
                    sum.row(K::as_bytes(&k).as_ref(), V::as_bytes(&v).as_ref());
                    if let Some(to) = &mut to {
                        to.insert(&k, &v)?;
                    }
                }
            }
            // A table a database of an earlier version never created is empty.
            Err(TableError::TableDoesNotExist(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.sums.insert(t.name().to_string(), sum.finish());
        Ok(())
    }
}

/// Writes the snapshot `from`, of the file at `rel` in a data dir, into a new database file
/// `out`, with its manifest.
fn snapshot(from: &ReadTransaction, out: &Path, rel: &str) -> Result<Manifest> {
    if out.exists() {
        return Err(BackupError::Exists(out.to_path_buf()));
    }
    let commit_point = from
        .open_table(COUNTERS)
        .map_err(store_err)?
        .iter()
        .map_err(store_err)?
        .map(|row| {
            let (k, v) = row.map_err(store_err)?;
            Ok((k.value().to_string(), v.value()))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    let regions = from
        .open_table(REGIONS)
        .map_err(store_err)?
        .iter()
        .map_err(store_err)?
        .map(|row| Ok(row.map_err(store_err)?.0.value().to_string()))
        .collect::<Result<Vec<_>>>()?;
    let db = Database::create(out).map_err(|source| BackupError::Damaged {
        path: out.to_path_buf(),
        source,
    })?;
    let tx = db.begin_write().map_err(store_err)?;
    let mut copy = Sums::new(from, Some(&tx));
    tables::each_table(&mut copy)?;
    let manifest = Manifest {
        format: BACKUP_FORMAT,
        kinerja: env!("CARGO_PKG_VERSION").to_string(),
        created_at: crate::domain::now_rfc3339(),
        file: Some(rel.to_string()),
        commit_point,
        regions,
        tables: copy.sums,
    };
    let text = serde_json::to_string(&manifest)
        .map_err(|e| StoreError::Fault(format!("cannot encode the manifest: {e}")))?;
    tx.open_table(MANIFEST)
        .map_err(store_err)?
        .insert("manifest", text.as_str())
        .map_err(store_err)?;
    tx.commit().map_err(store_err)?;
    Ok(manifest)
}

/// A snapshot of `db` in the new file `out` ([`snapshot`] in one read transaction), read back
/// and checked against its manifest: what `kinerja backup` and the HTTP route both write.
fn snapshot_checked(db: &impl ReadableDatabase, out: &Path, rel: &str) -> Result<Manifest> {
    {
        let tx = db.begin_read().map_err(store_err)?;
        snapshot(&tx, out, rel)?;
    }
    guarded(out, || {
        let written = redb::ReadOnlyDatabase::open(out).map_err(|source| BackupError::Damaged {
            path: out.to_path_buf(),
            source,
        })?;
        check(&written, out)
    })
}

/// The manifest of the backup open as `db` (at `path`), once every table's rows are found to
/// be what it says.
fn check(db: &impl ReadableDatabase, path: &Path) -> Result<Manifest> {
    let tx = db.begin_read().map_err(store_err)?;
    let text = match tx.open_table(MANIFEST) {
        Ok(t) => t
            .get("manifest")
            .map_err(store_err)?
            .map(|v| v.value().to_string()),
        Err(TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(store_err(e)),
    };
    let text = text.ok_or_else(|| BackupError::NoManifest(path.to_path_buf()))?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| BackupError::Mismatch {
        path: path.to_path_buf(),
        what: format!("its manifest does not read: {e}"),
    })?;
    if manifest.format != BACKUP_FORMAT {
        return Err(BackupError::Format {
            path: path.to_path_buf(),
            found: manifest.format,
        });
    }
    // A backup of a newer kinerja is refused before it replaces anything, not after.
    let layout = match tx.open_table(tables::META) {
        Ok(t) => t.get("layout").map_err(store_err)?.map(|v| v.value()),
        Err(TableError::TableDoesNotExist(_)) => None,
        Err(e) => return Err(store_err(e)),
    };
    super::known_layout(layout, path)?;
    let mut sums = Sums::new(&tx, None);
    tables::each_table(&mut sums)?;
    for (name, found) in &sums.sums {
        match manifest.tables.get(name) {
            Some(want) if want == found => {}
            Some(want) => {
                return Err(BackupError::Mismatch {
                    path: path.to_path_buf(),
                    what: format!(
                        "table `{name}` holds {} rows (SHA-256 {}), the manifest says {} ({})",
                        found.rows, found.sha256, want.rows, want.sha256
                    ),
                })
            }
            None => {
                return Err(BackupError::Mismatch {
                    path: path.to_path_buf(),
                    what: format!("table `{name}` is not in the manifest"),
                })
            }
        }
    }
    Ok(manifest)
}

/// Runs `f`, a read of a file that may be damaged: redb may panic on a page it cannot make
/// sense of, and a damaged backup must be an error, not a crash.
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(BackupError::Unreadable(path.to_path_buf())))
}

/// The directory a backup goes to: created, or empty.
fn new_dir(out: &Path) -> Result<()> {
    if out.exists() {
        let empty = std::fs::read_dir(out).map_err(io(out))?.next().is_none();
        if !empty {
            return Err(BackupError::Exists(out.to_path_buf()));
        }
    }
    std::fs::create_dir_all(out).map_err(io(out))
}

/// Writes the manifests' human copy into `out`.
fn write_manifest(out: &Path, manifest: &BackupManifest) -> Result<()> {
    let path = out.join(MANIFEST_FILE);
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| StoreError::Fault(format!("cannot encode the manifest: {e}")))?;
    std::fs::write(&path, text + "\n").map_err(io(&path))
}

impl Store {
    /// A snapshot of region `region`'s file in the new file `out` (see the module's text),
    /// read back and checked against its manifest.
    pub fn backup_region_to(&self, region: &str, out: &Path) -> Result<Manifest> {
        let shard = self.shard(region)?;
        snapshot_checked(&shard.db, out, &region_rel(region))
    }

    /// Audits a backup of `region` taken over HTTP (`backup.take`), in the region's audit.
    pub fn record_backup(&self, actor: &str, region: &str, manifest: &Manifest) -> StoreResult<()> {
        let rows: u64 = manifest.tables.values().map(|t| t.rows).sum();
        let tx = self.shard(region)?.begin_write()?;
        super::audit::record(
            &tx,
            Some(actor),
            "backup.take",
            Some(region),
            region,
            serde_json::json!({
                "file": manifest.file,
                "rows": rows,
                "commit_point": manifest.commit_point,
            }),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// The files of a backup (or a restore), relative to its directory, with their manifests.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupManifest {
    pub format: u32,
    pub files: BTreeMap<String, Manifest>,
}

impl BackupManifest {
    /// The regions of its region files.
    pub fn regions(&self) -> Vec<&str> {
        self.files.keys().filter_map(|f| region_of_rel(f)).collect()
    }
}

/// The files of `data_dir` a backup takes, relative to it: the system file and every region
/// file, or (`region`) that region's file alone.
fn files_of(data_dir: &Path, region: Option<&str>) -> Result<Vec<String>> {
    if let Some(r) = region {
        let rel = region_rel(r);
        if !data_dir.join(&rel).is_file() {
            return Err(BackupError::NoDatabase(data_dir.join(rel)));
        }
        return Ok(vec![rel]);
    }
    if !data_dir.join(SYSTEM_FILE).is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    let mut files = vec![SYSTEM_FILE.to_string()];
    let dir = data_dir.join(REGIONS_DIR);
    if dir.is_dir() {
        let ids = super::files::region_ids(data_dir).map_err(io(&dir))?;
        files.extend(ids.iter().map(|id| region_rel(id)));
    }
    Ok(files)
}

/// `kinerja backup`: a snapshot of each file of `data_dir` (or of `region`'s alone) in the new
/// directory `out`, laid out as a data dir, with `manifest.json`; whether or not a server runs
/// on `data_dir`. Each written file is read back and checked against its manifest.
pub fn backup(data_dir: &Path, out: &Path, region: Option<&str>) -> Result<BackupManifest> {
    if data_dir.join(LAYOUT1_FILE).is_file() && !data_dir.join(SYSTEM_FILE).is_file() {
        return Err(BackupError::Store(StoreError::Fault(format!(
            "{} is a data dir of layout 1: start this version of kinerja on it once (it \
             migrates), or back it up with the version that wrote it",
            data_dir.display()
        ))));
    }
    let files = files_of(data_dir, region)?;
    let made = !out.exists();
    new_dir(out)?;
    let mut written = BackupManifest {
        format: BACKUP_FORMAT,
        files: BTreeMap::new(),
    };
    let mut done = Ok(());
    for rel in &files {
        let to = out.join(rel);
        let one = to
            .parent()
            .map_or(Ok(()), |p| std::fs::create_dir_all(p).map_err(io(p)))
            .and_then(|()| backup_file_of(&data_dir.join(rel), &to, rel));
        match one {
            Ok(m) => {
                written.files.insert(rel.clone(), m);
            }
            Err(e) => {
                done = Err(e);
                break;
            }
        }
    }
    let done = done.and_then(|()| write_manifest(out, &written).map(|()| written));
    if done.is_err() {
        // Nothing half-written is left to be taken for a backup (or to refuse the next try).
        for rel in &files {
            let _ = std::fs::remove_file(out.join(rel));
        }
        let _ = std::fs::remove_dir(out.join(REGIONS_DIR));
        let _ = std::fs::remove_file(out.join(MANIFEST_FILE));
        if made {
            let _ = std::fs::remove_dir(out);
        }
    }
    done
}

/// A snapshot of the live file `live` (opened read-only beside a server that may hold it) in
/// the new file `to`.
fn backup_file_of(live: &Path, to: &Path, rel: &str) -> Result<Manifest> {
    let db = Builder::new()
        .set_concurrency_mode(SHARING)
        .open_read_only(live)
        .map_err(|source| match source {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                BackupError::Store(StoreError::Fault(format!(
                    "the database {} is held by a server that does not share it (an earlier \
                     version): take the backup through the server's HTTP route",
                    live.display()
                )))
            }
            source => BackupError::Damaged {
                path: live.to_path_buf(),
                source,
            },
        })?;
    snapshot_checked(&db, to, rel)
}

/// The files of the backup at `backup`, relative to the data dir they restore into: a
/// directory `kinerja backup` wrote, or one region's file (as the HTTP route streams it),
/// which names its place in its manifest.
fn backup_files(backup: &Path) -> Result<Vec<(PathBuf, String)>> {
    if backup.is_file() {
        let rel = guarded(backup, || {
            let db =
                redb::ReadOnlyDatabase::open(backup).map_err(|source| BackupError::Damaged {
                    path: backup.to_path_buf(),
                    source,
                })?;
            Ok(check(&db, backup)?.file)
        })?;
        // Its place must be a region's file exactly (a manifest is data: `regions/../x` is no
        // place to write).
        let rel = rel
            .filter(|r| {
                region_of_rel(r)
                    .is_some_and(|id| crate::domain::region::validate_region_id(id).is_ok())
            })
            .ok_or_else(|| BackupError::NoBackup(backup.to_path_buf()))?;
        return Ok(vec![(backup.to_path_buf(), rel)]);
    }
    if backup.join(LAYOUT1_FILE).is_file() {
        return Err(BackupError::Store(StoreError::Fault(format!(
            "{} is a backup of data layout 1: restore it with the version that took it, then \
             start this version on that data dir (it migrates)",
            backup.display()
        ))));
    }
    let files = files_of(backup, None).or_else(|_| {
        // A backup of one region: its file alone.
        let one: Vec<String> = super::files::region_ids(backup)
            .map_err(|_| BackupError::NoBackup(backup.to_path_buf()))?
            .iter()
            .map(|id| region_rel(id))
            .collect();
        if one.is_empty() {
            Err(BackupError::NoBackup(backup.to_path_buf()))
        } else {
            Ok(one)
        }
    })?;
    Ok(files
        .into_iter()
        .map(|rel| (backup.join(&rel), rel))
        .collect())
}

/// `kinerja restore`: replaces the files of `data_dir` with those of the backup at `backup`
/// (every file of a whole backup, or one region's). Each is first copied beside the file it
/// replaces and checked there — redb's integrity check of every page, then every table against
/// its manifest — and nothing is replaced unless every one is intact. Each replaced file is
/// kept as `{file}.before-restore-{time}`. Refused while a server runs on `data_dir`.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Restored> {
    let files = backup_files(backup)?;
    std::fs::create_dir_all(data_dir.join(REGIONS_DIR)).map_err(io(data_dir))?;
    // The system file, held as its writer until every file is in place: no server (which
    // always holds it), and no other restore, opens the data dir meanwhile.
    let system = data_dir.join(SYSTEM_FILE);
    let _held_system = if system.exists() {
        hold(&system)?
    } else {
        None
    };
    let mut held = Vec::new();
    let mut staged = Vec::new();
    let mut manifest = BackupManifest {
        format: BACKUP_FORMAT,
        files: BTreeMap::new(),
    };
    let unstage = |staged: &[(PathBuf, PathBuf)]| {
        for (s, _) in staged {
            let _ = std::fs::remove_file(s);
        }
    };
    for (from, rel) in &files {
        let live = data_dir.join(rel);
        if live.exists() && live != system {
            held.push(hold(&live)?);
        }
        let stage = live.with_extension(format!("redb{STAGED_SUFFIX}"));
        let _ = std::fs::remove_file(&stage);
        staged.push((stage.clone(), live));
        let checked = std::fs::copy(from, &stage)
            .map_err(io(&stage))
            .and_then(|_| guarded(&stage, || check_staged(&stage, from)))
            .and_then(|m| {
                std::fs::File::open(&stage)
                    .and_then(|f| f.sync_all())
                    .map_err(io(&stage))?;
                Ok(m)
            });
        let checked = checked.and_then(|m| {
            // Each file where its manifest says it belongs, and nowhere else.
            if m.file.as_deref() == Some(rel.as_str()) {
                Ok(m)
            } else {
                Err(BackupError::Mismatch {
                    path: from.clone(),
                    what: format!("it is the file of {:?}, found at {rel}", m.file),
                })
            }
        });
        match checked {
            Ok(m) => {
                manifest.files.insert(rel.clone(), m);
            }
            Err(e) => {
                unstage(&staged);
                return Err(e);
            }
        }
    }
    let nanos = crate::domain::nanos_now();
    // The system file last: until it is swapped, a restore cut short leaves the registry as
    // it was, and the region files swapped before are registered again at the next start.
    staged.sort_by_key(|(_, live)| *live == system);
    let mut replaced = Vec::new();
    for (stage, live) in &staged {
        if live.exists() {
            // The file replaced keeps a name of its own (one per restore, never overwritten);
            // the rename below then swaps the backup in whole, so there is always a file at
            // the live name.
            let name = live.file_name().and_then(|n| n.to_str()).unwrap_or("file");
            let kept = live.with_file_name(format!("{name}{REPLACED_SUFFIX}-{nanos}"));
            match std::fs::hard_link(live, &kept) {
                Ok(()) => {}
                // A file system without hard links: moved aside instead, a moment without a
                // file at the live name (the writer's hold keeps a server out meanwhile).
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    tracing::warn!(error = %e, "no hard link; moving the replaced file aside");
                    std::fs::rename(live, &kept).map_err(io(&kept))?;
                }
                Err(e) => {
                    unstage(&staged);
                    return Err(io(&kept)(e));
                }
            }
            replaced.push(kept);
        }
        std::fs::rename(stage, live).map_err(io(live))?;
        if let Some(dir) = live.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
        }
    }
    drop(held);
    Ok(Restored { manifest, replaced })
}

/// What a restore did: the backup's manifest, and where the files it replaced were kept.
#[derive(Debug)]
pub struct Restored {
    pub manifest: BackupManifest,
    pub replaced: Vec<PathBuf>,
}

/// Opens a live file as its writer, the way to know that no server holds it; `None`
/// when it does not open at all (too damaged: what a restore is for).
fn hold(live: &Path) -> Result<Option<Database>> {
    let opened =
        std::panic::catch_unwind(|| Builder::new().set_concurrency_mode(SHARING).open(live));
    match opened {
        Ok(Ok(db)) => Ok(Some(db)),
        Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => {
            Err(BackupError::InUse(live.to_path_buf()))
        }
        // A panic comes after the locks were taken: no server holds it either.
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "the file being replaced does not open");
            Ok(None)
        }
        Err(_) => {
            tracing::warn!("the file being replaced does not open (redb panicked)");
            Ok(None)
        }
    }
}

/// The manifest of the region file at `path` (one sent by another node), once it is checked
/// whole as a restore checks a backup.
pub(super) fn checked_file(path: &Path) -> Result<Manifest> {
    guarded(path, || check_staged(path, path))
}

/// The staged copy of the backup `file`: redb's integrity check of every page on open (a page
/// that fails it fails the open), then every table against the manifest, which also catches
/// whatever a repair on open would have changed. (The open's check rebuilds the allocator
/// state through the repair path even for a sound file, so a repair cannot be refused there.)
fn check_staged(staged: &Path, file: &Path) -> Result<Manifest> {
    let db = Builder::new()
        .set_check_integrity_on_open(true)
        .open(staged)
        .map_err(|source| BackupError::Damaged {
            path: file.to_path_buf(),
            source,
        })?;
    check(&db, file)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::demo_store;

    /// A backup of the demo holds every file as it was, reads back against its manifests,
    /// and restores into a data dir that then opens with the same records; a region's file
    /// alone restores that region.
    #[test]
    fn a_backup_restores_what_it_holds() {
        let (dir, store) = demo_store();
        let out = tempfile::tempdir().expect("tempdir");
        let whole = out.path().join("whole");
        let manifest = backup(dir.path(), &whole, None).expect("backup");
        assert_eq!(manifest.regions(), ["jakarta", "jambi", "tenayan-raya"]);
        let jambi = &manifest.files["regions/jambi.redb"];
        assert!(jambi.tables["employees"].rows > 200);
        assert!(jambi.commit_point["audit"] > 0);
        assert!(matches!(
            backup(dir.path(), &whole, None),
            Err(BackupError::Exists(_))
        ));
        let one = out.path().join("jambi.redb");
        let m = store.backup_region_to("jambi", &one).expect("one region");
        assert_eq!(m.file.as_deref(), Some("regions/jambi.redb"));
        let employees = store.count(tables::EMPLOYEES).expect("count");
        let jambi_employees = jambi.tables["employees"].rows;
        drop(store);

        let target = tempfile::tempdir().expect("tempdir");
        restore(&whole, target.path()).expect("restored");
        let restored = Store::open(target.path()).expect("opens");
        assert_eq!(restored.count(tables::EMPLOYEES).expect("count"), employees);
        drop(restored);

        let target = tempfile::tempdir().expect("tempdir");
        restore(&one, target.path()).expect("restored");
        let restored = Store::open(target.path()).expect("opens");
        assert_eq!(restored.region_ids().expect("ids"), ["jambi"]);
        assert_eq!(
            restored.count(tables::EMPLOYEES).expect("count"),
            jambi_employees
        );
        drop(dir);
    }
}
