//! The server's own soft limits, in one place: what a client may ask for in one request and
//! what the server keeps of it. Each says why it is what it is. The plugin sandbox's limits
//! (fuel, wall time, memory, module cost) are `kinerja_runtime::Limits`, and those an operator
//! tunes (body size, timeouts, slots, connections) are flags of `crate::config::Config`.

use std::time::Duration;

/// NIPs one evaluation may name: a whole large region's worth, so one request can appraise any
/// region, and no more.
pub const MAX_NAMED_NIPS: usize = 100_000;

/// Employees an appraisal reads on the request's own thread (one read transaction, one lookup
/// each); naming more takes the hop to a blocking thread. An agency's form names one, and the
/// hop costs more than sixteen lookups.
pub const READ_NOW_MAX_NIPS: usize = 16;

/// Daily activity reports one request may add: a month of a whole agency's reports fits, and a
/// request stays well inside the body limit and one commit.
pub const MAX_ACTIVITIES: usize = 10_000;

/// Items of a list page when the client does not say.
pub const PAGE_DEFAULT: usize = 100;

/// The most items of a list page: a page is built in memory and answered whole.
pub const PAGE_MAX: usize = 1000;

/// Characters of a plugin's log (stderr) kept with a decision and shown: the runtime's own
/// stderr limit, so nothing a call may write is cut, and a bound on every decision row.
pub const LOG_CHARS: usize = 64 * 1024;

/// Small appraisals of one caller that may wait to share a plugin call, per batch size (and at
/// least [`WAITING_MIN`]): a caller far ahead of the plugin gets 503 at once instead of queueing
/// without bound.
pub const WAITING_PER_BATCH: usize = 4;

/// See [`WAITING_PER_BATCH`].
pub const WAITING_MIN: usize = 64;

/// Employees the activation preflight runs the candidate on: enough to meet the region's common
/// data shapes, few enough that an activation stays a fraction of a second.
pub const PREFLIGHT_SAMPLE: usize = 16;

/// The most of an unread request body read and thrown away before answering, so the client
/// reads the answer instead of a reset connection; past it, or past [`DRAIN_MAX_TIME`], the
/// connection is closed.
pub const DRAIN_MAX_BYTES: usize = 8 * 1024 * 1024;

/// See [`DRAIN_MAX_BYTES`].
pub const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// The most of a non-JSON error body (from the HTTP layer) carried over as the message.
pub const PLAIN_ERROR_MAX_BYTES: usize = 4096;

/// How often a token's `last_used` is written at most: a write per request would turn every
/// read into a disk commit.
pub const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Client addresses the authentication throttle remembers at once; past it the ones whose
/// window began earliest are forgotten first, so a spray from very many addresses cannot grow
/// the map without bound.
pub const THROTTLE_MAX_ADDRESSES: usize = 65_536;

/// Distinct tokens the authentication cache tracks; beyond it the cache starts over. A server
/// has a few dozen tokens, so this only bounds memory against a flood of valid ones.
pub const AUTH_CACHE_MAX_ENTRIES: usize = 4096;

/// Open files kept free of connections (for the database, the plugin cache and logs) when the
/// connection cap is fitted under the open-files limit.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// How many times the per-NIP sign-in failure limit one client address may fail: an office
/// behind one NAT signs in as many people, a guesser walking NIPs from one address does not
/// get a fresh allowance per NIP.
pub const SIGN_IN_ADDRESS_FACTOR: u32 = 10;

/// Added to the answer of each failed sign-in from half the limit on, per failure over it:
/// a person mistyping waits a moment, a program guessing gets a few tries a minute.
pub const SIGN_IN_SLOWDOWN_STEP: Duration = Duration::from_secs(1);

/// The longest a failed sign-in's answer is held back.
pub const SIGN_IN_SLOWDOWN_MAX: Duration = Duration::from_secs(5);

/// How long a sign-in or password change waits for a hashing slot (one per core; each hash
/// takes ~20 ms and 19 MiB) before it is answered 503.
pub const HASH_WAIT: Duration = Duration::from_secs(10);

/// How often expired sessions are purged, and how many one purge removes at most (one
/// transaction).
pub const SESSION_PURGE_EVERY: Duration = Duration::from_secs(300);

/// See [`SESSION_PURGE_EVERY`].
pub const SESSION_PURGE_MAX: usize = 10_000;
