//! Rotations: the rotate request of a scope, the call, and its one stored decision.

use super::*;
use kinerja_abi::Predikat;

impl Policy {
    /// The rotate request of a scope: its employees and target positions.
    pub async fn rotate_input(
        &self,
        region: &str,
        as_of: Date,
        agency: Option<String>,
        config: &Value,
    ) -> Result<Vec<u8>, PolicyError> {
        let mut inputs = self
            .rotate_inputs(region, as_of, agency, vec![config.clone()])
            .await?;
        inputs
            .pop()
            .ok_or_else(|| PolicyError::Internal("no rotate request was built".into()))
    }

    /// The rotate requests of one scope under each of `configs`, in order: the scope is read
    /// once (a latest-predikat lookup per employee) however many configs there are.
    pub async fn rotate_inputs(
        &self,
        region: &str,
        as_of: Date,
        agency: Option<String>,
        configs: Vec<Value>,
    ) -> Result<Vec<Vec<u8>>, PolicyError> {
        let r = region.to_string();
        let configs = configs
            .iter()
            .map(|c| config_map(c).cloned())
            .collect::<Result<Vec<_>, _>>()?;
        let bytes = self
            .store
            .run(move |s| {
                let emps = s.employees(&r, agency.as_deref(), None, usize::MAX)?.items;
                let as_of_s = as_of.to_string();
                let predikats =
                    s.latest_predikats(&r, emps.iter().map(|e| e.nip.as_str()), &as_of_s)?;
                let employees: Vec<_> = emps
                    .iter()
                    .zip(predikats)
                    .map(|(e, p)| cases::rotate_employee(e, p.as_deref().and_then(Predikat::parse)))
                    .collect();
                let all = s.all_positions(&r, None)?;
                let positions = cases::rotate_positions(&all, agency.as_deref(), &employees);
                let mut req = kinerja_abi::RotateRequest {
                    abi: kinerja_abi::ABI_VERSION,
                    hook: Hook::Rotate,
                    region: r,
                    config: Default::default(),
                    as_of: as_of_s,
                    employees,
                    positions,
                };
                configs
                    .into_iter()
                    .map(|config| {
                        req.config = config;
                        serde_json::to_vec(&req).map_err(|e| StoreError::Fault(e.to_string()))
                    })
                    .collect()
            })
            .await?;
        Ok(bytes)
    }

    /// Recommends rotations with the active plugin and stores the decision.
    pub async fn rotate(
        &self,
        region: &str,
        as_of: Date,
        agency: Option<String>,
        actor: &str,
    ) -> Result<Value, PolicyError> {
        let act = self.active(region, Hook::Rotate.as_str()).await?;
        let plugin = act.plugin.clone().unwrap_or_default();
        let input = self
            .rotate_input(region, as_of, agency, &act.config)
            .await?;
        let mut call = self
            .call(region, &plugin, Hook::Rotate, input, Keep::Bytes)
            .await?;
        let bytes = call
            .bytes
            .take()
            .ok_or_else(|| PolicyError::Internal("a stored call was not packed".into()))?;
        let record = CallRecord {
            meta: CallMeta {
                region: region.into(),
                hook: Hook::Rotate,
                plugin: plugin.clone(),
                period: None,
                period_end: None,
                as_of: Some(as_of.to_string()),
                fuel: call.out.fuel_used,
                duration_ms: ms(call.out.duration),
                logs: logs(&call.out.stderr),
                at: now_rfc3339(),
                by: Some(actor.into()),
            },
            bytes,
            results: vec![CallResult {
                id: String::new(),
                output: raw_output(&call.value),
                output_span: None,
                case_index: None,
                nip: None,
                inputs_read: None,
            }],
        };
        let stored = self.store.put_decisions_queued(vec![record]).await?;
        let id = stored
            .first()
            .and_then(|c| c.results.first())
            .map(|r| r.id.clone());
        let mut out = call.value;
        if let (Some(o), Some(id)) = (out.as_object_mut(), id) {
            o.insert("decision_id".into(), Value::String(id));
            o.insert("plugin".into(), Value::String(plugin));
        }
        Ok(out)
    }

    /// Runs any uploaded module's rotate; stores nothing.
    pub async fn dry_run_rotate(
        &self,
        region: &str,
        plugin: &str,
        config: &Value,
        as_of: Date,
        agency: Option<String>,
    ) -> Result<Value, PolicyError> {
        let input = self.rotate_input(region, as_of, agency, config).await?;
        let call = self
            .call(region, plugin, Hook::Rotate, input, Keep::Nothing)
            .await?;
        let mut out = call.value;
        if let Some(o) = out.as_object_mut() {
            o.insert("logs".into(), Value::String(logs(&call.out.stderr)));
            o.insert("fuel".into(), Value::from(call.out.fuel_used));
            o.insert("duration_ms".into(), Value::from(ms(call.out.duration)));
        }
        Ok(out)
    }
}
