//! The migration of a data dir of layout 1 (one file, `kinerja.redb`) to layout 2
//! (`system.redb` and one file per region), at the first start of this version or by
//! `kinerja migrate`.
//!
//! Every row of the old file goes to the file of the region it belongs to — found from its
//! key's first part, or from its value where the key does not carry the region (tokens, audit
//! events, survey codes, decisions, the hashes of call bytes, evidence and modules) — or to the
//! system file (admin tokens, events of no region, the registry). Keys are copied unchanged and
//! each file gets the old counters, so every id given before keeps its meaning and new ones
//! carry on from them. Region tokens keep working: their secrets do not name their region, so
//! the system file maps their hashes to it (`TOKEN_REGIONS`).
//!
//! The new files are written in a directory of their own and moved into place when whole, the
//! system file last: its presence marks the migration done. The old file is then renamed
//! `kinerja.redb.layout1` and kept for the operator. Interrupted, the migration starts over
//! at the next start.

use super::shard::{Create, Shard};
use super::tables::{self, EachTable};
use super::{
    known_layout, region_file, Result, StoreError, LAYOUT1_FILE, REGIONS_DIR, REGION_CACHE_BYTES,
    SYSTEM_FILE,
};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, TableHandle};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// The name the old file is kept under once migrated.
pub const LAYOUT1_KEPT: &str = "kinerja.redb.layout1";

/// Where the new files are written before they are moved into place.
const STAGING_DIR: &str = ".migrating";

/// What a migration did.
#[derive(Debug, Default)]
pub struct Migrated {
    pub regions: Vec<String>,
    pub rows: u64,
    /// Rows of no region this version can place (a region id that is not a slug): logged and
    /// left in the kept old file.
    pub left: u64,
}

/// Migrates `data_dir` when it holds a file of layout 1 and no system file; finishes a
/// migration interrupted after its files were in place. `None` when there was nothing to do.
pub(crate) fn layout1_if_any(data_dir: &Path) -> Result<Option<Migrated>> {
    let old = data_dir.join(LAYOUT1_FILE);
    if !old.is_file() {
        return Ok(None);
    }
    if data_dir.join(SYSTEM_FILE).is_file() {
        keep_old(data_dir)?;
        return Ok(None);
    }
    let migrated = migrate(data_dir, &old)?;
    tracing::info!(
        regions = migrated.regions.len(),
        rows = migrated.rows,
        kept = LAYOUT1_KEPT,
        "migrated the data dir from layout 1 (one file) to layout 2 (a file per region)"
    );
    Ok(Some(migrated))
}

fn fault(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Fault(format!("{what} {}: {e}", path.display()))
}

fn keep_old(data_dir: &Path) -> Result<()> {
    let (old, kept) = (data_dir.join(LAYOUT1_FILE), data_dir.join(LAYOUT1_KEPT));
    std::fs::rename(&old, &kept).map_err(|e| fault("cannot rename", &old, e))
}

fn migrate(data_dir: &Path, old: &Path) -> Result<Migrated> {
    let db = redb::Builder::new()
        .create(old)
        .map_err(|e| super::shard::opening(old, e))?;
    // Every table there, so that the copy reads each (the reports of a version before their
    // index are indexed when the region files open).
    {
        let tx = db.begin_write()?;
        let found = tx
            .open_table(tables::META)?
            .get("layout")?
            .map(|v| v.value());
        known_layout(found, old)?;
        tables::each_table(&mut Create(&tx))?;
        tx.commit()?;
    }
    let staging = data_dir.join(STAGING_DIR);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| fault("cannot remove", &staging, e))?;
    }
    std::fs::create_dir_all(staging.join(REGIONS_DIR))
        .map_err(|e| fault("cannot create", &staging, e))?;

    let from = db.begin_read()?;
    let places = Places::read(&from)?;
    let mut files = Files::new(&staging)?;
    let mut copy = Copy {
        from: &from,
        places: &places,
        files: &mut files,
        migrated: Migrated::default(),
    };
    tables::each_table(&mut copy)?;
    let mut migrated = copy.migrated;
    migrated.regions = files.regions.keys().cloned().collect();
    files.commit()?;
    drop(from);
    drop(db);

    // In place: the regions' files, then the system file, which marks the migration done.
    for id in &migrated.regions {
        let (from, to) = (region_file(&staging, id), region_file(data_dir, id));
        std::fs::create_dir_all(data_dir.join(REGIONS_DIR))
            .map_err(|e| fault("cannot create", data_dir, e))?;
        std::fs::rename(&from, &to).map_err(|e| fault("cannot move", &from, e))?;
    }
    let system = staging.join(SYSTEM_FILE);
    std::fs::rename(&system, data_dir.join(SYSTEM_FILE))
        .map_err(|e| fault("cannot move", &system, e))?;
    std::fs::File::open(data_dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fault("cannot sync", data_dir, e))?;
    keep_old(data_dir)?;
    let _ = std::fs::remove_dir_all(&staging);
    Ok(migrated)
}

/// Where the rows whose keys do not name their region go, read from the old file first.
#[derive(Default)]
struct Places {
    /// Token id → its region (none: an admin's).
    tokens: HashMap<String, Option<String>>,
    /// Call key (`DECISION_CALLS`) → its region.
    calls: HashMap<String, String>,
    /// SHA-256 of call bytes (`INPUTS`, `OUTPUTS`) → the regions whose decisions refer to it.
    call_bytes: HashMap<String, BTreeSet<String>>,
    /// SHA-256 of an evidence file → the regions whose SKPs refer to it.
    evidence: HashMap<String, BTreeSet<String>>,
    /// Module id → the regions that uploaded it.
    modules: HashMap<String, BTreeSet<String>>,
    /// Every region with a row.
    regions: BTreeSet<String>,
}

/// The fields that place a row, of whichever of the tables it is (serde skips the others).
#[derive(Deserialize, Default)]
#[serde(default)]
struct Placing {
    region: Option<String>,
    call: Option<String>,
    input_sha256: Option<String>,
    output_sha256: Option<String>,
}

fn placing(row: &[u8]) -> Placing {
    serde_json::from_slice(row).unwrap_or_default()
}

/// The region of a key `region/…`.
fn first(key: &str) -> String {
    key.split('/').next().unwrap_or_default().to_string()
}

impl Places {
    fn read(tx: &ReadTransaction) -> Result<Places> {
        let mut p = Places::default();
        for row in tx.open_table(tables::REGIONS)?.iter()? {
            p.regions.insert(row?.0.value().to_string());
        }
        for row in tx.open_table(tables::TOKENS)?.iter()? {
            let (k, v) = row?;
            p.tokens
                .insert(k.value().to_string(), placing(v.value()).region);
        }
        for row in tx.open_table(tables::DECISION_CALLS)?.iter()? {
            let (k, v) = row?;
            let c = placing(v.value());
            if let Some(region) = c.region {
                p.refer(&c.input_sha256, &c.output_sha256, &region);
                p.calls.insert(k.value().to_string(), region);
            }
        }
        for row in tx.open_table(tables::DECISIONS)?.iter()? {
            let d = placing(row?.1.value());
            // A split row's hashes and region are its call's, placed above.
            if let (None, Some(region)) = (&d.call, &d.region) {
                p.refer(&d.input_sha256, &d.output_sha256, region);
            }
        }
        for row in tx.open_table(tables::SKPS)?.iter()? {
            let (k, v) = row?;
            let region = first(k.value());
            let mut shas = Vec::new();
            if let Ok(skp) = serde_json::from_slice::<serde_json::Value>(v.value()) {
                hashes_in(&skp, &mut shas);
            }
            for sha in shas {
                p.evidence.entry(sha).or_default().insert(region.clone());
            }
        }
        for row in tx.open_table(tables::PLUGIN_REGIONS)?.iter()? {
            let key = row?.0.value().to_string();
            if let Some((region, module)) = key.split_once('/') {
                p.modules
                    .entry(module.to_string())
                    .or_default()
                    .insert(region.to_string());
            }
        }
        Ok(p)
    }

    fn refer(&mut self, input: &Option<String>, output: &Option<String>, region: &str) {
        for sha in [input, output].into_iter().flatten() {
            self.call_bytes
                .entry(sha.clone())
                .or_default()
                .insert(region.to_string());
        }
    }

    /// Where a row of `table` goes.
    fn of(&self, table: &str, key: &[u8], value: &[u8]) -> Place {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let by_hash = |map: &HashMap<String, BTreeSet<String>>| match map.get(&text(key)) {
            Some(regions) => Place::Regions(regions.iter().cloned().collect()),
            // Referred to by nothing left: kept in every region rather than lost.
            None => Place::EveryRegion,
        };
        let region_or_system = |r: Option<String>| match r {
            Some(r) => Place::Regions(vec![r]),
            None => Place::System,
        };
        match table {
            "meta" => Place::Nowhere,
            "regions" => Place::SystemAnd(text(key)),
            "counters" => Place::Everywhere,
            "tokens" => region_or_system(placing(value).region),
            "token_by_hash" => region_or_system(self.tokens.get(&text(value)).cloned().flatten()),
            "token_regions" => Place::System,
            "audit" | "survey_codes" => region_or_system(placing(value).region),
            "activity_ids" | "session_expiry" => Place::Regions(vec![first(&text(value))]),
            "decisions" => {
                let d = placing(value);
                match d
                    .call
                    .as_ref()
                    .and_then(|c| self.calls.get(c))
                    .or(d.region.as_ref())
                {
                    Some(r) => Place::Regions(vec![r.clone()]),
                    // Unreadable: kept with every region's, where `audit verify` names it.
                    None => Place::EveryRegion,
                }
            }
            "decision_calls" => match placing(value).region {
                Some(r) => Place::Regions(vec![r]),
                None => Place::EveryRegion,
            },
            "inputs" | "outputs" => by_hash(&self.call_bytes),
            "evidence" => by_hash(&self.evidence),
            "plugins" | "plugin_bytes" => by_hash(&self.modules),
            // Every other key starts with its region.
            _ => Place::Regions(vec![first(&text(key))]),
        }
    }
}

/// Every 64-hex-digit string in `v` (the SHA-256s an SKP's evidence is kept under).
fn hashes_in(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s)
            if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            out.push(s.clone())
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| hashes_in(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| hashes_in(x, out)),
        _ => {}
    }
}

enum Place {
    Nowhere,
    System,
    /// The registry row of a region: the system file and the region's.
    SystemAnd(String),
    Regions(Vec<String>),
    EveryRegion,
    Everywhere,
}

/// The new files being written, each in one write transaction.
struct Files {
    staging: PathBuf,
    system: redb::WriteTransaction,
    regions: BTreeMap<String, redb::WriteTransaction>,
    /// Kept open until the transactions are committed.
    shards: Vec<std::sync::Arc<Shard>>,
}

impl Files {
    fn new(staging: &Path) -> Result<Files> {
        let system = Shard::open(&staging.join(SYSTEM_FILE), REGION_CACHE_BYTES)?;
        Ok(Files {
            staging: staging.to_path_buf(),
            system: system.db.begin_write()?,
            regions: BTreeMap::new(),
            shards: vec![system],
        })
    }

    /// Region `id`'s transaction, its file created on first use; `None` for an id that is not
    /// a region's.
    fn region(&mut self, id: &str) -> Result<Option<&redb::WriteTransaction>> {
        if crate::domain::region::validate_region_id(id).is_err() {
            return Ok(None);
        }
        if !self.regions.contains_key(id) {
            let shard = Shard::open(&region_file(&self.staging, id), REGION_CACHE_BYTES)?;
            self.regions.insert(id.to_string(), shard.db.begin_write()?);
            self.shards.push(shard);
        }
        Ok(self.regions.get(id))
    }

    fn commit(self) -> Result<()> {
        for (_, tx) in self.regions {
            tx.commit()?;
        }
        self.system.commit()?;
        drop(self.shards);
        Ok(())
    }
}

struct Copy<'a> {
    from: &'a ReadTransaction,
    places: &'a Places,
    files: &'a mut Files,
    migrated: Migrated,
}

impl EachTable for Copy<'_> {
    fn table<K: redb::Key + 'static, V: redb::Value + 'static>(
        &mut self,
        t: TableDefinition<'static, K, V>,
    ) -> Result<()> {
        let from = self.from.open_table(t)?;
        // Every region's file is made before the first table is copied, so that "every region"
        // means the same in each table.
        for r in &self.places.regions {
            self.files.region(r)?;
        }
        for row in from.iter()? {
            let (k, v) = row?;
            let (k, v) = (k.value(), v.value());
            let place =
                self.places
                    .of(t.name(), K::as_bytes(&k).as_ref(), V::as_bytes(&v).as_ref());
            let mut regions: Vec<String> = match &place {
                Place::Regions(r) => r.clone(),
                Place::SystemAnd(r) => vec![r.clone()],
                Place::EveryRegion | Place::Everywhere => {
                    self.files.regions.keys().cloned().collect()
                }
                Place::Nowhere | Place::System => Vec::new(),
            };
            regions.dedup();
            if matches!(
                place,
                Place::System | Place::SystemAnd(_) | Place::Everywhere
            ) {
                self.files.system.open_table(t)?.insert(&k, &v)?;
            }
            for r in regions {
                match self.files.region(&r)? {
                    Some(tx) => {
                        tx.open_table(t)?.insert(&k, &v)?;
                    }
                    None => {
                        tracing::warn!(table = t.name(), region = %r, "a row of no region; left in the old file");
                        self.migrated.left += 1;
                        continue;
                    }
                }
            }
            self.migrated.rows += 1;
        }
        if t.name() == tables::TOKEN_BY_HASH.name() {
            // Region tokens from before region files: their secrets do not name their region.
            let mut map = self.files.system.open_table(tables::TOKEN_REGIONS)?;
            for row in self.from.open_table(tables::TOKEN_BY_HASH)?.iter()? {
                let (hash, id) = row?;
                if let Some(Some(region)) = self.places.tokens.get(id.value()) {
                    map.insert(hash.value(), region.as_str())?;
                }
            }
        }
        Ok(())
    }
}
