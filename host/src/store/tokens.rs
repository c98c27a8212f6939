//! Bearer tokens. Only a SHA-256 of each secret is stored; a leaked database does not leak
//! working tokens, and the lookup compares hashes in constant time.

use super::shard::Shard;
use super::tables::{TOKENS, TOKEN_BY_HASH, TOKEN_REGIONS};
use super::{audit, get_json, to_json, Page, Result, Store, StoreError};
use crate::domain::auth::{Role, Scope};
use crate::domain::now_rfc3339;
use rand::RngCore;
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// A token as listed: never the secret, never its hash.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenRecord {
    pub id: String,
    #[serde(flatten)]
    pub scope: Scope,
    pub label: Option<String>,
    pub created_at: String,
    pub created_by: Option<String>,
    pub last_used: Option<String>,
    /// When a sign-in session ends (RFC 3339); absent for tokens, which last until revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// A session opened with a one-time initial password: it may only change the password
    /// (or sign out) until it has.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_change_password: bool,
}

impl TokenRecord {
    /// Whether this is a sign-in session (it expires) rather than an integration's token.
    pub fn is_session(&self) -> bool {
        self.expires_at.is_some()
    }

    /// Whether a session's time is up at `now` (an RFC 3339 timestamp of the same format).
    pub fn expired(&self, now: &str) -> bool {
        self.expires_at.as_deref().is_some_and(|e| e <= now)
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct StoredToken {
    #[serde(flatten)]
    pub(super) token: TokenRecord,
    pub(super) hash: String,
}

/// The one moment the secret exists outside the client: the answer to an issue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssuedToken {
    pub id: String,
    pub token: String,
}

pub(super) fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(super) fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The region a secret names: a region's tokens are `knj_{region}_{hex}`, so that a request
/// finds its token in its region's file without looking in the others. Admins' (and those
/// issued before region files) are `knj_{hex}`.
fn region_of_secret(secret: &str) -> Option<&str> {
    let (region, _) = secret.strip_prefix("knj_")?.rsplit_once('_')?;
    Some(region)
}

/// Who "issued" the admin tokens of `--admin-tokens` (kept in sync with that file).
const PROVISIONED: &str = "--admin-tokens";

/// The scope of a national admin.
fn admin_scope() -> Scope {
    Scope {
        role: Role::Admin,
        region: None,
        agency: None,
        nip: None,
    }
}

/// File the bootstrap admin token is written to, mode 0600.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

impl Store {
    pub fn issue_token(
        &self,
        scope: Scope,
        label: Option<String>,
        actor: Option<&str>,
    ) -> Result<IssuedToken> {
        let id = format!("tok_{}", random_hex(8));
        let token = TokenRecord {
            id: id.clone(),
            scope: scope.clone(),
            label,
            created_at: now_rfc3339(),
            created_by: actor.map(str::to_string),
            last_used: None,
            expires_at: None,
            must_change_password: false,
        };
        let tx = self.home_of(scope.region.as_deref())?.begin_write()?;
        let secret = insert_token(&tx, token)?;
        audit::record(
            &tx,
            actor,
            "token.issue",
            scope.region.as_deref(),
            &id,
            serde_json::to_value(&scope).unwrap_or_default(),
        )?;
        tx.commit()?;
        Ok(IssuedToken { id, token: secret })
    }

    /// The token a secret belongs to, if it was checked before and not revoked since: no I/O,
    /// so the async side can call it without a hop to a blocking thread.
    pub fn authenticate_cached(&self, secret: &str) -> Option<TokenRecord> {
        self.auth.get(&hash(secret))
    }

    /// The token a secret belongs to, or `None`.
    pub fn authenticate(&self, secret: &str) -> Result<Option<TokenRecord>> {
        let h = hash(secret);
        if let Some(t) = self.auth.get(&h) {
            return Ok(Some(t));
        }
        let generation = self.auth.generation();
        let Some(home) = self.home_of_secret(secret, &h)? else {
            return Ok(None);
        };
        let tx = home.db.begin_read()?;
        let id = match tx.open_table(TOKEN_BY_HASH)?.get(h.as_str())? {
            Some(id) => id.value().to_string(),
            None => return Ok(None),
        };
        let stored: Option<StoredToken> = get_json(&tx.open_table(TOKENS)?, &id)?;
        let token = stored.and_then(|s| {
            let same: bool = s.hash.as_bytes().ct_eq(h.as_bytes()).into();
            same.then_some(s.token)
        });
        if let Some(t) = &token {
            self.auth.insert(generation, h, t.clone());
        }
        Ok(token)
    }

    /// Records that token `id`, of `region` (none for an admin's), was used now.
    pub fn touch_token(&self, region: Option<&str>, id: &str) -> Result<()> {
        let tx = self.home_of(region)?.begin_write()?;
        {
            let mut t = tx.open_table(TOKENS)?;
            let stored: Option<StoredToken> = get_json(&t, id)?;
            if let Some(mut s) = stored {
                s.token.last_used = Some(now_rfc3339());
                t.insert(id, to_json(&s)?.as_slice())?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn token(&self, id: &str) -> Result<TokenRecord> {
        let tx = self.home_of_token(id)?.db.begin_read()?;
        let stored: Option<StoredToken> = get_json(&tx.open_table(TOKENS)?, id)?;
        stored
            .map(|s| s.token)
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))
    }

    /// The file of the tokens of `region`: its own, or the system file for admins'.
    fn home_of(&self, region: Option<&str>) -> Result<Arc<Shard>> {
        match region {
            Some(r) => self.shard(r),
            None => Ok(Arc::clone(&self.system)),
        }
    }

    /// The file holding token `id` (the system file when none does, where a read then finds
    /// nothing): looked for in every file, for the few routes that name a token by id alone.
    fn home_of_token(&self, id: &str) -> Result<Arc<Shard>> {
        for (_, s) in self.each_shard() {
            if s.db.begin_read()?.open_table(TOKENS)?.get(id)?.is_some() {
                return Ok(s);
            }
        }
        Ok(Arc::clone(&self.system))
    }

    /// The file to look for the secret with SHA-256 `h` in: a region's secret names its
    /// region; others are the system file's, or a region's from before region files
    /// (`TOKEN_REGIONS`). `None` when the region named is not held here.
    fn home_of_secret(&self, secret: &str, h: &str) -> Result<Option<Arc<Shard>>> {
        if let Some(region) = region_of_secret(secret) {
            if let Ok(shard) = self.shard(region) {
                return Ok(Some(shard));
            }
            // Not a region held here (or an admin's secret of that shape): the system file's.
        }
        let tx = self.system.db.begin_read()?;
        if tx.open_table(TOKEN_BY_HASH)?.get(h)?.is_some() {
            return Ok(Some(Arc::clone(&self.system)));
        }
        let region = tx
            .open_table(TOKEN_REGIONS)?
            .get(h)?
            .map(|r| r.value().to_string());
        Ok(region.and_then(|r| self.shard(&r).ok()))
    }

    /// One page of the tokens (of `region`'s scope, or all), in id order after `cursor`.
    pub fn tokens(
        &self,
        region: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<TokenRecord>> {
        let decode = |b: &[u8]| super::from_json::<StoredToken>(b).map(|s| s.token);
        let page_of = |home: &Shard, limit: usize| -> Result<Page<TokenRecord>> {
            let tx = home.db.begin_read()?;
            super::page_rows(&tx.open_table(TOKENS)?, "", cursor, limit, decode, |_| true)
        };
        if let Some(r) = region {
            return page_of(&*self.shard(r)?, limit);
        }
        // Every file's, merged in id order: each file's first `limit` after the cursor, of
        // which the first `limit` of all.
        let mut all = page_of(&self.system, limit)?.items;
        for (_, s) in self.each_shard() {
            all.extend(page_of(&s, limit)?.items);
        }
        all.sort_by(|a, b| a.id.cmp(&b.id));
        let more = all.len() > limit;
        all.truncate(limit);
        let next = more.then(|| all.last().map(|t| t.id.clone())).flatten();
        Ok(Page { items: all, next })
    }

    pub fn revoke_token(&self, id: &str, actor: Option<&str>) -> Result<()> {
        let tx = self.home_of_token(id)?.begin_write()?;
        {
            let t = tx.open_table(TOKENS)?;
            let stored: StoredToken =
                get_json(&t, id)?.ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))?;
            // Counted inside the write transaction, so two revocations of the last two admins
            // at once cannot both pass.
            if stored.token.scope.role == Role::Admin && admins(&t)? <= 1 {
                return Err(StoreError::LastAdmin(id.to_string()));
            }
            drop(t);
            remove_token(&tx, id)?;
            audit::record(
                &tx,
                actor,
                "token.revoke",
                stored.token.scope.region.as_deref(),
                id,
                serde_json::Value::Null,
            )?;
        }
        tx.commit()?;
        self.auth.invalidate();
        Ok(())
    }

    /// Makes the admin tokens provisioned from a file (`--admin-tokens`: `(id, SHA-256 of the
    /// secret in hex, label)`) exactly `listed`, as a cluster's nodes all take the same admin
    /// credentials from it: new ones added, a changed hash replaced (a rotated secret), and
    /// those provisioned before but no longer listed removed (a revocation that holds on
    /// every node at its restart). Tokens issued otherwise are left alone. Audited as
    /// `token.provision` and `token.revoke`; answers (added, changed, removed).
    pub fn provision_admins(
        &self,
        listed: &[(String, String, String)],
    ) -> Result<(usize, usize, usize)> {
        let tx = self.system.begin_write()?;
        let (mut added, mut changed, mut removed) = (0, 0, 0);
        {
            let mut tokens = tx.open_table(TOKENS)?;
            let mut by_hash = tx.open_table(TOKEN_BY_HASH)?;
            for (id, sha, label) in listed {
                let before: Option<StoredToken> = get_json(&tokens, id)?;
                if let Some(b) = &before {
                    if b.token.created_by.as_deref() != Some(PROVISIONED) || b.hash == *sha {
                        continue;
                    }
                    by_hash.remove(b.hash.as_str())?;
                }
                let rec = StoredToken {
                    token: TokenRecord {
                        id: id.clone(),
                        scope: admin_scope(),
                        label: Some(label.clone()),
                        created_at: now_rfc3339(),
                        created_by: Some(PROVISIONED.into()),
                        last_used: None,
                        expires_at: None,
                        must_change_password: false,
                    },
                    hash: sha.clone(),
                };
                tokens.insert(id.as_str(), to_json(&rec)?.as_slice())?;
                by_hash.insert(sha.as_str(), id.as_str())?;
                let what = if before.is_some() { "changed" } else { "added" };
                audit::record(
                    &tx,
                    None,
                    "token.provision",
                    None,
                    id,
                    serde_json::json!({"role": "admin", "label": label, "provisioned": what}),
                )?;
                if before.is_some() {
                    changed += 1;
                } else {
                    added += 1;
                }
            }
            let stale: Vec<StoredToken> = tokens
                .iter()?
                .map(|row| super::from_json::<StoredToken>(row?.1.value()))
                .collect::<Result<Vec<_>>>()?
                .into_iter()
                .filter(|t| t.token.created_by.as_deref() == Some(PROVISIONED))
                .filter(|t| !listed.iter().any(|(id, ..)| *id == t.token.id))
                .collect();
            for t in stale {
                tokens.remove(t.token.id.as_str())?;
                by_hash.remove(t.hash.as_str())?;
                audit::record(
                    &tx,
                    None,
                    "token.revoke",
                    None,
                    &t.token.id,
                    serde_json::json!({"provisioned": "removed"}),
                )?;
                removed += 1;
            }
        }
        tx.commit()?;
        self.auth.invalidate();
        Ok((added, changed, removed))
    }

    /// Indexes the tokens of region `region`'s file by their hash in the system file
    /// (`TOKEN_REGIONS`), for the secrets that do not name their region (issued before region
    /// files): a file taken in from another node, or restored, keeps its tokens working.
    pub(super) fn index_region_tokens(&self, region: &str, shard: &Shard) -> Result<()> {
        let hashes: Vec<String> = {
            let tx = shard.db.begin_read()?;
            let t = tx.open_table(TOKEN_BY_HASH)?;
            t.iter()?
                .map(|row| Ok(row?.0.value().to_string()))
                .collect::<Result<_>>()?
        };
        if hashes.is_empty() {
            return Ok(());
        }
        let tx = self.system.begin_write()?;
        {
            let mut map = tx.open_table(TOKEN_REGIONS)?;
            for h in &hashes {
                map.insert(h.as_str(), region)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// On the first start (no tokens at all) creates an admin token and writes it to
    /// `DATA_DIR/admin.token` with mode 0600. Returns the file's path when it made one.
    pub fn bootstrap_admin(&self, data_dir: &Path) -> Result<Option<std::path::PathBuf>> {
        let empty = {
            let tx = self.system.db.begin_read()?;
            tx.open_table(TOKENS)?.is_empty()?
        };
        if !empty {
            return Ok(None);
        }
        let scope = admin_scope();
        let issued = self.issue_token(scope, Some("bootstrap admin".into()), None)?;
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        write_secret_file(&path, &issued.token)
            .map_err(|e| StoreError::Fault(format!("cannot write {}: {e}", path.display())))?;
        Ok(Some(path))
    }

    /// `kinerja admin reset-token`: issues a new admin token and writes it to
    /// `DATA_DIR/admin.token` (mode 0600), whatever tokens exist. The way back in when every
    /// admin token is lost; it needs the stopped server's files, which is the proof of being
    /// its operator. Other tokens are kept. Answers the new token's id and the file.
    pub fn reset_admin(&self, data_dir: &Path) -> Result<(String, std::path::PathBuf)> {
        let scope = admin_scope();
        let issued = self.issue_token(scope, Some("admin reset-token".into()), None)?;
        let path = data_dir.join(ADMIN_TOKEN_FILE);
        if let Err(e) = write_secret_file(&path, &issued.token) {
            // A token whose secret no one has is only clutter: take it back.
            if let Err(undo) = self.revoke_token(&issued.id, None) {
                tracing::warn!(token = %issued.id, error = %undo, "could not revoke the unwritten token");
            }
            return Err(StoreError::Fault(format!(
                "cannot write {}: {e}",
                path.display()
            )));
        }
        Ok((issued.id, path))
    }
}

/// Stores `token` under a fresh secret, which it answers: the one moment the secret exists.
pub(super) fn insert_token(tx: &redb::WriteTransaction, token: TokenRecord) -> Result<String> {
    let secret = match &token.scope.region {
        Some(r) => format!("knj_{r}_{}", random_hex(32)),
        None => format!("knj_{}", random_hex(32)),
    };
    let rec = StoredToken {
        hash: hash(&secret),
        token,
    };
    tx.open_table(TOKENS)?
        .insert(rec.token.id.as_str(), to_json(&rec)?.as_slice())?;
    tx.open_table(TOKEN_BY_HASH)?
        .insert(rec.hash.as_str(), rec.token.id.as_str())?;
    if let Some(expires) = &rec.token.expires_at {
        super::sessions::index(tx, &rec.token, expires)?;
    }
    Ok(secret)
}

/// Removes a token and its hash (and a session's index rows); `None` if there was none. The
/// caller invalidates the authentication cache after the commit.
pub(super) fn remove_token(tx: &redb::WriteTransaction, id: &str) -> Result<Option<TokenRecord>> {
    let stored: Option<StoredToken> = {
        let mut t = tx.open_table(TOKENS)?;
        let s = get_json(&t, id)?;
        t.remove(id)?;
        s
    };
    let Some(stored) = stored else {
        return Ok(None);
    };
    tx.open_table(TOKEN_BY_HASH)?.remove(stored.hash.as_str())?;
    if let Some(expires) = &stored.token.expires_at {
        super::sessions::unindex(tx, &stored.token, expires)?;
    }
    Ok(Some(stored.token))
}

/// How many admin tokens `t` (the tokens table) holds. Tokens are few (people and services,
/// not requests), so a scan is fine.
fn admins(t: &impl ReadableTable<&'static str, &'static [u8]>) -> Result<usize> {
    let mut n = 0;
    for row in t.iter()? {
        let (_, v) = row?;
        let stored: StoredToken = super::from_json(v.value())?;
        if stored.token.scope.role == Role::Admin {
            n += 1;
        }
    }
    Ok(n)
}

/// Creates the file with mode 0600 from the start, so the secret is never world-readable.
fn write_secret_file(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    writeln!(f, "{secret}")?;
    f.sync_all()
}
