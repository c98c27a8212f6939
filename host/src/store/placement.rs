//! A region's file changing nodes (issue 26): its writes paused while it is copied, the copy
//! installed on the target, and the file let go of on the source.

use super::backup::{self, BackupError, Manifest};
use super::shard::Shard;
use super::tables::REGIONS;
use super::{Result, Store, StoreError, REGION_CACHE_BYTES};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long a pause waits for the writes under way to finish.
const PAUSE_WAIT: Duration = Duration::from_secs(30);

impl Store {
    /// Whether this node holds `region`.
    pub fn holds(&self, region: &str) -> bool {
        self.shard(region).is_ok()
    }

    /// Pauses `region`'s writes: from now on each write transaction on its file is refused
    /// ([`StoreError::Paused`], answered 503 with `Retry-After`), and this returns once those
    /// under way are done, so that a snapshot taken then holds every acknowledged write.
    /// Reads go on.
    pub fn pause_region(&self, region: &str) -> Result<()> {
        self.shard(region)?.pause(PAUSE_WAIT, true)
    }

    /// Lets `region`'s writes go on after [`Store::pause_region`].
    pub fn resume_region(&self, region: &str) -> Result<()> {
        self.shard(region)?.resume();
        Ok(())
    }

    /// Lets go of `region`: its writes paused (if they were not), it is no longer served here
    /// (a node of a cluster answers 421 for it), it leaves the registry, and its file is kept
    /// aside as `{region}.redb.moved-{time}` until the operator removes it. Answers that name.
    pub fn release_region(&self, region: &str) -> Result<PathBuf> {
        let shard = {
            let mut regions = self
                .regions
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            regions
                .remove(region)
                .ok_or_else(|| StoreError::NotFound(format!("region `{region}`")))?
        };
        if let Err(e) = shard.pause(PAUSE_WAIT, false) {
            // Still writing: served on, as before.
            shard.resume();
            self.regions
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(region.to_string(), shard);
            return Err(e);
        }
        let tx = self.system.begin_write()?;
        tx.open_table(REGIONS)?.remove(region)?;
        tx.commit()?;
        self.auth.invalidate();
        let nanos = crate::domain::nanos_now();
        let live = self.region_file(region);
        let kept = super::files::moved_file(&self.dir, region, nanos);
        // Readers still holding the file finish on it; it is closed when the last lets go.
        std::fs::rename(&live, &kept)
            .map_err(|e| StoreError::Fault(format!("cannot rename {}: {e}", live.display())))?;
        drop(shard);
        tracing::info!(%region, kept = %kept.display(), "let go of the region");
        Ok(kept)
    }

    /// Installs the region file `staged` (in the regions directory) as `region`'s: checked
    /// whole first (redb's integrity check and every table against the manifest it carries,
    /// which must be that region's), then opened, served and registered. A region held here
    /// already is refused.
    pub fn install_region(
        &self,
        region: &str,
        staged: &Path,
    ) -> std::result::Result<Manifest, BackupError> {
        if self.holds(region) {
            return Err(
                StoreError::Conflict(format!("region `{region}` is held here already")).into(),
            );
        }
        let manifest = backup::checked_file(staged)?;
        let want = super::files::region_rel(region);
        if manifest.file.as_deref() != Some(want.as_str()) {
            return Err(BackupError::Mismatch {
                path: staged.to_path_buf(),
                what: format!(
                    "it is the file of {}, not of region `{region}`",
                    manifest.file.as_deref().unwrap_or("no region")
                ),
            });
        }
        let live = self.region_file(region);
        let mut regions = self
            .regions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if regions.contains_key(region) || live.exists() {
            return Err(StoreError::Conflict(format!(
                "region `{region}` is held here already ({})",
                live.display()
            ))
            .into());
        }
        std::fs::rename(staged, &live).map_err(|source| BackupError::Io {
            path: live.clone(),
            source,
        })?;
        let shard: Arc<Shard> = Shard::open(&live, REGION_CACHE_BYTES)?;
        self.register_file(region, &shard)?;
        regions.insert(region.to_string(), shard);
        tracing::info!(%region, "took in the region");
        Ok(manifest)
    }
}
