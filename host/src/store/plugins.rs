//! Uploaded modules and which one is active per region and hook, with the activation history.

use super::tables::*;
use super::{
    audit, from_json, get_json, next_seq, prefix_end, to_json, Page, Result, Store, StoreError,
};
use crate::domain::now_rfc3339;
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A module as uploaded to one region.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PluginUpload {
    /// SHA-256 of the module's bytes, hex.
    pub id: String,
    pub region: String,
    pub size: u64,
    pub hooks: Vec<String>,
    /// The plugin ABI: 1 (a core module, JSON on stdin and stdout) or 2 (a component,
    /// `schemas/wit/policy.wit`). Uploads recorded before ABI 2 are ABI 1.
    #[serde(default = "abi1")]
    pub abi: u32,
    pub uploaded_by: Option<String>,
    pub uploaded_at: String,
}

/// What is known of a module regardless of region.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginMeta {
    pub id: String,
    pub size: u64,
    pub hooks: Vec<String>,
    #[serde(default = "abi1")]
    pub abi: u32,
}

fn abi1() -> u32 {
    1
}

/// One activation (or deactivation) of a hook in a region.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activation {
    pub seq: u64,
    pub region: String,
    pub hook: String,
    /// `activate` or `deactivate`.
    pub action: String,
    pub plugin: Option<String>,
    #[schema(value_type = Option<Object>, required = true)]
    pub config: serde_json::Value,
    pub by: Option<String>,
    pub at: String,
}

impl Store {
    /// Keeps the bytes (once per content) and records the upload to the region. Answers the
    /// upload and whether it is new to this region (201) or a repeat (200).
    pub fn put_plugin(
        &self,
        region: &str,
        meta: PluginMeta,
        bytes: &[u8],
        actor: Option<&str>,
    ) -> Result<(PluginUpload, bool)> {
        self.require_region(region)?;
        let key = format!("{region}/{}", meta.id);
        let tx = self.shard(region)?.begin_write()?;
        let existing: Option<PluginUpload> = get_json(&tx.open_table(PLUGIN_REGIONS)?, &key)?;
        if let Some(up) = existing {
            return Ok((up, false));
        }
        {
            let mut b = tx.open_table(PLUGIN_BYTES)?;
            if b.get(meta.id.as_str())?.is_none() {
                b.insert(meta.id.as_str(), bytes)?;
                tx.open_table(PLUGINS)?
                    .insert(meta.id.as_str(), to_json(&meta)?.as_slice())?;
            }
        }
        let up = PluginUpload {
            id: meta.id.clone(),
            region: region.into(),
            size: meta.size,
            hooks: meta.hooks.clone(),
            abi: meta.abi,
            uploaded_by: actor.map(str::to_string),
            uploaded_at: now_rfc3339(),
        };
        tx.open_table(PLUGIN_REGIONS)?
            .insert(key.as_str(), to_json(&up)?.as_slice())?;
        audit::record(
            &tx,
            actor,
            "plugin.upload",
            Some(region),
            &meta.id,
            serde_json::json!({"size": meta.size, "hooks": meta.hooks, "abi": meta.abi}),
        )?;
        tx.commit()?;
        Ok((up, true))
    }

    pub fn plugin_upload(&self, region: &str, id: &str) -> Result<PluginUpload> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        get_json(&tx.open_table(PLUGIN_REGIONS)?, &format!("{region}/{id}"))?
            .ok_or_else(|| StoreError::NotFound(format!("plugin `{id}` in region `{region}`")))
    }

    /// One page of the region's modules, in id order after `cursor`.
    pub fn plugins(
        &self,
        region: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<PluginUpload>> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        let t = tx.open_table(PLUGIN_REGIONS)?;
        super::page_json(&t, &format!("{region}/"), cursor, limit, |_| true)
    }

    /// Every stored module's bytes, to load them into the runtime at start.
    /// (Each region's file keeps the modules it uploaded; a module several regions uploaded
    /// is answered once.)
    pub fn all_plugin_bytes(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = BTreeMap::new();
        for (_, shard) in self.each_shard() {
            let tx = shard.db.begin_read()?;
            for row in tx.open_table(PLUGIN_BYTES)?.iter()? {
                let (k, v) = row?;
                if !out.contains_key(k.value()) {
                    out.insert(k.value().to_string(), v.value().to_vec());
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// The bytes of every module `region` uploaded (its file keeps them): what a node that
    /// takes the region in loads.
    pub fn region_plugin_bytes(&self, region: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let tx = self.shard(region)?.db.begin_read()?;
        let mut out = Vec::new();
        for row in tx.open_table(PLUGIN_BYTES)?.iter()? {
            let (k, v) = row?;
            out.push((k.value().to_string(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// The bytes of module `id`, from the file of any region that uploaded it.
    pub fn plugin_bytes(&self, id: &str) -> Result<Vec<u8>> {
        for (_, shard) in self.each_shard() {
            let tx = shard.db.begin_read()?;
            if let Some(v) = tx.open_table(PLUGIN_BYTES)?.get(id)? {
                return Ok(v.value().to_vec());
            }
        }
        Err(StoreError::NotFound(format!("plugin `{id}`")))
    }

    fn write_activation(
        &self,
        act: &mut Activation,
        audit_action: &str,
        actor: Option<&str>,
    ) -> Result<()> {
        let tx = self.shard(&act.region)?.begin_write()?;
        {
            let key = format!("{}/{}", act.region, act.hook);
            let mut p = tx.open_table(POLICIES)?;
            if act.action == "deactivate" && p.get(key.as_str())?.is_none() {
                return Err(StoreError::NotFound(format!(
                    "active `{}` policy in region `{}`",
                    act.hook, act.region
                )));
            }
            act.seq = next_seq(&tx, "activation")?;
            if act.action == "activate" {
                p.insert(key.as_str(), to_json(&*act)?.as_slice())?;
            } else {
                p.remove(key.as_str())?;
            }
            tx.open_table(POLICY_HISTORY)?.insert(
                format!("{}/{:016}", act.region, act.seq).as_str(),
                to_json(&*act)?.as_slice(),
            )?;
            audit::record(
                &tx,
                actor,
                audit_action,
                Some(&act.region),
                &format!("{}:{}", act.hook, act.plugin.as_deref().unwrap_or("-")),
                act.config.clone(),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes `plugin` the active module for `hook`; a rollback is simply activating an older id.
    /// `forced` (the preflight was skipped) is recorded in the audit as
    /// `policy.activate.forced`.
    pub fn activate(
        &self,
        region: &str,
        hook: &str,
        plugin: &str,
        config: serde_json::Value,
        actor: Option<&str>,
        forced: bool,
    ) -> Result<Activation> {
        let mut act = Activation {
            seq: 0,
            region: region.into(),
            hook: hook.into(),
            action: "activate".into(),
            plugin: Some(plugin.into()),
            config,
            by: actor.map(str::to_string),
            at: now_rfc3339(),
        };
        let action = if forced {
            "policy.activate.forced"
        } else {
            "policy.activate"
        };
        self.write_activation(&mut act, action, actor)?;
        Ok(act)
    }

    pub fn deactivate(&self, region: &str, hook: &str, actor: Option<&str>) -> Result<Activation> {
        let mut act = Activation {
            seq: 0,
            region: region.into(),
            hook: hook.into(),
            action: "deactivate".into(),
            plugin: None,
            config: serde_json::Value::Null,
            by: actor.map(str::to_string),
            at: now_rfc3339(),
        };
        self.write_activation(&mut act, "policy.deactivate", actor)?;
        Ok(act)
    }

    /// The modules some region has active for some hook.
    pub fn active_plugin_ids(&self) -> Result<std::collections::BTreeSet<String>> {
        let mut ids = std::collections::BTreeSet::new();
        for (_, shard) in self.each_shard() {
            let tx = shard.db.begin_read()?;
            for row in tx.open_table(POLICIES)?.iter()? {
                let a: Activation = from_json(row?.1.value())?;
                ids.extend(a.plugin);
            }
        }
        Ok(ids)
    }

    pub fn active_policy(&self, region: &str, hook: &str) -> Result<Option<Activation>> {
        let tx = self.shard(region)?.db.begin_read()?;
        get_json(&tx.open_table(POLICIES)?, &format!("{region}/{hook}"))
    }

    /// The active activation per hook and the whole history, oldest first.
    pub fn policies(
        &self,
        region: &str,
    ) -> Result<(BTreeMap<String, Activation>, Vec<Activation>)> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        let prefix = format!("{region}/");
        let end = prefix_end(&prefix);
        let mut active = BTreeMap::new();
        for row in tx
            .open_table(POLICIES)?
            .range::<&str>(prefix.as_str()..end.as_str())?
        {
            let a: Activation = from_json(row?.1.value())?;
            active.insert(a.hook.clone(), a);
        }
        let mut history = Vec::new();
        for row in tx
            .open_table(POLICY_HISTORY)?
            .range::<&str>(prefix.as_str()..end.as_str())?
        {
            history.push(from_json(row?.1.value())?);
        }
        Ok((active, history))
    }
}
