//! Select: who an evaluation is about. The first stage of the pipeline (select → assemble →
//! call → check → record → answer), shared by appraisals, dry runs and impact previews.

use super::{Policy, PolicyError};
use crate::domain::auth::{Role, Scope};
use crate::domain::nip::Nip;
use crate::domain::records::Employee;
use crate::domain::validate_id;
use crate::limits::{MAX_NAMED_NIPS, READ_NOW_MAX_NIPS};
use crate::store::StoreError;

/// Whether an appraisal naming `nips` employees reads them on the request's own thread.
fn reads_now(nips: usize) -> bool {
    nips <= READ_NOW_MAX_NIPS
}

impl Policy {
    /// Who is appraised: the named NIPs in order, or an agency's employees by NIP, or the
    /// region's, as far as `scope` may see. The region's existence is checked in the same read:
    /// a few named employees (an agency's form names one) are read on this thread, more, or an
    /// agency's, in one blocking hop.
    pub async fn select(
        &self,
        scope: &Scope,
        region: &str,
        nips: Option<Vec<String>>,
        agency: Option<String>,
    ) -> Result<Vec<Employee>, PolicyError> {
        let agency = self.scoped_agency(scope, region, agency)?;
        let Some(nips) = nips else {
            let r = region.to_string();
            return Ok(self
                .store
                .run(move |s| {
                    s.require_region(&r)?;
                    Ok(s.employees(&r, agency.as_deref(), None, usize::MAX)?.items)
                })
                .await?);
        };
        if nips.is_empty() || nips.len() > MAX_NAMED_NIPS {
            return Err(PolicyError::BadRequest(format!(
                "nips: give 1–{MAX_NAMED_NIPS} NIPs"
            )));
        }
        // The same employee twice would be appraised twice in one request: two decisions of
        // one case, and a plugin comparing colleagues would count it double.
        let mut seen = std::collections::HashMap::with_capacity(nips.len());
        for (i, n) in nips.iter().enumerate() {
            Nip::parse(n).map_err(|m| PolicyError::BadRequest(format!("nips[{i}]: {m}")))?;
            if let Some(first) = seen.insert(n.as_str(), i) {
                return Err(PolicyError::BadRequest(format!(
                    "nips[{i}]: NIP {n} is named twice (also nips[{first}])"
                )));
            }
        }
        let (found, nips) = if reads_now(nips.len()) {
            (
                self.store.read_now(|s| s.employees_named(region, &nips))?,
                nips,
            )
        } else {
            let r = region.to_string();
            self.store
                .run(move |s| Ok((s.employees_named(&r, &nips)?, nips)))
                .await?
        };
        // An agency token hears the same about a NIP of another agency and a NIP of no one, so
        // it cannot probe which exist.
        let not_in_scope = |i: usize, n: &str| {
            PolicyError::Denied(crate::domain::auth::Denied(format!(
                "nips[{i}]: agency `{}` has no employee with NIP {n}",
                agency.as_deref().unwrap_or("")
            )))
        };
        let agency_token = scope.role == Role::Agency;
        let mut out = Vec::with_capacity(found.len());
        for (i, (e, n)) in found.into_iter().zip(&nips).enumerate() {
            let e = match e {
                Some(e) => e,
                None if agency_token => return Err(not_in_scope(i, n)),
                None => {
                    return Err(PolicyError::Store(StoreError::NotFound(format!(
                        "employee `{n}` in region `{region}`"
                    ))))
                }
            };
            if let Some(a) = &agency {
                if &e.agency != a {
                    return Err(if agency_token {
                        not_in_scope(i, n)
                    } else {
                        PolicyError::BadRequest(format!(
                            "nips: employee {} is not in agency `{a}`",
                            e.nip
                        ))
                    });
                }
            }
            out.push(e);
        }
        Ok(out)
    }

    /// The agency an evaluation is narrowed to, as far as `scope` allows (an agency token: its
    /// own), checked to exist: an unknown one would select nobody and answer an empty success,
    /// and a rotation would store a decision about nobody. The region is checked in the same
    /// read. An agency token's own agency is not read again: it was checked when the token was
    /// issued, and agencies are never deleted; any other agency it names is refused by the
    /// scope check.
    pub fn scoped_agency(
        &self,
        scope: &Scope,
        region: &str,
        agency: Option<String>,
    ) -> Result<Option<String>, PolicyError> {
        if let Some(a) = &agency {
            validate_id("agency", a).map_err(|e| PolicyError::BadRequest(e.to_string()))?;
        }
        let agency = scope.agency_filter(region, agency.as_deref())?;
        match &agency {
            Some(a) if scope.role != Role::Agency => {
                self.store.read_now(|s| s.agency(region, a).map(drop))?;
            }
            _ => {}
        }
        Ok(agency)
    }
}

#[cfg(test)]
mod tests {
    /// The threshold the docs and `tests/plugins.rs` name: 16 named employees are read on the
    /// request's thread, 17 take the hop.
    #[test]
    fn up_to_sixteen_named_employees_are_read_now() {
        assert!(super::reads_now(1) && super::reads_now(16));
        assert!(!super::reads_now(17));
    }
}
