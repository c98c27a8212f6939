//! Roles and scopes: who a token speaks for and what it may touch. Kept free of I/O so the
//! rules can be read and tested in one place.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    RegionAdmin,
    Agency,
    Employee,
}

/// What a token is bound to. Absent parts are unrestricted only for the roles above them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Scope {
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nip: Option<String>,
}

/// Why a caller was turned away; the API maps it to 403 with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

impl Scope {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Region-wide powers: plugin management, agencies, positions, issuing tokens in the region.
    pub fn require_region_admin(&self, region: &str) -> Result<(), Denied> {
        match self.role {
            Role::Admin => Ok(()),
            Role::RegionAdmin if self.region.as_deref() == Some(region) => Ok(()),
            Role::RegionAdmin => Err(Denied(format!(
                "this token is for region `{}`, not `{region}`",
                self.region.as_deref().unwrap_or("?")
            ))),
            _ => Err(Denied("this needs an admin or region_admin token".into())),
        }
    }

    /// Reading or writing anything inside the region at all (the first gate of every route).
    pub fn require_region(&self, region: &str) -> Result<(), Denied> {
        if self.role == Role::Admin || self.region.as_deref() == Some(region) {
            Ok(())
        } else {
            Err(Denied(format!(
                "this token is for region `{}`, not `{region}`",
                self.region.as_deref().unwrap_or("?")
            )))
        }
    }

    /// Region-wide reference data (agencies, active policies): every role of the region but
    /// `employee`, which is bound to one NIP and sees only that employee's own records.
    pub fn require_region_staff(&self, region: &str) -> Result<(), Denied> {
        self.require_region(region)?;
        if self.role == Role::Employee {
            return Err(Denied(
                "an employee token may only read its own records".into(),
            ));
        }
        Ok(())
    }

    /// Records of one agency: admins of the region and that agency's own token.
    pub fn require_agency(&self, region: &str, agency: &str) -> Result<(), Denied> {
        self.require_region(region)?;
        match self.role {
            Role::Admin | Role::RegionAdmin => Ok(()),
            Role::Agency if self.agency.as_deref() == Some(agency) => Ok(()),
            Role::Agency => Err(Denied(format!(
                "this token is for agency `{}`, not `{agency}`",
                self.agency.as_deref().unwrap_or("?")
            ))),
            Role::Employee => Err(Denied("an employee token cannot do this".into())),
        }
    }

    /// Reading one employee's records: its agency, its admins, and the employee itself.
    pub fn require_employee_read(
        &self,
        region: &str,
        agency: &str,
        nip: &str,
    ) -> Result<(), Denied> {
        if self.role == Role::Employee {
            self.require_region(region)?;
            return if self.nip.as_deref() == Some(nip) {
                Ok(())
            } else {
                Err(Denied(
                    "an employee token may only read its own records".into(),
                ))
            };
        }
        self.require_agency(region, agency)
    }

    /// The agency a list is limited to: an agency token always sees only its own agency, and
    /// naming another is refused rather than silently ignored.
    pub fn agency_filter(
        &self,
        region: &str,
        requested: Option<&str>,
    ) -> Result<Option<String>, Denied> {
        self.require_region(region)?;
        match self.role {
            Role::Admin | Role::RegionAdmin => Ok(requested.map(str::to_string)),
            Role::Agency => {
                let own = self.agency.clone().unwrap_or_default();
                match requested {
                    Some(a) if a != own => Err(Denied(format!(
                        "this token is for agency `{own}`, not `{a}`"
                    ))),
                    _ => Ok(Some(own)),
                }
            }
            Role::Employee => Err(Denied("an employee token cannot list records".into())),
        }
    }

    /// Who may issue a token of `wanted`: admins anything; region admins agency and employee
    /// tokens of their own region.
    pub fn may_issue(&self, wanted: &Scope) -> Result<(), Denied> {
        match self.role {
            Role::Admin => Ok(()),
            Role::RegionAdmin => {
                if !matches!(wanted.role, Role::Agency | Role::Employee) {
                    return Err(Denied(
                        "a region_admin may issue only agency and employee tokens".into(),
                    ));
                }
                match (&wanted.region, &self.region) {
                    (Some(w), Some(own)) if w == own => Ok(()),
                    _ => Err(Denied(
                        "a region_admin may issue tokens only for its own region".into(),
                    )),
                }
            }
            _ => Err(Denied("only admins and region admins issue tokens".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(role: Role, region: Option<&str>, agency: Option<&str>, nip: Option<&str>) -> Scope {
        Scope {
            role,
            region: region.map(Into::into),
            agency: agency.map(Into::into),
            nip: nip.map(Into::into),
        }
    }

    #[test]
    fn scopes() {
        let admin = scope(Role::Admin, None, None, None);
        let ra = scope(Role::RegionAdmin, Some("jambi"), None, None);
        let ag = scope(Role::Agency, Some("jambi"), Some("dinkes"), None);
        let em = scope(
            Role::Employee,
            Some("jambi"),
            None,
            Some("198503122010011001"),
        );
        assert!(admin.require_region_admin("jakarta").is_ok());
        assert!(ra.require_region_admin("jambi").is_ok());
        assert!(ra.require_region_admin("jakarta").is_err());
        assert!(ag.require_region_admin("jambi").is_err());
        assert!(ag.require_agency("jambi", "dinkes").is_ok());
        assert!(ag.require_agency("jambi", "disdik").is_err());
        assert!(ag.require_agency("jakarta", "dinkes").is_err());
        assert!(em
            .require_employee_read("jambi", "dinkes", "198503122010011001")
            .is_ok());
        assert!(em
            .require_employee_read("jambi", "dinkes", "198503122010011002")
            .is_err());
        assert!(em.require_region_staff("jambi").is_err());
        assert!(ag.require_region_staff("jambi").is_ok());
        assert!(ag.require_region_staff("jakarta").is_err());
        assert_eq!(
            ag.agency_filter("jambi", None).unwrap().as_deref(),
            Some("dinkes")
        );
        assert!(ag.agency_filter("jambi", Some("disdik")).is_err());
        assert!(ra
            .may_issue(&scope(Role::Agency, Some("jambi"), Some("x"), None))
            .is_ok());
        assert!(ra
            .may_issue(&scope(Role::Agency, Some("jakarta"), Some("x"), None))
            .is_err());
        assert!(ra.may_issue(&scope(Role::Admin, None, None, None)).is_err());
        assert!(ag
            .may_issue(&scope(Role::Employee, Some("jambi"), None, Some("1")))
            .is_err());
    }
}
