//! Assemble: the cases of the selected employees from one read of their records, and the
//! appraise request document of a batch of them.

use super::*;

/// The cases of a selection, read in one snapshot.
pub(super) struct Assembled {
    /// Boxed: the cases are moved twice more (the parts joined, the skipped taken out), and
    /// moving a whole case costs more than the box.
    #[expect(
        clippy::vec_box,
        reason = "moving whole cases cost more than the boxes"
    )]
    pub(super) cases: Vec<Box<Case>>,
    /// Those without a case, with the reason.
    pub(super) skipped: Vec<Skipped>,
    /// Where the snapshot stood; the decisions keep it.
    pub(super) read: InputsRead,
}

/// The cases of `employees` from one read of their records, in their order. A region-wide
/// appraisal reads tens of thousands of rows, decodes their JSON and builds a case of each: on
/// one thread that is a large share of a region-wide batch, so the employees are read and
/// built in parts on several threads, from the one snapshot.
pub(super) fn assemble(
    s: &Store,
    region: &str,
    period: Period,
    employees: &[Employee],
) -> Result<Assembled, StoreError> {
    let snap = s.appraisal_snapshot(region, period)?;
    let cases = crate::store::in_parts(
        employees,
        crate::store::PARALLEL_READ_FROM,
        "record reader",
        |part| {
            part.iter()
                .map(|e| {
                    let (rec, reported) = snap.inputs_of(e)?;
                    Ok(cases::case(e, period, rec, reported)
                        .map(Box::new)
                        .map_err(|reason| Skipped {
                            nip: e.nip.clone(),
                            reason,
                        }))
                })
                .collect::<Result<Vec<_>, StoreError>>()
        },
    )?;
    let read = snap.mark();
    let mut out = Vec::with_capacity(cases.len());
    let mut skipped = Vec::new();
    for c in cases {
        match c {
            Ok(c) => out.push(c),
            Err(s) => skipped.push(s),
        }
    }
    Ok(Assembled {
        cases: out,
        skipped,
        read,
    })
}

/// An activation's config as ABI 1 sends it: a JSON object (activation refuses anything else).
pub(super) fn config_map(config: &Value) -> Result<&serde_json::Map<String, Value>, PolicyError> {
    config
        .as_object()
        .ok_or_else(|| PolicyError::Internal("an activation config is not a JSON object".into()))
}

/// One appraise request document.
pub(super) fn appraise_request(
    region: &str,
    config: &Value,
    cases: &[Box<Case>],
) -> Result<Vec<u8>, PolicyError> {
    // Sized for a typical case up front: growing a batch's buffer step by step copies it
    // about twice over.
    let mut buf = Vec::with_capacity(256 + cases.len() * 1024);
    let config = config_map(config)?;
    serde_json::to_writer(
        &mut buf,
        &kinerja_abi::AppraiseRequestRef::new(region, config, cases),
    )
    .map_err(|e| PolicyError::Internal(e.to_string()))?;
    Ok(buf)
}

impl Policy {
    /// The cases of the given employees, in their order, and those skipped with the reason.
    pub async fn appraisal_cases(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
    ) -> Result<(Vec<Box<Case>>, Vec<Skipped>), PolicyError> {
        let r = region.to_string();
        let a = self
            .store
            .run(move |s| assemble(s, &r, period, &employees))
            .await?;
        Ok((a.cases, a.skipped))
    }
}
