//! One redb file of the data dir — `system.redb` or a region's `regions/{region}.redb` — with
//! the group commit that writes its decisions. Each file has its own writer, so regions commit
//! in parallel rather than queueing behind one lock, and a region's file holds all of that
//! region and can be backed up, verified or moved alone.

use super::{group::GroupCommit, known_layout, tables, Result, StoreError, LAYOUT};
use redb::{Database, ReadableTable};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) struct Shard {
    pub(super) db: Database,
    pub(super) path: PathBuf,
    pub(super) group: GroupCommit,
    /// Writes refused (a region being moved, issue 26); see [`Shard::pause`].
    paused: AtomicBool,
    /// Write transactions begun through [`Shard::begin_write`] and not yet ended.
    writers: AtomicUsize,
}

/// A write transaction of a [`Shard`], counted as under way until it is committed, aborted
/// or dropped; used as redb's (it derefs to it).
pub(crate) struct WriteTx {
    tx: redb::WriteTransaction,
    _writer: Writer,
}

/// One write under way on a shard, for as long as it lives.
struct Writer(Arc<Shard>);

impl Drop for Writer {
    fn drop(&mut self) {
        self.0.writers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::ops::Deref for WriteTx {
    type Target = redb::WriteTransaction;
    fn deref(&self) -> &redb::WriteTransaction {
        &self.tx
    }
}

impl WriteTx {
    pub(crate) fn commit(self) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }

    pub(crate) fn abort(self) -> Result<()> {
        self.tx.abort()?;
        Ok(())
    }
}

impl Shard {
    /// Opens (or creates) the file at `path` with a page cache of at most `cache_bytes`, refuses
    /// a newer layout, and creates every table, so that readers never meet a missing one.
    pub(super) fn open(path: &Path, cache_bytes: usize) -> Result<Arc<Shard>> {
        // Shared with read-only openers in other processes (`kinerja backup`).
        let db = redb::Builder::new()
            .set_concurrency_mode(super::backup::SHARING)
            .set_cache_size(cache_bytes)
            .create(path)
            .map_err(|e| opening(path, e))?;
        let shard = Shard {
            db,
            path: path.to_path_buf(),
            group: GroupCommit::default(),
            paused: AtomicBool::new(false),
            writers: AtomicUsize::new(0),
        };
        shard.init()?;
        Ok(Arc::new(shard))
    }

    fn init(&self) -> Result<()> {
        let tx = self.db.begin_write()?;
        {
            // First, before anything is written: a newer layout is refused (the transaction,
            // dropped, writes nothing).
            let mut meta = tx.open_table(tables::META)?;
            let found = meta.get("layout")?.map(|v| v.value());
            known_layout(found, &self.path)?;
            meta.insert("layout", LAYOUT)?;
        }
        tables::each_table(&mut Create(&tx))?;
        let indexed = super::reports::index_old_reports(&tx)?;
        if indexed > 0 {
            tracing::info!(
                reports = indexed,
                "indexed the reports of an earlier version"
            );
        }
        tx.commit()?;
        Ok(())
    }

    /// A write transaction on the file; refused while its writes are paused.
    pub(crate) fn begin_write(self: &Arc<Self>) -> Result<WriteTx> {
        // Counted before the flag is read, and the pause sets the flag before it counts: one
        // of the two sees the other (both sequentially consistent), so no write begins
        // unseen after a pause has found none under way.
        self.writers.fetch_add(1, Ordering::SeqCst);
        let writer = Writer(Arc::clone(self));
        if self.paused.load(Ordering::SeqCst) {
            return Err(StoreError::Paused(self.name()));
        }
        Ok(WriteTx {
            tx: self.db.begin_write()?,
            _writer: writer,
        })
    }

    /// Refuses the file's writes from now on, and returns once those under way are done (or
    /// fails after `wait`, the writes paused still: the caller resumes or retries).
    /// A pause is owned by whoever took it (`first`): a second is refused (409) rather than
    /// shared, so that one move's failure cannot resume the writes of another under way;
    /// `first: false` (letting a region go) takes a pause whoever holds it. A pause that times
    /// out is taken back.
    pub(super) fn pause(&self, wait: Duration, first: bool) -> Result<()> {
        let was = self.paused.swap(true, Ordering::SeqCst);
        if was && first {
            return Err(StoreError::Conflict(format!(
                "region `{}` is being moved already: its writes are paused",
                self.name()
            )));
        }
        let since = Instant::now();
        while self.writers.load(Ordering::SeqCst) > 0 {
            if since.elapsed() > wait {
                if !was {
                    self.resume();
                }
                return Err(StoreError::Paused(self.name()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        Ok(())
    }

    pub(super) fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }

    /// The file's name without `.redb`: the region's id for a region file.
    fn name(&self) -> String {
        self.path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string()
    }

    /// Size of the file, for metrics.
    pub(super) fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0)
    }
}

/// The error of opening the file at `path`: redb locks the file, and a second opener is almost
/// always a server still running on the data dir.
pub(super) fn opening(path: &Path, e: redb::DatabaseError) -> StoreError {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Fault(format!(
            "the database {} is in use by another process (is a kinerja server running on this \
             data dir? stop it first)",
            path.display()
        )),
        other => other.into(),
    }
}

/// Creates each table that does not exist yet.
pub(super) struct Create<'a>(pub(super) &'a redb::WriteTransaction);

impl tables::EachTable for Create<'_> {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        t: redb::TableDefinition<'static, K, V>,
    ) -> Result<()> {
        self.0.open_table(t)?;
        Ok(())
    }
}
