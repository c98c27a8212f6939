//! Employees' passwords and sign-in sessions. A session is a token (see `tokens`) bound to one
//! employee that expires; two index tables find a person's sessions (to end them all when the
//! password changes) and the expired ones (to purge them). Passwords arrive here already hashed:
//! the store never sees one.

// An employee's key, `region/nip`, as every table keyed by employee has it.
use super::records::key2 as person;
use super::shard::Shard;
use super::tables::{CREDENTIALS, SESSIONS, SESSION_EXPIRY};
use super::tokens::{insert_token, random_hex, remove_token, TokenRecord};
use super::{audit, get_json, to_json, Result, Store, StoreError};
use crate::domain::auth::{Role, Scope};
use crate::domain::now_rfc3339;
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An employee's password as stored: never the password itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    /// argon2id PHC string (algorithm, parameters, salt and hash).
    pub hash: String,
    /// Set by an administrator (a one-time initial password): the employee must choose their
    /// own at the first sign-in.
    pub must_change: bool,
    pub set_at: String,
    /// The token (or `nip:` of the employee) that set it.
    pub set_by: Option<String>,
}

/// The answer to a sign-in: the one moment the session's secret exists outside the client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OpenedSession {
    pub token: String,
    pub expires_at: String,
    pub must_change_password: bool,
}

/// Adds a session's rows to the two session indexes (inside the transaction that stores it).
pub(super) fn index(tx: &redb::WriteTransaction, t: &TokenRecord, expires: &str) -> Result<()> {
    let (region, nip) = owner(t)?;
    tx.open_table(SESSIONS)?.insert(
        format!("{}/{}", person(region, nip), t.id).as_str(),
        expires,
    )?;
    tx.open_table(SESSION_EXPIRY)?.insert(
        format!("{expires}/{}", t.id).as_str(),
        person(region, nip).as_str(),
    )?;
    Ok(())
}

/// Removes a session's index rows (inside the transaction that removes it).
pub(super) fn unindex(tx: &redb::WriteTransaction, t: &TokenRecord, expires: &str) -> Result<()> {
    let (region, nip) = owner(t)?;
    tx.open_table(SESSIONS)?
        .remove(format!("{}/{}", person(region, nip), t.id).as_str())?;
    tx.open_table(SESSION_EXPIRY)?
        .remove(format!("{expires}/{}", t.id).as_str())?;
    Ok(())
}

fn owner(t: &TokenRecord) -> Result<(&str, &str)> {
    match (t.scope.region.as_deref(), t.scope.nip.as_deref()) {
        (Some(r), Some(n)) => Ok((r, n)),
        _ => Err(StoreError::Corrupt(format!(
            "session `{}` is not bound to an employee",
            t.id
        ))),
    }
}

/// Ends every session of one employee but `keep`; answers how many ended.
fn end_sessions(
    tx: &redb::WriteTransaction,
    region: &str,
    nip: &str,
    keep: Option<&str>,
) -> Result<usize> {
    let prefix = format!("{}/", person(region, nip));
    let ids: Vec<String> = {
        let t = tx.open_table(SESSIONS)?;
        let mut ids = Vec::new();
        for row in t.range(prefix.as_str()..)? {
            let (k, _) = row?;
            let Some(id) = k.value().strip_prefix(prefix.as_str()).map(str::to_string) else {
                break;
            };
            if keep != Some(id.as_str()) {
                ids.push(id);
            }
        }
        ids
    };
    for id in &ids {
        remove_token(tx, id)?;
    }
    Ok(ids.len())
}

impl Store {
    /// The stored password of an employee, if one was set (`None` too for an unknown region
    /// or NIP: the sign-in treats them alike).
    pub fn credential(&self, region: &str, nip: &str) -> Result<Option<Credential>> {
        // No such region: no one there has a password (a sign-in answers as for a wrong one).
        let Ok(shard) = self.shard(region) else {
            return Ok(None);
        };
        let tx = shard.db.begin_read()?;
        get_json(&tx.open_table(CREDENTIALS)?, &person(region, nip))
    }

    /// Stores a password hash for an existing employee and ends their other sessions (all of
    /// them, or all but `keep`, the session that changed it). `must_change` marks an initial
    /// password set by someone else. Audited without the hash.
    pub fn set_password(
        &self,
        region: &str,
        nip: &str,
        hash: String,
        must_change: bool,
        keep: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        let tx = self.shard(region)?.begin_write()?;
        super::records::employee_exists(&tx, region, nip)?;
        let ended = {
            let c = Credential {
                hash,
                must_change,
                set_at: now_rfc3339(),
                set_by: Some(actor.to_string()),
            };
            tx.open_table(CREDENTIALS)?
                .insert(person(region, nip).as_str(), to_json(&c)?.as_slice())?;
            let ended = end_sessions(&tx, region, nip, keep)?;
            if let Some(id) = keep {
                clear_must_change(&tx, id)?;
            }
            ended
        };
        let action = if must_change {
            "employee.password.set"
        } else {
            "employee.password.change"
        };
        audit::record_about(
            &tx,
            Some(actor),
            action,
            (region, nip),
            nip,
            serde_json::json!({ "sessions_ended": ended }),
        )?;
        tx.commit()?;
        self.auth.invalidate();
        Ok(())
    }

    /// Opens a session for an employee whose password was just checked: a token of role
    /// `employee` that ends at `expires_at`. Its id carries the NIP, so the audit trail names
    /// the person even after the session is purged.
    pub fn open_session(
        &self,
        region: &str,
        nip: &str,
        expires_at: String,
        must_change_password: bool,
    ) -> Result<OpenedSession> {
        let id = format!("ses_{nip}_{}", random_hex(8));
        let token = TokenRecord {
            id: id.clone(),
            scope: Scope {
                role: Role::Employee,
                region: Some(region.to_string()),
                agency: None,
                nip: Some(nip.to_string()),
            },
            label: Some("sign-in".into()),
            created_at: now_rfc3339(),
            created_by: None,
            last_used: None,
            expires_at: Some(expires_at.clone()),
            must_change_password,
        };
        let tx = self.shard(region)?.begin_write()?;
        let secret = insert_token(&tx, token)?;
        audit::record_about(
            &tx,
            Some(&id),
            "session.open",
            (region, nip),
            nip,
            serde_json::json!({ "expires_at": expires_at }),
        )?;
        tx.commit()?;
        Ok(OpenedSession {
            token: secret,
            expires_at,
            must_change_password,
        })
    }

    /// Ends one session (sign-out) of `region`.
    pub fn close_session(&self, region: &str, id: &str) -> Result<()> {
        let tx = self.shard(region)?.begin_write()?;
        let gone = remove_token(&tx, id)?
            .ok_or_else(|| StoreError::NotFound(format!("session `{id}`")))?;
        let (region, nip) = owner(&gone)?;
        audit::record_about(
            &tx,
            Some(id),
            "session.close",
            (region, nip),
            nip,
            serde_json::Value::Null,
        )?;
        tx.commit()?;
        self.auth.invalidate();
        Ok(())
    }

    /// Removes sessions that expired before `now` (RFC 3339), at most `max` per call so one
    /// transaction stays short; answers how many went.
    pub fn purge_expired_sessions(&self, now: &str, max: usize) -> Result<usize> {
        let mut purged = 0;
        for (region, shard) in self.each_shard() {
            match purge_expired_in(&shard, now, max) {
                Ok(n) => purged += n,
                // A region being moved: its sessions wait for the next sweep (on its node).
                Err(StoreError::Paused(_)) => tracing::debug!(%region, "skipped a paused region"),
                Err(e) => return Err(e),
            }
        }
        if purged > 0 {
            self.auth.invalidate();
        }
        Ok(purged)
    }
}

/// [`Store::purge_expired_sessions`] in one region's file.
fn purge_expired_in(shard: &std::sync::Arc<Shard>, now: &str, max: usize) -> Result<usize> {
    {
        let expired: Vec<String> = {
            let tx = shard.db.begin_read()?;
            let t = tx.open_table(SESSION_EXPIRY)?;
            let mut ids = Vec::new();
            for row in t.range(..now)?.take(max) {
                let (k, _) = row?;
                if let Some((_, id)) = k.value().rsplit_once('/') {
                    ids.push(id.to_string());
                }
            }
            ids
        };
        if expired.is_empty() {
            return Ok(0);
        }
        let tx = shard.begin_write()?;
        for id in &expired {
            remove_token(&tx, id)?;
        }
        tx.commit()?;
        Ok(expired.len())
    }
}

/// The session changed its password: it may now do everything its employee may.
fn clear_must_change(tx: &redb::WriteTransaction, id: &str) -> Result<()> {
    let mut t = tx.open_table(super::tables::TOKENS)?;
    let stored: Option<super::tokens::StoredToken> = get_json(&t, id)?;
    if let Some(mut s) = stored {
        s.token.must_change_password = false;
        t.insert(id, to_json(&s)?.as_slice())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_store;

    #[test]
    fn expired_sessions_are_purged_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = test_store(dir.path());
        let nip = "198503122010011001";
        let old = store
            .open_session("jambi", nip, "2026-01-01T00:00:00.000Z".into(), false)
            .unwrap();
        let live = store
            .open_session("jambi", nip, "2999-01-01T00:00:00.000Z".into(), false)
            .unwrap();
        let now = "2026-06-01T00:00:00.000Z";
        assert!(store
            .authenticate(&old.token)
            .unwrap()
            .unwrap()
            .expired(now));
        assert_eq!(store.purge_expired_sessions(now, 100).unwrap(), 1);
        assert_eq!(store.purge_expired_sessions(now, 100).unwrap(), 0);
        assert!(store.authenticate(&old.token).unwrap().is_none());
        let kept = store.authenticate(&live.token).unwrap().unwrap();
        assert!(!kept.expired(now));
        // Its index rows are the only ones left: ending the NIP's sessions finds it.
        let tx = store
            .shard("jambi")
            .expect("jambi")
            .db
            .begin_write()
            .unwrap();
        assert_eq!(end_sessions(&tx, "jambi", nip, None).unwrap(), 1);
        tx.commit().unwrap();
        store.auth.invalidate();
        assert!(store.authenticate(&live.token).unwrap().is_none());
    }
}
