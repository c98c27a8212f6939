//! Who may run a plugin call now: the call slots shared fairly between
//! tenants (the host's regions), and the pause of a module that keeps running
//! into its time limits.
//!
//! **Fair share.** The runtime has `max_in_flight` slots. A tenant counts as
//! active while it has calls running or waiting, or called within
//! [`ACTIVE_WINDOW`]; each active tenant's share is the slots divided by the
//! active tenants. A tenant under its share takes any free slot (and waits a
//! little for one if a tenant over its share holds them all); a tenant at or
//! over its share takes a free slot only if enough stay free for every other
//! active tenant to reach its share, and is refused ([`CallError::Busy`])
//! otherwise. So a region that floods the runtime with slow calls can use the
//! slots nobody else wants, but never the ones another region needs. A lone
//! tenant over capacity fails fast, as it always did: waiting would only queue
//! work behind itself.
//!
//! **Pause.** A module that ran into its fuel or wall-time limit on
//! `pause_after` calls in a row for a tenant is paused for that tenant: its
//! calls there are refused at once ([`CallError::Paused`]) for `pause_for`
//! (doubling on each pause in a row, up to [`MAX_PAUSE`]), so a looping plugin
//! stops burning the cores the other regions run on. After the pause one call
//! goes through as a probe while the others are still refused; any outcome but
//! another time limit ends the streak, another time limit pauses it again.
//! Activating a plugin resets the tenant ([`Slots::resume`]).

/// How long a caller is told to wait while a paused module's probe call runs.
const PROBE_RETRY: Duration = Duration::from_secs(1);

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::{CallError, LimitKind};

/// How long after its last call a tenant still counts as active, so that a
/// region making one call at a time keeps its share between calls.
pub const ACTIVE_WINDOW: Duration = Duration::from_secs(10);

/// The longest a module is paused for, however many pauses in a row.
pub const MAX_PAUSE: Duration = Duration::from_secs(600);

/// How a call ended, as far as the pause is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Ran into the fuel or the wall-time limit.
    TimeLimit,
    /// Anything else: the streak ends.
    Other,
}

impl Outcome {
    pub(crate) fn of(result: &Result<crate::CallOutput, CallError>) -> Outcome {
        match result.as_ref().err().and_then(CallError::limit) {
            Some(LimitKind::Fuel | LimitKind::WallTime) => Outcome::TimeLimit,
            _ => Outcome::Other,
        }
    }
}

#[derive(Debug, Default)]
struct Tenant {
    running: usize,
    waiting: usize,
    last: Option<Instant>,
}

impl Tenant {
    fn active(&self, now: Instant) -> bool {
        self.running > 0
            || self.waiting > 0
            || self
                .last
                .is_some_and(|t| now.saturating_duration_since(t) < ACTIVE_WINDOW)
    }
}

/// Whether a module is paused for a tenant.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Pause {
    /// Its calls go through.
    #[default]
    No,
    /// Its calls are refused until then; the first call after it is the probe.
    Until(Instant),
    /// The probe is running; the others are still refused.
    Probing,
}

/// A module's run of time-limit failures for one tenant.
#[derive(Debug, Default)]
struct Streak {
    hits: u32,
    pauses: u32,
    pause: Pause,
}

#[derive(Debug, Default)]
struct State {
    running: usize,
    tenants: HashMap<String, Tenant>,
    /// Keyed by (tenant, module id).
    streaks: HashMap<(String, String), Streak>,
}

impl State {
    /// Tenants idle for longer than the window are forgotten, so the map holds only
    /// the active ones.
    fn prune(&mut self, now: Instant) {
        self.tenants.retain(|_, t| t.active(now));
    }

    /// The share of each active tenant, and the slots the tenants other than
    /// `me` still need to reach theirs.
    fn share_and_reserved(&self, me: &str, max: usize, now: Instant) -> (usize, usize) {
        let active = self
            .tenants
            .values()
            .filter(|t| t.active(now))
            .count()
            .max(1);
        let share = (max / active).max(1);
        let reserved = self
            .tenants
            .iter()
            .filter(|(name, t)| name.as_str() != me && t.active(now))
            .map(|(_, t)| share.saturating_sub(t.running))
            .sum();
        (share, reserved)
    }
}

/// The slots and the pauses. One per runtime.
#[derive(Debug)]
pub(crate) struct Slots {
    max: usize,
    /// How long a tenant under its share may wait for a slot held over another's share:
    /// about one call's wall-time limit, after which such a slot is free again.
    max_wait: Duration,
    pause_after: u32,
    pause_for: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

/// A taken slot, given back on drop (also when a call panics).
pub(crate) struct Slot<'a> {
    slots: &'a Slots,
    tenant: String,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.slots.lock();
        state.running = state.running.saturating_sub(1);
        if let Some(t) = state.tenants.get_mut(&self.tenant) {
            t.running = t.running.saturating_sub(1);
            t.last = Some(Instant::now());
        }
        drop(state);
        self.slots.freed.notify_all();
    }
}

impl Slots {
    pub(crate) fn new(
        max: usize,
        max_wait: Duration,
        pause_after: u32,
        pause_for: Duration,
    ) -> Slots {
        Slots {
            max,
            max_wait,
            pause_after,
            pause_for,
            state: Mutex::default(),
            freed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls running now, all tenants together.
    pub(crate) fn running(&self) -> usize {
        self.lock().running
    }

    /// A slot for a call of `module` by `tenant`, or why not: the module is paused for the
    /// tenant, or the tenant has no slot it may take.
    pub(crate) fn acquire(&self, tenant: &str, module: &str) -> Result<Slot<'_>, CallError> {
        let mut state = self.lock();
        let now = Instant::now();
        let probe = self.check_pause(&mut state, tenant, module, now)?;
        // A probe that finds no slot is not a probe: the next call is.
        let unprobe = |state: &mut State| {
            if probe {
                let key = (tenant.to_owned(), module.to_owned());
                if let Some(s) = state.streaks.get_mut(&key) {
                    s.pause = Pause::Until(Instant::now());
                }
            }
        };
        state.prune(now);
        state.tenants.entry(tenant.to_owned()).or_default().last = Some(now);
        let deadline = now + self.max_wait;
        loop {
            let now = Instant::now();
            let (share, reserved) = state.share_and_reserved(tenant, self.max, now);
            let mine = state.tenants.get(tenant).map_or(0, |t| t.running);
            let free = self.max.saturating_sub(state.running);
            let under_share = mine < share;
            if free > 0 && (under_share || free > reserved) {
                state.running += 1;
                let t = state.tenants.entry(tenant.to_owned()).or_default();
                t.running += 1;
                t.last = Some(now);
                return Ok(Slot {
                    slots: self,
                    tenant: tenant.to_owned(),
                });
            }
            // Only a tenant under its share waits: its slot is held by a tenant over its
            // share, and comes free within about one call. Anyone else would queue behind
            // its own calls.
            if !under_share || now >= deadline {
                unprobe(&mut state);
                return Err(CallError::Busy);
            }
            if let Some(t) = state.tenants.get_mut(tenant) {
                t.waiting += 1;
            }
            let (next, _) = self
                .freed
                .wait_timeout(state, deadline.saturating_duration_since(now))
                .unwrap_or_else(PoisonError::into_inner);
            state = next;
            if let Some(t) = state.tenants.get_mut(tenant) {
                t.waiting = t.waiting.saturating_sub(1);
            }
        }
    }

    /// Refuses a call of a paused module; answers whether the call is the probe of a pause
    /// that has run out.
    fn check_pause(
        &self,
        state: &mut State,
        tenant: &str,
        module: &str,
        now: Instant,
    ) -> Result<bool, CallError> {
        let key = (tenant.to_owned(), module.to_owned());
        let Some(streak) = state.streaks.get_mut(&key) else {
            return Ok(false);
        };
        let paused = |retry_after: Duration| CallError::Paused {
            plugin: module.to_owned(),
            tenant: tenant.to_owned(),
            hits: streak.hits,
            retry_after,
        };
        match streak.pause {
            Pause::Until(until) if until > now => Err(paused(until - now)),
            Pause::Until(_) => {
                streak.pause = Pause::Probing;
                Ok(true)
            }
            Pause::Probing => Err(paused(PROBE_RETRY)),
            Pause::No => Ok(false),
        }
    }

    /// Counts how a call of `module` by `tenant` ended, pausing the module after
    /// `pause_after` time limits in a row.
    pub(crate) fn record(&self, tenant: &str, module: &str, outcome: Outcome) {
        if self.pause_after == 0 {
            return;
        }
        let mut state = self.lock();
        let key = (tenant.to_owned(), module.to_owned());
        if outcome == Outcome::Other {
            // A call that started before a pause does not end it; the probe does.
            let paused = state
                .streaks
                .get(&key)
                .is_some_and(|s| matches!(s.pause, Pause::Until(_)));
            if !paused {
                state.streaks.remove(&key);
            }
            return;
        }
        let streak = state.streaks.entry(key).or_default();
        streak.hits += 1;
        let pause_now = match streak.pause {
            Pause::Probing => true,
            Pause::Until(_) => false,
            Pause::No => streak.hits >= self.pause_after,
        };
        if pause_now {
            let pause = self
                .pause_for
                .saturating_mul(1 << streak.pauses.min(16))
                .min(MAX_PAUSE.max(self.pause_for));
            streak.pauses += 1;
            streak.pause = Pause::Until(Instant::now() + pause);
            tracing::warn!(
                tenant,
                plugin = module,
                hits = streak.hits,
                pause_s = pause.as_secs_f64(),
                "plugin paused: it keeps running into its time limits"
            );
        }
    }

    /// Ends every pause of `tenant`'s modules (a plugin was activated).
    pub(crate) fn resume(&self, tenant: &str) {
        self.lock().streaks.retain(|(t, _), _| t != tenant);
    }

    /// Ends the pause of one module for `tenant` (it is about to be tried for activation).
    pub(crate) fn resume_module(&self, tenant: &str, module: &str) {
        self.lock()
            .streaks
            .remove(&(tenant.to_owned(), module.to_owned()));
    }

    /// Modules paused now, as (tenant, module) pairs.
    pub(crate) fn paused(&self) -> Vec<(String, String)> {
        let now = Instant::now();
        self.lock()
            .streaks
            .iter()
            .filter(|(_, s)| match s.pause {
                Pause::Until(u) => u > now,
                Pause::Probing => true,
                Pause::No => false,
            })
            .map(|(k, _)| k.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(max: usize) -> Slots {
        Slots::new(max, Duration::from_millis(50), 3, Duration::from_secs(30))
    }

    #[test]
    fn a_lone_tenant_uses_every_slot_then_is_refused() {
        let s = slots(4);
        let held: Vec<_> = (0..4).map(|_| s.acquire("jambi", "m").unwrap()).collect();
        assert!(matches!(s.acquire("jambi", "m"), Err(CallError::Busy)));
        drop(held);
        assert_eq!(s.running(), 0);
    }

    #[test]
    fn a_tenant_over_its_share_leaves_the_others_theirs() {
        let s = slots(4);
        let _jakarta = s.acquire("jakarta", "m").unwrap();
        // Jakarta is active: Jambi's share is 2, and it may borrow only what Jakarta does
        // not need to reach its own 2.
        let jambi: Vec<_> = (0..2).map(|_| s.acquire("jambi", "m").unwrap()).collect();
        assert!(matches!(s.acquire("jambi", "m"), Err(CallError::Busy)));
        // Jakarta still gets its second slot at once.
        let _second = s.acquire("jakarta", "m").unwrap();
        drop(jambi);
    }

    #[test]
    fn a_tenant_under_its_share_waits_for_a_borrowed_slot() {
        let s = std::sync::Arc::new(slots(2));
        let a = s.acquire("jambi", "m").unwrap();
        let b = s.acquire("jambi", "m").unwrap();
        let s2 = std::sync::Arc::clone(&s);
        let waiter = std::thread::spawn(move || s2.acquire("jakarta", "m").map(|_| ()).is_ok());
        std::thread::sleep(Duration::from_millis(10));
        drop(a);
        assert!(
            waiter.join().unwrap(),
            "the freed slot goes to the waiting tenant"
        );
        drop(b);
    }

    #[test]
    fn time_limits_in_a_row_pause_the_module_for_that_tenant_only() {
        let s = slots(4);
        for _ in 0..3 {
            drop(s.acquire("jambi", "loop").unwrap());
            s.record("jambi", "loop", Outcome::TimeLimit);
        }
        match s.acquire("jambi", "loop") {
            Err(CallError::Paused {
                hits: 3,
                retry_after,
                ..
            }) => {
                assert!(retry_after <= Duration::from_secs(30))
            }
            other => panic!("expected a pause, got {:?}", other.map(|_| ())),
        }
        assert!(
            s.acquire("jakarta", "loop").is_ok(),
            "other tenants are not paused"
        );
        assert!(
            s.acquire("jambi", "other").is_ok(),
            "other modules are not paused"
        );
        assert_eq!(s.paused(), vec![("jambi".to_string(), "loop".to_string())]);
        s.resume("jambi");
        assert!(s.acquire("jambi", "loop").is_ok(), "activation resumes");
    }

    #[test]
    fn after_a_pause_one_probe_goes_through_and_decides() {
        let s = Slots::new(4, Duration::from_millis(50), 1, Duration::from_millis(1));
        s.record("jambi", "m", Outcome::TimeLimit);
        std::thread::sleep(Duration::from_millis(5));
        let probe = s.acquire("jambi", "m").expect("the probe");
        assert!(
            matches!(s.acquire("jambi", "m"), Err(CallError::Paused { .. })),
            "the others wait for the probe"
        );
        // The probe runs into its limit again: paused again, for longer.
        drop(probe);
        s.record("jambi", "m", Outcome::TimeLimit);
        assert!(matches!(
            s.acquire("jambi", "m"),
            Err(CallError::Paused { .. })
        ));
        std::thread::sleep(Duration::from_millis(5));
        let probe = s.acquire("jambi", "m").expect("the next probe");
        drop(probe);
        s.record("jambi", "m", Outcome::Other);
        assert!(
            s.acquire("jambi", "m").is_ok(),
            "a good probe ends the pause"
        );
    }

    #[test]
    fn a_call_from_before_the_pause_does_not_end_it() {
        let s = slots(4);
        for _ in 0..3 {
            s.record("jambi", "m", Outcome::TimeLimit);
        }
        s.record("jambi", "m", Outcome::Other);
        assert!(matches!(
            s.acquire("jambi", "m"),
            Err(CallError::Paused { .. })
        ));
    }

    #[test]
    fn any_other_outcome_ends_the_streak() {
        let s = slots(4);
        for _ in 0..2 {
            s.record("jambi", "m", Outcome::TimeLimit);
        }
        s.record("jambi", "m", Outcome::Other);
        s.record("jambi", "m", Outcome::TimeLimit);
        assert!(s.acquire("jambi", "m").is_ok());
    }
}
