//! Online backup and restore of a data dir's database.
//!
//! A backup is a consistent snapshot, never a raw copy of a file in use (redb's maintainer warns
//! that copying a file while it is written is unsafe): every table is read inside one read
//! transaction — which sees one commit and never waits for the writer — and written into a new
//! redb file. The server opens its database in redb's single-writer mode, so `kinerja backup`
//! can open it read-only from another process while the server writes; the server also streams
//! a snapshot over HTTP (`GET /api/v1/backup`).
//!
//! The new file carries its manifest in a table of its own (so one file is a whole backup): per
//! table the rows and a SHA-256 over them in key order, the regions, and the commit point (the
//! counters at the snapshot: every numbered write up to them is in the backup, none after). A
//! copy is written beside it as `manifest.json` for people. A restore checks the file's integrity
//! (redb's check of every page) and every table's digest on a staged copy before it replaces
//! anything.

use super::tables::{self, EachTable, COUNTERS, REGIONS};
use super::{Result as StoreResult, Store, StoreError, DB_FILE};
use redb::{
    Builder, ConcurrencyMode, Database, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, TableError, TableHandle,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The format of the backups written here; a restore refuses another.
pub const BACKUP_FORMAT: u32 = 1;

/// The human copy of a backup's manifest, beside its database file.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The file a restore stages the backup in before it replaces the live database.
const STAGED_FILE: &str = "kinerja.redb.restoring";

/// The name a restore keeps the database it replaces under, with the time of the restore
/// (nanoseconds since 1970) after a `-`; the operator removes it.
pub const REPLACED_FILE: &str = "kinerja.redb.before-restore";

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
    #[error("no database at {0}: give the data dir of a server with --data-dir")]
    NoDatabase(PathBuf),
    #[error("no backup at {0}: give the directory `kinerja backup` wrote (or its {DB_FILE})")]
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

/// Writes the snapshot `from` into a new database file `out`, with its manifest.
fn snapshot(from: &ReadTransaction, out: &Path) -> Result<Manifest> {
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
fn snapshot_checked(db: &impl ReadableDatabase, out: &Path) -> Result<Manifest> {
    {
        let tx = db.begin_read().map_err(store_err)?;
        snapshot(&tx, out)?;
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

/// Writes the manifest's human copy into `out`.
fn write_manifest(out: &Path, manifest: &Manifest) -> Result<()> {
    let path = out.join(MANIFEST_FILE);
    let text = serde_json::to_string_pretty(manifest)
        .map_err(|e| StoreError::Fault(format!("cannot encode the manifest: {e}")))?;
    std::fs::write(&path, text + "\n").map_err(io(&path))
}

impl Store {
    /// A snapshot of this store's database in the new file `out` (see the module's text),
    /// read back and checked against its manifest.
    pub fn backup_to(&self, out: &Path) -> Result<Manifest> {
        snapshot_checked(&self.db, out)
    }

    /// Audits a backup taken over HTTP (`backup.take`): it carries every region's records.
    pub fn record_backup(&self, actor: &str, manifest: &Manifest) -> StoreResult<()> {
        let tx = self.db.begin_write()?;
        let rows: u64 = manifest.tables.values().map(|t| t.rows).sum();
        super::audit::record(
            &tx,
            Some(actor),
            "backup.take",
            None,
            "database",
            serde_json::json!({
                "regions": manifest.regions,
                "rows": rows,
                "commit_point": manifest.commit_point,
            }),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// `kinerja backup`: a snapshot of `data_dir`'s database in the new directory `out` (its
/// database file and `manifest.json`), whether or not a server runs on `data_dir`; the
/// written file is read back and checked against its manifest.
pub fn backup(data_dir: &Path, out: &Path) -> Result<Manifest> {
    let live = data_dir.join(DB_FILE);
    if !live.is_file() {
        return Err(BackupError::NoDatabase(data_dir.to_path_buf()));
    }
    let db = Builder::new()
        .set_concurrency_mode(SHARING)
        .open_read_only(&live)
        .map_err(|source| match source {
            redb::DatabaseError::DatabaseAlreadyOpen => {
                BackupError::Store(StoreError::Fault(format!(
                    "the database {} is held by a server that does not share it (an earlier \
                     version): take the backup through GET /api/v1/backup",
                    live.display()
                )))
            }
            source => BackupError::Damaged {
                path: live.clone(),
                source,
            },
        })?;
    let made = !out.exists();
    new_dir(out)?;
    let file = out.join(DB_FILE);
    let written = snapshot_checked(&db, &file);
    drop(db);
    let done = written.and_then(|m| write_manifest(out, &m).map(|()| m));
    if done.is_err() {
        // Nothing half-written is left to be taken for a backup (or to refuse the next try).
        let _ = std::fs::remove_file(&file);
        let _ = std::fs::remove_file(out.join(MANIFEST_FILE));
        if made {
            let _ = std::fs::remove_dir(out);
        }
    }
    done
}

/// The database file of a backup given as its directory or as the file itself.
fn backup_file(backup: &Path) -> Result<PathBuf> {
    let file = if backup.is_dir() {
        backup.join(DB_FILE)
    } else {
        backup.to_path_buf()
    };
    if file.is_file() {
        Ok(file)
    } else {
        Err(BackupError::NoBackup(backup.to_path_buf()))
    }
}

/// `kinerja restore`: replaces `data_dir`'s database with the backup at `backup`, which is
/// first copied beside it and checked there — redb's integrity check of every page, then every
/// table against the manifest — so that nothing is replaced unless the whole backup is intact.
/// The replaced database is kept as [`REPLACED_FILE`]. Refused while a server runs on
/// `data_dir`.
pub fn restore(backup: &Path, data_dir: &Path) -> Result<Restored> {
    let file = backup_file(backup)?;
    std::fs::create_dir_all(data_dir).map_err(io(data_dir))?;
    let live = data_dir.join(DB_FILE);
    // Held as its writer until the backup is in its place: no server, and no other restore,
    // opens it meanwhile.
    let held = if live.exists() { hold(&live)? } else { None };
    let staged = data_dir.join(STAGED_FILE);
    let _ = std::fs::remove_file(&staged);
    let checked = std::fs::copy(&file, &staged)
        .map_err(io(&staged))
        .and_then(|_| guarded(&staged, || check_staged(&staged, &file)))
        .and_then(|manifest| {
            std::fs::File::open(&staged)
                .and_then(|f| f.sync_all())
                .map_err(io(&staged))?;
            Ok(manifest)
        });
    let manifest = match checked {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&staged);
            return Err(e);
        }
    };
    let mut replaced = None;
    if live.exists() {
        // The database replaced keeps a name of its own (one per restore, never overwritten);
        // the rename below then swaps the backup in whole, so there is always a database at
        // the live name.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let kept = data_dir.join(format!("{REPLACED_FILE}-{nanos}"));
        match std::fs::hard_link(&live, &kept) {
            Ok(()) => {}
            // A file system without hard links: moved aside instead, a moment without a
            // database at the live name (the writer's hold keeps a server out meanwhile).
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                tracing::warn!(error = %e, "no hard link; moving the replaced database aside");
                std::fs::rename(&live, &kept).map_err(io(&kept))?;
            }
            Err(e) => {
                let _ = std::fs::remove_file(&staged);
                return Err(io(&kept)(e));
            }
        }
        replaced = Some(kept);
    }
    std::fs::rename(&staged, &live).map_err(io(&live))?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(io(data_dir))?;
    drop(held);
    Ok(Restored { manifest, replaced })
}

/// What a restore did: the backup's manifest, and where the database it replaced was kept.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    pub replaced: Option<PathBuf>,
}

/// Opens the live database as its writer, the way to know that no server holds it; `None`
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
            tracing::warn!(error = %e, "the database being replaced does not open");
            Ok(None)
        }
        Err(_) => {
            tracing::warn!("the database being replaced does not open (redb panicked)");
            Ok(None)
        }
    }
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

    /// A backup of the demo holds every table as it was, reads back against its manifest, and
    /// restores into a data dir that then opens with the same records.
    #[test]
    fn a_backup_restores_what_it_holds() {
        let (dir, store) = demo_store();
        let out = tempfile::tempdir().expect("tempdir");
        let file = out.path().join(DB_FILE);
        let manifest = store.backup_to(&file).expect("backup");
        assert_eq!(manifest.regions, ["jakarta", "jambi", "tenayan-raya"]);
        assert!(manifest.tables["employees"].rows > 700);
        assert!(manifest.commit_point["audit"] > 0);
        let again = guarded(&file, || {
            let db = redb::ReadOnlyDatabase::open(&file).expect("opens");
            check(&db, &file)
        })
        .expect("checks");
        assert_eq!(again, manifest);
        assert!(matches!(
            store.backup_to(&file),
            Err(BackupError::Exists(_))
        ));
        let employees = store.count(tables::EMPLOYEES).expect("count");
        drop(store);

        let target = tempfile::tempdir().expect("tempdir");
        restore(out.path(), target.path()).expect("restored");
        let restored = Store::open(target.path()).expect("opens");
        assert_eq!(restored.count(tables::EMPLOYEES).expect("count"), employees);
        drop(dir);
    }
}
