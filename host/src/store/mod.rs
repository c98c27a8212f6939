//! The record store: the only module that touches redb. Its data lives in one redb file per
//! region and a system file (`shard`), so that a region is the unit of writing (each file has
//! its own writer and group commit), of backup and of placement. Every operation is one short
//! transaction, in one file, synchronous; async callers go through [`Store::run`], which moves the work to a
//! blocking thread so that disk waits never stall the async workers. Reads of a few small
//! records are the exception ([`Store::read_now`]): there the hand-off costs several times the
//! read, and the worst wait is a page read from disk when the file is not in the page cache.

mod appraisal_read;
mod audit;
mod auth_cache;
pub mod backup;
pub mod blob;
mod bulk;
mod decision_row;
mod decisions;
mod feedback;
mod files;
mod group;
mod migrate;
mod org;
mod period_row;
mod placement;
mod plugins;
mod records;
mod regions;
mod reports;
mod sessions;
mod shard;
mod skp;
mod surveys;
pub mod tables;
mod tokens;

pub(crate) use appraisal_read::PARALLEL_READ_FROM;
pub use appraisal_read::{AppraisalSnapshot, Recorded};
pub use audit::AuditEvent;
pub use bulk::{ActivityImport, ActivityRow, BulkEmployee, RowError};
pub use decisions::{
    raw_output, results_in, CallBytes, CallMeta, CallRecord, CallResult, Decision, InputsRead,
    StoredAppraisal, Unreadable,
};
pub use files::{region_file, MOVED_SUFFIX};
pub use migrate::{Migrated, LAYOUT1_KEPT};
pub use org::{AgencyPredikat, OrgPredikatRecord};
pub use plugins::{Activation, PluginMeta, PluginUpload};
pub use records::Page;
pub use reports::{ActivityQuery, Reported, Verdict};
pub use sessions::{Credential, OpenedSession};
pub use tokens::{IssuedToken, TokenRecord};

use crate::domain::FieldError;
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tables::JsonTable;

/// Why a store operation failed. Only `Db`, `Fault` and `Corrupt` are the server's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("{0}")]
    Conflict(String),
    /// A client's write that would pass a bound on what it may store (413).
    #[error("{0}")]
    TooLarge(String),
    /// Revoking this admin token would leave none: no admin token could ever be issued again
    /// through the API (only `kinerja admin reset-token` on the stopped server could).
    #[error(
        "token `{0}` is the last admin token: revoking it would leave no admin; issue another \
         admin token first (or, with the server stopped, use `kinerja admin reset-token`)"
    )]
    LastAdmin(String),
    /// redb failed (I/O, a full disk, a corrupt page): its error, kept as the source.
    #[error("database error: {0}")]
    Db(#[source] redb::Error),
    /// A fault of the store's own machinery rather than redb's (a read that panicked, a
    /// commit whose reply was lost).
    #[error("store fault: {0}")]
    Fault(String),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    /// The region's file is moving to another node: its writes are paused (503 with
    /// `Retry-After`) until the move completes or is undone.
    #[error("region `{0}` is being moved to another node: its writes are paused; retry shortly")]
    Paused(String),
    /// The data dir was written by a newer kinerja, whose layout this one does not know: read,
    /// its data could be misread, and written, damaged for the version that wrote it.
    #[error(
        "{path} was written by a newer kinerja (data layout {found}; this version reads layouts \
         up to {known}): run that version, or restore a backup this version took"
    )]
    NewerLayout {
        path: String,
        found: u64,
        known: u64,
    },
}

/// redb's error types all convert into `redb::Error`, which is kept whole.
macro_rules! db_err {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.into())
            }
        }
    )*};
}
db_err!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        StoreError::Db(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The file of the first data layout, one database for everything; migrated to the files
/// of layout 2 at the first start of this version (see `store::migrate`).
pub const LAYOUT1_FILE: &str = "kinerja.redb";

/// The file of the region registry, admin tokens and the national audit, in the data dir.
pub const SYSTEM_FILE: &str = "system.redb";

/// The directory of the region files (`{region}.redb`), in the data dir.
pub const REGIONS_DIR: &str = "regions";

/// The data layout this version writes and reads (`META` `layout`): raised by a change an
/// older version would misread, with the migration of the layouts before it in `Store::open`.
/// Layout 1: one database file, `kinerja.redb`. Layout 2: `system.redb` and one file per
/// region under `regions/`, each with every table of `tables.rs` (the keys unchanged).
pub const LAYOUT: u64 = 2;

/// Refuses the database at `path` when its recorded layout is newer than [`LAYOUT`].
pub(crate) fn known_layout(found: Option<u64>, path: &Path) -> Result<()> {
    match found {
        Some(found) if found > LAYOUT => Err(StoreError::NewerLayout {
            path: path.display().to_string(),
            found,
            known: LAYOUT,
        }),
        _ => Ok(()),
    }
}

/// The page cache of each region file, at most: redb's default (1 GiB) per file would let
/// a node of hundreds of regions grow without bound. Enough for a large region's appraisal
/// to read from memory.
pub const REGION_CACHE_BYTES: usize = 64 << 20;

/// The page cache of the system file, which holds little.
const SYSTEM_CACHE_BYTES: usize = 8 << 20;

pub struct Store {
    dir: PathBuf,
    system: Arc<shard::Shard>,
    /// The regions this node holds, each in its own file, by id.
    regions: std::sync::RwLock<BTreeMap<String, Arc<shard::Shard>>>,
    auth: auth_cache::AuthCache,
}

impl Store {
    /// Opens (or creates) the data dir: its system file and every region file under
    /// `regions/`, migrating a data dir of layout 1 first.
    pub fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir.join(REGIONS_DIR)).map_err(|e| {
            StoreError::Fault(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        migrate::layout1_if_any(data_dir)?;
        let system = shard::Shard::open(&data_dir.join(SYSTEM_FILE), SYSTEM_CACHE_BYTES)?;
        let store = Store {
            dir: data_dir.to_path_buf(),
            system,
            regions: Default::default(),
            auth: auth_cache::AuthCache::default(),
        };
        store.open_regions()?;
        Ok(store)
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of region `id` (which need not exist yet).
    pub fn region_file(&self, id: &str) -> PathBuf {
        region_file(&self.dir, id)
    }

    /// Where region `id`'s file is written while it is taken in (`nanos`: one name per send);
    /// removed at the next start if it never became whole.
    pub fn incoming_file(&self, id: &str, nanos: u128) -> PathBuf {
        files::incoming_file(&self.dir, id, nanos)
    }

    /// The file of `region`, or 404 when this node holds no such region.
    pub(crate) fn shard(&self, region: &str) -> Result<Arc<shard::Shard>> {
        self.regions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(region)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("region `{region}`")))
    }

    /// Every region file, by region id.
    pub(crate) fn each_shard(&self) -> Vec<(String, Arc<shard::Shard>)> {
        self.regions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect()
    }

    /// Runs `f` on a blocking thread: redb calls block on disk and must stay off async workers.
    /// Writes (which wait for the write lock and sync), scans and anything of unbounded size go
    /// this way; a read of a few keys may take [`Store::read_now`] instead.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let store = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| StoreError::Fault(format!("store task failed: {e}")))?
    }

    /// Runs `f`, a read of a few small records (an employee, an agency, a region; at most
    /// [`crate::limits::READ_NOW_MAX_NIPS`] employees), on the caller's own (async) thread. Such a read takes
    /// a few microseconds (redb's read transactions never wait for the writer), while the
    /// hand-off of [`Store::run`] (a wake-up of a blocking thread, and of the async task again
    /// when it is done) costs ~20–25 µs of CPU on the 2-core machine of docs/performance.md,
    /// several times the read. Not for writes, scans, or records a client can make large
    /// (period records). A panic is caught and answered as an error, as [`Store::run`]'s would
    /// be, rather than unwinding the connection's task.
    pub fn read_now<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self)))
            .map_err(|_| StoreError::Fault("a store read panicked".into()))?
    }

    /// Size of the data dir's files together, for metrics.
    pub fn file_size(&self) -> u64 {
        self.system.file_size()
            + self
                .each_shard()
                .iter()
                .map(|(_, s)| s.file_size())
                .sum::<u64>()
    }

    /// Row counts of a table over every file, for the readiness check and metrics.
    pub fn count(&self, table: JsonTable) -> Result<u64> {
        let mut n = self.system.db.begin_read()?.open_table(table)?.len()?;
        for (_, s) in self.each_shard() {
            n += s.db.begin_read()?.open_table(table)?.len()?;
        }
        Ok(n)
    }
}

/// `kinerja migrate`: migrates a data dir of layout 1 to this version's (as opening it does);
/// `None` when there was nothing to migrate.
pub fn migrate_data_dir(data_dir: &Path) -> Result<Option<migrate::Migrated>> {
    if !data_dir.is_dir() {
        return Err(StoreError::NotFound(format!(
            "data dir {}",
            data_dir.display()
        )));
    }
    migrate::layout1_if_any(data_dir)
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Fault(format!("cannot encode record: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(b: &[u8]) -> Result<T> {
    serde_json::from_slice(b).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Whether the JSON object `row` has the key `key`: when a row fails to decode, tells which of
/// a table's stored forms it was meant to be, so the error reported is that form's (and an old
/// reader never gets a newer row it would misread).
pub(crate) fn has_key(row: &[u8], key: &str) -> bool {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(row)
        .is_ok_and(|m| m.contains_key(key))
}

pub(crate) fn get_json<T: DeserializeOwned>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>> {
    get_row(t, key, from_json)
}

/// [`get_json`] with the row decoder given, for tables whose rows are not plain JSON of `T`.
pub(crate) fn get_row<T>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
    decode: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<Option<T>> {
    match t.get(key)? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
}

/// The exclusive upper bound of all keys starting with `prefix` (which ends in `/`): `0` sorts
/// right after `/`.
pub(crate) fn prefix_end(prefix: &str) -> String {
    if prefix.is_empty() {
        // Keys are ASCII; DEL sorts after all of them.
        return "\u{7f}".to_string();
    }
    let mut end = prefix.to_string();
    end.pop();
    end.push('0');
    end
}

/// Reads one page of JSON rows under `prefix`, after `cursor` (the last key suffix of the
/// previous page), answering the items and the next cursor.
pub(crate) fn page_json<T: DeserializeOwned + Send>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
    cursor: Option<&str>,
    limit: usize,
    keep: impl Fn(&T) -> bool + Sync,
) -> Result<Page<T>> {
    page_rows(t, prefix, cursor, limit, from_json, keep)
}

/// [`page_json`] with the row decoder given, for tables whose rows are not plain JSON of `T`.
/// A `limit` of `usize::MAX` asks for everything: the rows are then decoded on several threads
/// (and `next` is always `None`).
pub(crate) fn page_rows<T: Send>(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    prefix: &str,
    cursor: Option<&str>,
    limit: usize,
    decode: impl Fn(&[u8]) -> Result<T> + Sync,
    keep: impl Fn(&T) -> bool + Sync,
) -> Result<Page<T>> {
    let end = prefix_end(prefix);
    let start = match cursor {
        Some(c) => format!("{prefix}{c}\u{0}"),
        None => prefix.to_string(),
    };
    if limit == usize::MAX {
        // Everything (a region-wide appraisal's selection): the rows are copied out and
        // decoded on several threads; decoding a region's employees on one thread would hold
        // one core while the others wait.
        let rows = t
            .range::<&str>(start.as_str()..end.as_str())?
            .map(|row| Ok(row?.1.value().to_vec()))
            .collect::<Result<Vec<Vec<u8>>>>()?;
        let items = in_parts(&rows, PARALLEL_DECODE_FROM, "row decoder", |piece| {
            let mut items = Vec::with_capacity(piece.len());
            for row in piece {
                let item = decode(row)?;
                if keep(&item) {
                    items.push(item);
                }
            }
            Ok::<_, StoreError>(items)
        })?;
        return Ok(Page { items, next: None });
    }
    let mut items = Vec::new();
    let mut next = None;
    let mut last_key = None;
    for row in t.range::<&str>(start.as_str()..end.as_str())? {
        let (k, v) = row?;
        let item: T = decode(v.value())?;
        if !keep(&item) {
            continue;
        }
        if items.len() == limit {
            next = last_key.take();
            break;
        }
        last_key = Some(k.value()[prefix.len()..].to_string());
        items.push(item);
    }
    Ok(Page { items, next })
}

/// From this many rows on, a listing of everything is decoded on several threads (from two in
/// unit tests, so that every listing there takes that path).
const PARALLEL_DECODE_FROM: usize = if cfg!(test) { 2 } else { 4096 };

/// Threads of one [`in_parts`] run, at most.
const MAX_PART_THREADS: usize = 4;

/// Pieces [`in_parts`] cuts the items into per thread.
const PIECES_PER_THREAD: usize = 8;

/// `f` over pieces of `items` on up to [`MAX_PART_THREADS`] scoped threads, the pieces' results
/// joined in order; on the calling thread below `parallel_from` items, where starting threads
/// costs more than it saves. For the per-row work of a region-wide appraisal (decoding records,
/// encoding decisions, building the answer) that would otherwise hold one core while the
/// others wait.
pub(crate) fn in_parts<T, U, E, F>(
    items: &[T],
    parallel_from: usize,
    what: &str,
    f: F,
) -> std::result::Result<Vec<U>, E>
where
    T: Sync,
    U: Send,
    E: Send + From<StoreError>,
    F: Fn(&[T]) -> std::result::Result<Vec<U>, E> + Sync,
{
    if items.len() < parallel_from {
        return f(items);
    }
    let threads = crate::config::cores().min(MAX_PART_THREADS);
    if threads < 2 {
        return f(items);
    }
    // Several pieces per thread, each taken by whichever thread is free: threads rarely get
    // the cores in equal shares on a shared machine, and with one half each, one thread is
    // often left finishing alone while the others wait.
    let size = items.len().div_ceil(threads * PIECES_PER_THREAD).max(1);
    let pieces: Vec<&[T]> = items.chunks(size).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|sc| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(piece) = pieces.get(i) else {
                            return done;
                        };
                        done.push((i, f(piece)));
                    }
                })
            })
            .collect();
        let mut done = Vec::with_capacity(pieces.len());
        for w in workers {
            done.extend(
                w.join()
                    .map_err(|_| StoreError::Fault(format!("a {what} thread panicked")))?,
            );
        }
        // In order, so that the first failure is the first piece's, whatever finished first.
        done.sort_unstable_by_key(|(i, _)| *i);
        let done = done
            .into_iter()
            .map(|(_, piece)| piece)
            .collect::<std::result::Result<Vec<_>, E>>()?;
        let mut out = Vec::with_capacity(done.iter().map(Vec::len).sum());
        for piece in done {
            out.extend(piece);
        }
        Ok(out)
    })
}

/// Takes the next value of a named counter inside a write transaction.
pub(crate) fn next_seq(tx: &redb::WriteTransaction, name: &str) -> Result<u64> {
    let mut t = tx.open_table(tables::COUNTERS)?;
    let n = t.get(name)?.map(|v| v.value()).unwrap_or(0) + 1;
    t.insert(name, n)?;
    Ok(n)
}

/// A store in `dir` with one region, `jambi`, and nothing in it.
#[cfg(test)]
pub(crate) fn test_store(dir: &Path) -> Store {
    let store = Store::open(dir).expect("open store");
    let jambi = crate::domain::region::RegionInput {
        name: "Provinsi Jambi".into(),
        level: crate::domain::region::RegionLevel::Provinsi,
        time_zone: crate::domain::reporting::TimeZone::Wib,
    };
    store.put_region("jambi", jambi, "test").expect("region");
    store
}

/// A store in a temporary directory (kept alive by the first half) with the demo records.
#[cfg(test)]
pub(crate) fn demo_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("open store");
    crate::demo::load_records(&store).expect("demo records");
    (dir, store)
}

#[cfg(test)]
mod tests {
    /// A data dir of a newer layout is refused, naming both layouts, and left as it was.
    #[test]
    fn a_newer_layout_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(Store::open(dir.path()).expect("open"));
        let path = dir.path().join(SYSTEM_FILE);
        {
            let db = redb::Database::open(&path).expect("open");
            let tx = db.begin_write().expect("write");
            tx.open_table(tables::META)
                .expect("meta")
                .insert("layout", LAYOUT + 1)
                .expect("insert");
            tx.commit().expect("commit");
        }
        let err = Store::open(dir.path()).err().expect("refused");
        let text = err.to_string();
        assert!(
            matches!(err, StoreError::NewerLayout { found, .. } if found == LAYOUT + 1),
            "{text}"
        );
        assert!(
            text.contains("newer kinerja") && text.contains(&format!("up to {LAYOUT}")),
            "{text}"
        );
        let db = redb::Database::open(&path).expect("open");
        let tx = db.begin_read().expect("read");
        let layout = tx
            .open_table(tables::META)
            .expect("meta")
            .get("layout")
            .expect("get")
            .map(|v| v.value());
        assert_eq!(layout, Some(LAYOUT + 1), "left as it was");
    }

    use super::*;

    fn pieces_of(items: &[u32]) -> std::result::Result<Vec<u32>, StoreError> {
        in_parts(items, 1, "test", |piece| {
            match piece.iter().find(|&&x| x == 5_000 || x == 9_000) {
                Some(x) => Err(StoreError::Fault(x.to_string())),
                None => Ok(piece.iter().map(|x| x * 2).collect()),
            }
        })
    }

    /// The pieces' results come back joined in the items' order, and a failure is the first
    /// failing piece's whichever thread met it first.
    #[test]
    fn in_parts_keeps_the_order_and_the_first_failure() {
        let items: Vec<u32> = (0..4_999).collect();
        let doubled = pieces_of(&items).expect("no failing item");
        assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        let items: Vec<u32> = (0..10_000).collect();
        for _ in 0..20 {
            let err = pieces_of(&items).expect_err("5000 and 9000 fail");
            assert!(err.to_string().contains("5000"), "{err}");
        }
    }
}
