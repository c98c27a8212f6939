//! Tokens already checked against the database, by the SHA-256 of their secret, so that a
//! request's authentication needs no read transaction and no hop to a blocking thread (each
//! hop is a wake-up on both sides, which costs more than the lookup).
//!
//! Only this process writes the database (redb locks the file), so the cache can be kept exact:
//! a revoke clears it under the same lock that guards inserts, and an insert is refused when a
//! revoke happened after its database read began. Without that check a read that started
//! before the revoke could put the revoked token back.

use super::tokens::TokenRecord;
use std::collections::HashMap;
use std::sync::Mutex;

use crate::limits::AUTH_CACHE_MAX_ENTRIES as MAX_ENTRIES;

#[derive(Default)]
pub(super) struct AuthCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every revoke.
    generation: u64,
    by_hash: HashMap<String, TokenRecord>,
}

impl AuthCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a map that is still consistent: at worst an
        // entry is missing.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn get(&self, hash: &str) -> Option<TokenRecord> {
        self.lock().by_hash.get(hash).cloned()
    }

    /// The generation to hand back to [`AuthCache::insert`]; take it before the read.
    pub(super) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps a token read from the database, unless a revoke happened since `generation`.
    pub(super) fn insert(&self, generation: u64, hash: String, token: TokenRecord) {
        let mut g = self.lock();
        if g.generation != generation {
            return;
        }
        if g.by_hash.len() >= MAX_ENTRIES {
            g.by_hash.clear();
        }
        g.by_hash.insert(hash, token);
    }

    /// Forgets every token; called after a revoke has committed.
    pub(super) fn invalidate(&self) {
        let mut g = self.lock();
        g.generation += 1;
        g.by_hash.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::auth::{Role, Scope};

    fn token(id: &str) -> TokenRecord {
        TokenRecord {
            id: id.into(),
            scope: Scope {
                role: Role::Admin,
                region: None,
                agency: None,
                nip: None,
            },
            label: None,
            created_at: "2026-11-23T00:00:00Z".into(),
            created_by: None,
            last_used: None,
            expires_at: None,
            must_change_password: false,
        }
    }

    #[test]
    fn a_read_that_began_before_a_revoke_is_not_kept() {
        let c = AuthCache::default();
        let g = c.generation();
        c.invalidate();
        c.insert(g, "h".into(), token("t1"));
        assert!(c.get("h").is_none());
        let g = c.generation();
        c.insert(g, "h".into(), token("t1"));
        assert_eq!(c.get("h").map(|t| t.id), Some("t1".to_string()));
        c.invalidate();
        assert!(c.get("h").is_none());
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = AuthCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            c.insert(0, format!("h{i}"), token("t"));
        }
        assert!(c.lock().by_hash.len() <= MAX_ENTRIES);
    }
}
