//! `kinerja import`: daily activity reports in bulk, straight into the data dir's database.
//!
//! Agencies send a month of laporan harian for thousands of employees at once; through the API
//! that is thousands of requests, each its own fsync. The import reads a JSON Lines or CSV file,
//! checks every line with the same domain rules as `POST …/activities` (and that its region and
//! employee exist), and writes the whole file in one redb transaction, so it is all or nothing
//! even if the process dies half way.

use crate::domain::date::Date;
use crate::domain::nip::Nip;
use crate::domain::records::ActivityInput;
use crate::domain::validate_id;
use crate::store::{ActivityRow, RowError, Store, StoreError};
use clap::{Args, ValueEnum};
use serde::Deserialize;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What `kinerja import --help` shows after the options: the semantics a user relies on.
pub const AFTER_HELP: &str = "\
FILE FORMATS
  JSON Lines (.jsonl, .ndjson, .json): one object per line,
    {\"region\": \"jambi\", \"nip\": \"198503122010011001\", \"date\": \"2026-05-04\",
     \"description\": \"Menyusun laporan\", \"minutes\": 90}
    Blank lines are ignored.
  CSV (.csv): a header row naming the columns region, nip, date, description, minutes
    (any order; quote fields that contain commas or line breaks).
  `region` may be left out (or empty) when --region is given; a line naming another
  region than --region is an error. Use --format when the extension says nothing.

CHECKS
  Every line gets the same checks as POST /api/v1/regions/{region}/employees/{nip}/activities:
  a valid NIP, a real date between 2000-01-01 and a year from today, a description of
  1-4000 characters, minutes 1-1440, and a region and employee that exist. A day holds
  1440 minutes: a line that would take an employee's day past it (with the reports already
  stored and the file's earlier lines) is refused; with --skip-invalid the earlier lines win.

ALL OR NOTHING
  By default one bad line imports nothing: every bad line is reported on stderr as
  `line N: reason` (the first --max-errors of them) and the exit status is 1.
  With --skip-invalid the good lines are imported, the bad ones are reported and skipped,
  and the exit status is 0. Either way the file is written in one transaction: a crash or
  Ctrl-C during the import leaves the database exactly as it was.

THE SERVER
  The import writes the database directly, so no kinerja server may be running on the same
  data dir (the database is locked while a server runs); the import says so and stops.
  Imported reports get ids and timestamps exactly as reports sent through the API.

OUTPUT
  Progress on stderr (when it is a terminal); on success one JSON line on stdout:
  {\"imported\": N, \"skipped\": M, \"seconds\": S, \"records_per_second\": R}";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
}

/// The options of `kinerja import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// JSON Lines or CSV file of daily activity reports.
    pub file: PathBuf,
    /// Data dir of the server whose database receives the reports.
    #[arg(long, env = "KINERJA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Region of the lines that name none.
    #[arg(long)]
    pub region: Option<String>,
    /// File format; by default taken from the extension.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Import the valid lines and skip (and report) the invalid ones, instead of importing
    /// nothing when any line is invalid.
    #[arg(long)]
    pub skip_invalid: bool,
    /// How many bad lines to list; the count of bad lines is always complete.
    #[arg(long, default_value_t = 20)]
    pub max_errors: usize,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// One bad line and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub imported: u64,
    /// Bad lines skipped (with `--skip-invalid`), all counted.
    pub skipped: u64,
    /// The first `--max-errors` of them.
    pub errors: Vec<LineError>,
    pub elapsed: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot tell the format of {0}: name it .jsonl or .csv, or pass --format")]
    UnknownFormat(PathBuf),
    #[error("{0}")]
    Csv(String),
    #[error("{bad} invalid line(s); nothing was imported (fix them, or pass --skip-invalid)")]
    Invalid { bad: u64, errors: Vec<LineError> },
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// A line as written in the file; checked into an [`ActivityRow`] by [`check`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    #[serde(default)]
    region: Option<String>,
    nip: String,
    date: Date,
    description: String,
    minutes: u32,
}

/// The format from the flag or the extension.
pub fn detect(path: &Path, flag: Option<Format>) -> Result<Format, ImportError> {
    if let Some(f) = flag {
        return Ok(f);
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("jsonl" | "ndjson" | "json") => Ok(Format::Jsonl),
        Some("csv") => Ok(Format::Csv),
        _ => Err(ImportError::UnknownFormat(path.to_path_buf())),
    }
}

/// serde_json says "at line 1 column 7" of the one-line document; the file line is ours.
fn json_reason(e: &serde_json::Error) -> String {
    let s = e.to_string();
    match s.rfind(" at line ") {
        Some(i) => format!("{} (column {})", &s[..i], e.column()),
        None => s,
    }
}

/// The domain checks of one line, the same as the API's.
fn check(line: u64, raw: RawLine, region: Option<&str>) -> Result<ActivityRow, String> {
    let region = match (raw.region.filter(|r| !r.is_empty()), region) {
        (Some(r), Some(flag)) if r != flag => {
            return Err(format!("region `{r}` differs from --region `{flag}`"))
        }
        (Some(r), _) => r,
        (None, Some(flag)) => flag.to_string(),
        (None, None) => return Err("no region: add a `region` field or pass --region".into()),
    };
    validate_id("region", &region).map_err(|e| e.to_string())?;
    let nip = Nip::parse(&raw.nip).map_err(|m| format!("nip: {m}"))?;
    let input = ActivityInput {
        date: raw.date,
        description: raw.description,
        minutes: raw.minutes,
    };
    input.validate("report").map_err(|e| e.to_string())?;
    Ok(ActivityRow {
        line,
        region,
        nip: nip.as_str().to_string(),
        input,
    })
}

/// Rows are handed to the store in chunks of this many: large enough that the per-call cost
/// vanishes, small enough that a chunk is a few MB.
const CHUNK: usize = 10_000;

/// Collects bad lines: all counted, the first `max` kept.
struct Bad {
    count: u64,
    kept: Vec<LineError>,
    max: usize,
}

impl Bad {
    fn push(&mut self, line: u64, reason: String) {
        self.count += 1;
        if self.kept.len() < self.max {
            self.kept.push(LineError { line, reason });
        }
    }
}

/// Runs an import as the options say. Opens (and so locks) the database for its duration.
pub fn run(args: &ImportArgs) -> Result<Summary, ImportError> {
    let format = detect(&args.file, args.format)?;
    let file = std::fs::File::open(&args.file).map_err(|source| ImportError::Read {
        path: args.file.clone(),
        source,
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let store = Store::open(&args.data_dir)?;
    let started = Instant::now();
    let bar = progress_bar(size, args.quiet);
    let mut import = store.activity_import()?;
    let mut bad = Bad {
        count: 0,
        kept: Vec::new(),
        max: args.max_errors,
    };
    let mut chunk: Vec<ActivityRow> = Vec::with_capacity(CHUNK);
    let region = args.region.as_deref();
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut flush = |chunk: &mut Vec<ActivityRow>, bad: &mut Bad| -> Result<(), ImportError> {
        for RowError { line, reason } in import.add(std::mem::take(chunk))? {
            bad.push(line, reason);
        }
        chunk.reserve(CHUNK);
        Ok(())
    };
    // One line of either format, parsed (`Err`: why not) and then checked; `pos` is the byte
    // offset reached, for the progress bar.
    let mut accept = |line: u64,
                      raw: Result<RawLine, String>,
                      pos: u64,
                      chunk: &mut Vec<ActivityRow>,
                      bad: &mut Bad|
     -> Result<(), ImportError> {
        match raw.and_then(|raw| check(line, raw, region)) {
            Ok(r) => chunk.push(r),
            Err(reason) => bad.push(line, reason),
        }
        if chunk.len() >= CHUNK {
            flush(chunk, bad)?;
            bar.set_position(pos);
        }
        Ok(())
    };
    match format {
        Format::Jsonl => {
            let mut reader = reader;
            let mut buf = String::new();
            let mut line = 0u64;
            let mut pos = 0u64;
            loop {
                buf.clear();
                let n = reader
                    .read_line(&mut buf)
                    .map_err(|source| ImportError::Read {
                        path: args.file.clone(),
                        source,
                    })?;
                if n == 0 {
                    break;
                }
                line += 1;
                pos += n as u64;
                let text = buf.trim();
                if text.is_empty() {
                    continue;
                }
                let raw = serde_json::from_str::<RawLine>(text).map_err(|e| json_reason(&e));
                accept(line, raw, pos, &mut chunk, &mut bad)?;
            }
        }
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(true)
                .trim(csv::Trim::Headers)
                .from_reader(reader);
            let headers = rdr
                .headers()
                .map_err(|e| ImportError::Csv(format!("line 1: {e}")))?
                .clone();
            let mut record = csv::StringRecord::new();
            loop {
                match rdr.read_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {
                        let line = record.position().map(|p| p.line()).unwrap_or(0);
                        let raw = record
                            .deserialize::<RawLine>(Some(&headers))
                            .map_err(|e| csv_reason(&e));
                        let pos = record.position().map(|p| p.byte()).unwrap_or(0);
                        accept(line, raw, pos, &mut chunk, &mut bad)?;
                    }
                    Err(e) => {
                        // A broken quote or a wrong field count: the rest of the file cannot
                        // be trusted to line up, so stop here.
                        let line = e.position().map(|p| p.line()).unwrap_or(0);
                        bad.push(line, csv_reason(&e));
                        if !args.skip_invalid {
                            break;
                        }
                    }
                }
            }
        }
    }
    flush(&mut chunk, &mut bad)?;
    bar.finish_and_clear();
    if bad.count > 0 && !args.skip_invalid {
        import.abort()?;
        return Err(ImportError::Invalid {
            bad: bad.count,
            errors: bad.kept,
        });
    }
    let imported = import.commit()?;
    Ok(Summary {
        imported,
        skipped: bad.count,
        errors: bad.kept,
        elapsed: started.elapsed(),
    })
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(i) => format!("field {}: {}", i + 1, err.kind()),
            None => err.kind().to_string(),
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        _ => e.to_string(),
    }
}

fn progress_bar(size: u64, quiet: bool) -> indicatif::ProgressBar {
    crate::progress::bar(
        size,
        quiet,
        "{spinner} importing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})",
    )
}
