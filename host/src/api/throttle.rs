//! Throttling of failed authentication per client address. A client that keeps presenting
//! credentials that do not work — a program guessing, or one left running with a revoked token —
//! is answered 429 with `Retry-After` once it has failed `limit` times in a `window`, until the
//! window after that ends. Only failures are refused: a working credential from the same address
//! (a colleague behind the same NAT as the guesser) still works, so one client cannot lock
//! others out. Bearer tokens carry 256 random bits and cannot be guessed anyway; this is the
//! part the password sign-in will share, where guessing is the real threat, and for tokens it
//! turns a flood into a few answers a minute and one warning in the log.
//!
//! The password sign-in uses the same counter twice, keyed by client address and by the NIP
//! tried, and there refuses every attempt (not only failures) while a key is over its limit:
//! a correct password accepted during the refusal would let a guesser go on guessing.
//!
//! No I/O and no axum: the caller says who failed and when, and asks whether to refuse.

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::limits::THROTTLE_MAX_ADDRESSES as MAX_ADDRESSES;

/// What is known of one address's recent failures.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// When the current window began (its first failure).
    since: Instant,
    failures: u32,
    /// Set once the address went over the limit: refused until then.
    blocked_until: Option<Instant>,
}

/// Failed authentications per key, by default a client address (see the module
/// documentation).
#[derive(Debug)]
pub struct AuthThrottle<K = IpAddr> {
    limit: u32,
    window: Duration,
    entries: Mutex<HashMap<K, Entry>>,
}

/// An address over its limit: refuse, and tell the client to come back after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    pub retry_after: Duration,
}

impl Refused {
    /// Whole seconds for a `Retry-After` header, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// The key of an address: IPv4 as it is (also when mapped into IPv6), IPv6 by its /64, the
/// block one subscriber normally holds whole and could walk through address by address.
pub fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

impl<K: Eq + Hash + Clone + Display> AuthThrottle<K> {
    /// `limit` failures per `window` per key; a limit of 0 turns throttling off.
    pub fn new(limit: u32, window: Duration) -> AuthThrottle<K> {
        AuthThrottle {
            limit,
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` is being refused at `now`, without recording anything.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Refused> {
        if self.limit == 0 {
            return Ok(());
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key).and_then(|e| e.blocked_until) {
            Some(until) if until > now => Err(Refused {
                retry_after: until - now,
            }),
            _ => Ok(()),
        }
    }

    /// Records a failed authentication of `key` at `now`: `Ok` with the failures in the
    /// current window (this one included), `Err` when the key is now over its limit: the
    /// caller answers 429 instead of 401.
    pub fn failed(&self, key: K, now: Instant) -> Result<u32, Refused> {
        if self.limit == 0 {
            return Ok(0);
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if !entries.contains_key(&key) && entries.len() >= MAX_ADDRESSES {
            self.forget_old(&mut entries, now);
        }
        let fresh = Entry {
            since: now,
            failures: 0,
            blocked_until: None,
        };
        let e = entries.entry(key.clone()).or_insert(fresh);
        let expired = match e.blocked_until {
            Some(until) => until <= now,
            None => now.duration_since(e.since) >= self.window,
        };
        if expired {
            *e = fresh;
        }
        if let Some(until) = e.blocked_until {
            return Err(Refused {
                retry_after: until - now,
            });
        }
        e.failures += 1;
        if e.failures <= self.limit {
            return Ok(e.failures);
        }
        // Refused for a whole window from now: the next `limit` tries come a window later.
        let until = now + self.window;
        e.blocked_until = Some(until);
        tracing::warn!(
            client = %key,
            failures = e.failures,
            seconds = self.window.as_secs(),
            "too many failed authentications; refusing further attempts"
        );
        Err(Refused {
            retry_after: until - now,
        })
    }

    /// Takes back one failure of `key`: an attempt counted before its outcome was known (a
    /// password being checked) that then succeeded.
    pub fn refund(&self, key: &K) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = entries.get_mut(key) {
            if e.blocked_until.is_none() {
                e.failures = e.failures.saturating_sub(1);
            }
        }
    }

    /// Forgets `key`'s failures (a correct password for that NIP).
    pub fn succeeded(&self, key: &K) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(key);
    }

    /// Drops the entries that no longer matter, and if that is not enough, the oldest.
    fn forget_old(&self, entries: &mut HashMap<K, Entry>, now: Instant) {
        let window = self.window;
        entries.retain(|_, e| match e.blocked_until {
            Some(until) => until > now,
            None => now.duration_since(e.since) < window,
        });
        while entries.len() >= MAX_ADDRESSES {
            let oldest = entries
                .iter()
                .min_by_key(|(_, e)| e.since)
                .map(|(k, _)| k.clone());
            match oldest {
                Some(k) => entries.remove(&k),
                None => break,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        client_key(s.parse().unwrap())
    }

    #[test]
    fn over_the_limit_is_refused_for_a_window_then_forgiven() {
        let t = AuthThrottle::new(3, Duration::from_secs(60));
        let now = Instant::now();
        let a = ip("203.0.113.7");
        for i in 0..3 {
            assert!(t.failed(a, now + Duration::from_secs(i)).is_ok(), "{i}");
        }
        assert!(t.check(&a, now).is_ok(), "not yet over");
        let r = t.failed(a, now + Duration::from_secs(3)).unwrap_err();
        assert_eq!(r.retry_after_secs(), 60);
        assert!(t.check(&a, now + Duration::from_secs(4)).is_err());
        let r = t.failed(a, now + Duration::from_secs(33)).unwrap_err();
        assert_eq!(
            r.retry_after_secs(),
            30,
            "failing while refused does not extend it"
        );
        // Another address is not touched.
        assert!(t.failed(ip("203.0.113.8"), now).is_ok());
        // After the block the address starts over.
        let later = now + Duration::from_secs(64);
        assert!(t.check(&a, later).is_ok());
        assert!(t.failed(a, later).is_ok());
    }

    #[test]
    fn failures_spread_over_windows_are_not_summed() {
        let t = AuthThrottle::new(2, Duration::from_secs(10));
        let now = Instant::now();
        let a = ip("198.51.100.1");
        for w in 0..5 {
            let start = now + Duration::from_secs(11 * w);
            assert!(t.failed(a, start).is_ok());
            assert!(t.failed(a, start + Duration::from_secs(1)).is_ok());
        }
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        let t = AuthThrottle::new(1, Duration::from_secs(60));
        let now = Instant::now();
        assert!(t.failed(ip("2001:db8:1:2::1"), now).is_ok());
        assert!(t.failed(ip("2001:db8:1:2::ffff"), now).is_err(), "same /64");
        assert!(t.failed(ip("2001:db8:1:3::1"), now).is_ok(), "another /64");
        assert!(t.failed(ip("192.0.2.1"), now).is_ok());
        assert!(
            t.failed(ip("::ffff:192.0.2.1"), now).is_err(),
            "the same IPv4"
        );
    }

    #[test]
    fn a_limit_of_zero_is_off() {
        let t = AuthThrottle::new(0, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..1000 {
            assert!(t.failed(ip("192.0.2.1"), now).is_ok());
        }
    }

    #[test]
    fn the_map_stays_bounded() {
        let t = AuthThrottle::new(5, Duration::from_secs(60));
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            let _ = t.failed(
                client_key(IpAddr::from(i.to_be_bytes())),
                now + Duration::from_millis(i as u64),
            );
        }
        let n = t.entries.lock().unwrap().len();
        assert!(n <= MAX_ADDRESSES, "{n}");
    }
}
