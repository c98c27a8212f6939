//! The region registry: each region's id, name and level, written by an admin. A region's time
//! zone is kept with its reporting rules (`REGION_REPORTING`), where the dates of its reports
//! are decided, and shown in both: one setting, one row.

use super::files::{self, Listed};
use super::shard::Shard;
use super::tables::*;
use super::{audit, get_json, to_json, Page, Result, Store, StoreError, REGION_CACHE_BYTES};
use crate::domain::now_rfc3339;
use crate::domain::region::{Region, RegionInput, RegionLevel};
use crate::domain::reporting::TimeZone;
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A region's row. The rows an earlier version wrote hold only the id and the name.
#[derive(Serialize, Deserialize)]
struct RegionRow {
    id: String,
    name: String,
    #[serde(default)]
    level: Option<RegionLevel>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
}

impl RegionRow {
    fn shown(self, time_zone: TimeZone) -> Region {
        Region {
            id: self.id,
            name: self.name,
            level: self.level,
            time_zone,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A region's time zone, as its reporting rules keep it.
fn time_zone_in(t: &impl ReadableTable<&'static str, &'static [u8]>, id: &str) -> Result<TimeZone> {
    Ok(super::reports::rules_in(t, id)?.time_zone)
}

impl Store {
    /// Creates region `id` — its file, `regions/{id}.redb` — or replaces what an admin writes of
    /// it (validated by the caller), audited as `region.put` with what it was before (in the
    /// region's audit, which its file carries wherever it goes); answers it and whether it is
    /// new.
    pub fn put_region(&self, id: &str, input: RegionInput, actor: &str) -> Result<(Region, bool)> {
        let shard = match self.shard(id) {
            Ok(s) => s,
            Err(_) => {
                let mut regions = self
                    .regions
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match regions.get(id) {
                    Some(s) => Arc::clone(s),
                    None if self.moved_away(id)? => {
                        return Err(StoreError::Conflict(format!(
                            "region `{id}` was moved away from this node (its file is kept \
                             here as {id}.redb{}-…): create it where it lives now",
                            super::MOVED_SUFFIX
                        )))
                    }
                    None => {
                        let s = Shard::open(&self.region_file(id), REGION_CACHE_BYTES)?;
                        regions.insert(id.to_string(), Arc::clone(&s));
                        s
                    }
                }
            }
        };
        let tx = shard.begin_write()?;
        let (region, created) = {
            let mut regions = tx.open_table(REGIONS)?;
            let mut rules_t = tx.open_table(REGION_REPORTING)?;
            let before: Option<RegionRow> = get_json(&regions, id)?;
            let mut rules = super::reports::rules_in(&rules_t, id)?;
            let was = before
                .as_ref()
                .map(|b| (b.name.clone(), b.level, rules.time_zone));
            let now = now_rfc3339();
            let row = RegionRow {
                id: id.into(),
                name: input.name.trim().into(),
                level: Some(input.level),
                created_at: before
                    .as_ref()
                    .and_then(|b| b.created_at.clone())
                    .or_else(|| before.is_none().then(|| now.clone())),
                updated_at: Some(now),
            };
            regions.insert(id, to_json(&row)?.as_slice())?;
            if rules.time_zone != input.time_zone {
                rules.time_zone = input.time_zone;
                rules_t.insert(id, to_json(&rules)?.as_slice())?;
            }
            let detail = serde_json::json!({
                "before": was.map(|(name, level, tz)| {
                    serde_json::json!({"name": name, "level": level, "time_zone": tz})
                }),
                "after": {"name": row.name, "level": row.level, "time_zone": input.time_zone},
            });
            audit::record(&tx, Some(actor), "region.put", Some(id), id, detail)?;
            self.register(&row)?;
            (row.shown(input.time_zone), before.is_none())
        };
        tx.commit()?;
        Ok((region, created))
    }

    /// Whether region `id`'s file was let go of here (`kinerja region move`): a region of that
    /// id created again here would be a second, empty copy beside the one that moved.
    fn moved_away(&self, id: &str) -> Result<bool> {
        Ok(self
            .list_regions_dir()?
            .iter()
            .any(|l| matches!(l, Listed::Moved { id: moved, .. } if moved == id)))
    }

    /// The files of the regions directory ([`files::list`]).
    fn list_regions_dir(&self) -> Result<Vec<Listed>> {
        files::list(&self.dir).map_err(|e| {
            StoreError::Fault(format!(
                "cannot read {}: {e}",
                self.dir.join(super::REGIONS_DIR).display()
            ))
        })
    }

    /// Writes region `row` into the registry of the system file.
    fn register(&self, row: &RegionRow) -> Result<()> {
        let tx = self.system.begin_write()?;
        tx.open_table(REGIONS)?
            .insert(row.id.as_str(), to_json(row)?.as_slice())?;
        tx.commit()?;
        Ok(())
    }

    /// Registers region `id` as its file `shard` describes it (a file from before regions had
    /// rows: by its id).
    pub(super) fn register_file(&self, id: &str, shard: &Shard) -> Result<()> {
        let tx = shard.db.begin_read()?;
        let row: Option<RegionRow> = get_json(&tx.open_table(REGIONS)?, id)?;
        let row = row.unwrap_or(RegionRow {
            id: id.to_string(),
            name: id.to_string(),
            level: None,
            created_at: None,
            updated_at: None,
        });
        self.register(&row)?;
        self.index_region_tokens(id, shard)
    }

    /// Opens every region file of the data dir and registers any the registry lacks (a file
    /// brought in from another node, or one whose registration a crash interrupted); a
    /// registered region whose file is missing is refused, naming it.
    pub(super) fn open_regions(&self) -> Result<()> {
        let mut opened = BTreeMap::new();
        for listed in self.list_regions_dir()? {
            match listed {
                Listed::Region { id, path } => {
                    opened.insert(id, Shard::open(&path, REGION_CACHE_BYTES)?);
                }
                Listed::Incoming(path) => {
                    // A region's file a stopped node was taking in: never served, never whole.
                    tracing::info!(file = %path.display(), "removed a region file half taken in");
                    let _ = std::fs::remove_file(path);
                }
                // Kept for the operator after a move away or a restore.
                Listed::Moved { .. } | Listed::Restored(_) => {}
                Listed::Other(path) => {
                    tracing::warn!(file = %path.display(), "not a region file; left alone");
                }
            }
        }
        let registered: Vec<String> = {
            let tx = self.system.db.begin_read()?;
            let t = tx.open_table(REGIONS)?;
            t.iter()?
                .map(|row| Ok(row?.0.value().to_string()))
                .collect::<Result<_>>()?
        };
        if let Some(missing) = registered.iter().find(|r| !opened.contains_key(*r)) {
            return Err(StoreError::Fault(format!(
                "region `{missing}` is registered in {} but its file {} is missing: restore it \
                 from a backup (kinerja restore)",
                self.system.path.display(),
                self.region_file(missing).display()
            )));
        }
        for (id, shard) in &opened {
            if registered.contains(id) {
                continue;
            }
            tracing::info!(region = %id, "registered the region of a file found in the data dir");
            self.register_file(id, shard)?;
        }
        *self
            .regions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = opened;
        Ok(())
    }

    /// Region `id`; 404 when there is none.
    pub fn region(&self, id: &str) -> Result<Region> {
        let tx = self.shard(id)?.db.begin_read()?;
        let row: RegionRow = get_json(&tx.open_table(REGIONS)?, id)?
            .ok_or_else(|| StoreError::NotFound(format!("region `{id}`")))?;
        let tz = time_zone_in(&tx.open_table(REGION_REPORTING)?, id)?;
        Ok(row.shown(tz))
    }

    /// A page of the regions, by id.
    pub fn regions_page(&self, cursor: Option<&str>, limit: usize) -> Result<Page<Region>> {
        let ids = self.region_ids()?;
        let after: Vec<&String> = ids
            .iter()
            .filter(|id| cursor.is_none_or(|c| id.as_str() > c))
            .collect();
        let mut items = Vec::new();
        for id in after.iter().take(limit) {
            match self.region(id) {
                Ok(r) => items.push(r),
                // Being created (its file open, its row not yet committed): not listed yet.
                Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let next = (after.len() > limit)
            .then(|| items.last().map(|r: &Region| r.id.clone()))
            .flatten();
        Ok(Page { items, next })
    }

    /// Every region's id, in order.
    pub fn region_ids(&self) -> Result<Vec<String>> {
        Ok(self.each_shard().into_iter().map(|(id, _)| id).collect())
    }

    /// 404 for a region that does not exist, before anything else is looked at.
    pub fn require_region(&self, region: &str) -> Result<()> {
        self.shard(region).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::AgencyInput;

    fn input(name: &str, level: RegionLevel, tz: TimeZone) -> RegionInput {
        RegionInput {
            name: name.into(),
            level,
            time_zone: tz,
        }
    }

    /// A region exists once written: before, its records are refused as not found; its time
    /// zone is its reporting rules', both ways; a second write keeps when it was created.
    #[test]
    fn a_region_exists_once_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let agency = || AgencyInput {
            name: "Dinas Pendidikan".into(),
        };
        let err = store
            .upsert_agency("kota-pekanbaru", "disdik", agency())
            .expect_err("no region yet");
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert!(store.region_ids().expect("ids").is_empty());

        let (r, created) = store
            .put_region(
                "kota-pekanbaru",
                input(" Kota Pekanbaru ", RegionLevel::Kota, TimeZone::Wib),
                "tok-admin",
            )
            .expect("created");
        assert!(created);
        assert_eq!(r.name, "Kota Pekanbaru");
        store
            .upsert_agency("kota-pekanbaru", "disdik", agency())
            .expect("an agency of the new region");

        let (again, created) = store
            .put_region(
                "kota-pekanbaru",
                input(
                    "Pemerintah Kota Pekanbaru",
                    RegionLevel::Kota,
                    TimeZone::Wita,
                ),
                "tok-admin",
            )
            .expect("updated");
        assert!(!created);
        assert_eq!(again.created_at, r.created_at);
        assert_eq!(
            store
                .reporting_rules("kota-pekanbaru")
                .expect("rules")
                .time_zone,
            TimeZone::Wita
        );
        let read = store.region("kota-pekanbaru").expect("read");
        assert_eq!(read.name, "Pemerintah Kota Pekanbaru");
        assert_eq!(read.time_zone, TimeZone::Wita);
        assert_eq!(store.region_ids().expect("ids"), ["kota-pekanbaru"]);
        let page = store.regions_page(None, 10).expect("page");
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].level, Some(RegionLevel::Kota));
    }

    /// A region's file half taken in when its node stopped is removed at the next start and
    /// never served; the region files beside it are.
    #[test]
    fn a_file_half_taken_in_is_removed_at_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_region(
                "jambi",
                input("Jambi", RegionLevel::Provinsi, TimeZone::Wib),
                "t",
            )
            .expect("created");
        drop(store);
        let half = dir.path().join("regions/kota-dumai.redb.incoming-123");
        std::fs::write(&half, b"half a file").expect("write");
        let store = Store::open(dir.path()).expect("reopen");
        assert!(!half.exists());
        assert_eq!(store.region_ids().expect("ids"), ["jambi"]);
    }

    /// A row an earlier version wrote (id and name only) still reads, its level null.
    #[test]
    fn an_earlier_versions_row_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        store
            .put_region(
                "jambi",
                input("x", RegionLevel::Provinsi, TimeZone::Wib),
                "t",
            )
            .expect("created");
        let tx = store
            .shard("jambi")
            .expect("file")
            .db
            .begin_write()
            .expect("write");
        tx.open_table(REGIONS)
            .expect("table")
            .insert(
                "jambi",
                br#"{"id":"jambi","name":"Provinsi Jambi"}"#.as_slice(),
            )
            .expect("insert");
        tx.commit().expect("commit");
        let r = store.region("jambi").expect("read");
        assert_eq!((r.name.as_str(), r.level), ("Provinsi Jambi", None));
        assert_eq!(r.time_zone, TimeZone::Wib);
    }
}
