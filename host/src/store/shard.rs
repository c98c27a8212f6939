//! One redb file of the data dir — `system.redb` or a region's `regions/{region}.redb` — with
//! the group commit that writes its decisions. Each file has its own writer, so regions commit
//! in parallel rather than queueing behind one lock, and a region's file holds all of that
//! region and can be backed up, verified or moved alone.

use super::{group::GroupCommit, known_layout, tables, Result, StoreError, LAYOUT};
use redb::{Database, ReadableTable};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) struct Shard {
    pub(super) db: Database,
    pub(super) path: PathBuf,
    pub(super) group: GroupCommit,
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
