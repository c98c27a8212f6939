//! `kinerja audit verify`: replay many stored decisions and report every one that no longer
//! agrees with its module and its stored bytes.
//!
//! One plugin call produced a whole batch of decisions from one request, so decisions are
//! grouped by call and each call is replayed once; calls run on all cores. The server must be
//! stopped (redb locks the database files), as for `kinerja import`.

use crate::config::Config;
use crate::domain::date::Date;
use crate::policy::replay::{self, ReplayError, Verdict};
use crate::policy::Policy;
use crate::store::{Decision, Store, StoreError, LAYOUT1_FILE, REGIONS_DIR, SYSTEM_FILE};
use clap::Args;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The options of `kinerja audit verify`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Data dir of the server whose decisions are verified.
    #[arg(long, env = "KINERJA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Only this region's decisions.
    #[arg(long)]
    pub region: Option<String>,
    /// Only decisions made on or after this date (YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<String>,
    /// Calls replayed at once; by default one per core.
    #[arg(long)]
    pub jobs: Option<usize>,
    /// How many mismatching decisions to list; the count is always complete.
    #[arg(long, default_value_t = 20)]
    pub max_mismatches: usize,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("--since: {0}")]
    Since(String),
    #[error("no database at {0}: give the data dir of a server with --data-dir")]
    NoDatabase(PathBuf),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    Replay(#[from] ReplayError),
}

/// What a verification found.
#[derive(Debug)]
pub struct Report {
    pub decisions: usize,
    pub calls: usize,
    pub identical: usize,
    pub mismatched: usize,
    /// The first `--max-mismatches` mismatching verdicts, in decision order.
    pub mismatches: Vec<Verdict>,
    pub elapsed: Duration,
}

/// Runs a verification as the options say. Opens (and so locks) the database meanwhile.
pub fn run(args: &VerifyArgs) -> Result<Report, VerifyError> {
    let since = match &args.since {
        Some(s) => Some(
            s.parse::<Date>()
                .map_err(|e| VerifyError::Since(e.to_string()))?
                .to_string(),
        ),
        None => None,
    };
    let started = Instant::now();
    // Opening creates an empty database; a mistyped data dir must fail, not verify nothing.
    // A data dir may be one region's file alone (restored from its backup).
    let db = args.data_dir.join(SYSTEM_FILE);
    let any = [SYSTEM_FILE, LAYOUT1_FILE, REGIONS_DIR]
        .iter()
        .any(|f| args.data_dir.join(f).exists());
    if !any {
        return Err(VerifyError::NoDatabase(db));
    }
    let store = Arc::new(Store::open(&args.data_dir)?);
    let mut config = Config::for_data_dir(&args.data_dir);
    // Verifying replays every decision, also those of a module that ran into its limits:
    // none of its calls may be refused for a pause.
    config.plugin_pause_after = 0;
    let policy = Policy::for_store(Arc::clone(&store), &config)
        .map_err(|e| VerifyError::Runtime(e.to_string()))?;
    let (decisions, unreadable) =
        store.decisions_since(args.region.as_deref(), since.as_deref())?;

    // Group by call, keeping the first decision's order so the report reads like the log.
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    let mut calls: Vec<Vec<Decision>> = Vec::new();
    let total = decisions.len() + unreadable.len();
    for d in decisions {
        let key = (d.region.clone(), d.plugin.clone(), d.input_sha256.clone());
        let i = *index.entry(key).or_insert_with(|| {
            calls.push(Vec::new());
            calls.len() - 1
        });
        calls[i].push(d);
    }

    let bar = progress_bar(total as u64, args.quiet);
    // Nothing to replay for the unreadable ones: they are done (and failing) already.
    bar.inc(unreadable.len() as u64);
    // More replays at once than the runtime has slots would fail as busy.
    let jobs = args
        .jobs
        .unwrap_or_else(crate::config::cores)
        .clamp(1, config.plugin_max_in_flight.max(1));
    let next = AtomicUsize::new(0);
    let verdicts: Mutex<Vec<(usize, Vec<Verdict>)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<ReplayError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(calls.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(group) = calls.get(i) else { break };
                match replay::verify_call(&store, &policy.runtime, group) {
                    Ok(v) => {
                        bar.inc(group.len() as u64);
                        if let Ok(mut all) = verdicts.lock() {
                            all.push((i, v));
                        }
                    }
                    Err(e) => {
                        if let Ok(mut f) = failure.lock() {
                            f.get_or_insert(e);
                        }
                        break;
                    }
                }
            });
        }
    });
    bar.finish_and_clear();
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e.into());
    }
    let mut all = verdicts.into_inner().unwrap_or_default();
    all.sort_by_key(|(i, _)| *i);
    let mut failing: Vec<Verdict> = unreadable
        .iter()
        .map(|u| replay::unreadable(&u.id, &u.reason))
        .collect();
    let mut report = Report {
        decisions: total,
        calls: calls.len(),
        identical: 0,
        mismatched: 0,
        mismatches: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for v in all.into_iter().flat_map(|(_, v)| v) {
        if v.identical {
            report.identical += 1;
        } else {
            failing.push(v);
        }
    }
    // Ids are a region and a zero-padded number: their order is each region's decisions' order.
    failing.sort_by(|a, b| a.decision_id.cmp(&b.decision_id));
    report.mismatched = failing.len();
    failing.truncate(args.max_mismatches);
    report.mismatches = failing;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn progress_bar(total: u64, quiet: bool) -> indicatif::ProgressBar {
    crate::progress::bar(
        total,
        quiet,
        "{spinner} verifying [{bar:40}] {pos}/{len} decisions ({per_sec}, eta {eta})",
    )
}
