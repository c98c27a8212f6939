//! The organisation chart: positions report to a parent position, and an employee's supervisor
//! (atasan langsung) is the holder of the nearest position above theirs that someone holds,
//! unless their record names an acting supervisor (Plt). No I/O: the store reads the region's
//! positions and employees into a [`Chart`] and asks it.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

use super::records::Employee;

/// The most positions a chain of parents may climb: far deeper than any real organisation
/// (Kepala Dinas → Bidang → Seksi → staff is four), and a bound should stored data ever hold a
/// loop.
pub const MAX_DEPTH: usize = 64;

/// How an employee's supervisor was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The holder of the nearest position above the employee's that someone holds.
    Position,
    /// The employee's record names the supervisor (an acting official, Plt).
    Override,
}

/// An employee's supervisor, as `GET …/employees/{nip}` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Supervisor {
    pub nip: String,
    pub name: String,
    pub position_id: String,
    pub via: Via,
}

/// An employee as `GET …/employees/{nip}` shows them: the record and its supervisor (null at
/// the top of the chart).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmployeeView {
    #[serde(flatten)]
    pub employee: Employee,
    pub supervisor: Option<Supervisor>,
}

/// The chain `id → parent → …` that a new parent would close into a loop, or `None` when it
/// closes none. `parent_of` answers a position's current parent (or why it cannot).
pub fn cycle<E>(
    id: &str,
    parent: &str,
    parent_of: impl Fn(&str) -> Result<Option<String>, E>,
) -> Result<Option<Vec<String>>, E> {
    let mut chain = vec![id.to_string(), parent.to_string()];
    let mut at = parent.to_string();
    for _ in 0..MAX_DEPTH {
        if at == id {
            return Ok(Some(chain));
        }
        match parent_of(&at)? {
            Some(next) => {
                chain.push(next.clone());
                at = next;
            }
            None => return Ok(None),
        }
    }
    Ok(Some(chain))
}

/// A region's positions and holders, enough to answer who supervises whom.
#[derive(Debug, Default)]
pub struct Chart {
    parent: BTreeMap<String, String>,
    /// Holders of each position, by NIP.
    holders: BTreeMap<String, BTreeSet<String>>,
    employees: BTreeMap<String, Employee>,
}

impl Chart {
    /// The chart of `parents` (position id → its parent, where it has one) and `employees`.
    pub fn new(
        parents: impl IntoIterator<Item = (String, String)>,
        employees: impl IntoIterator<Item = Employee>,
    ) -> Chart {
        let mut chart = Chart {
            parent: parents.into_iter().collect(),
            ..Chart::default()
        };
        for e in employees {
            chart
                .holders
                .entry(e.position_id.clone())
                .or_default()
                .insert(e.nip.clone());
            chart.employees.insert(e.nip.clone(), e);
        }
        chart
    }

    /// The NIP of `e`'s supervisor and how it was found: the named acting supervisor if the
    /// record names one, else the first holder (by NIP) of the nearest position above `e`'s
    /// that someone other than `e` holds; `None` at the top of the chart.
    pub fn supervisor_of(&self, e: &Employee) -> Option<(String, Via)> {
        if let Some(s) = &e.supervisor_nip {
            return Some((s.clone(), Via::Override));
        }
        let mut at = e.position_id.as_str();
        for _ in 0..MAX_DEPTH {
            at = self.parent.get(at)?;
            let holder = self
                .holders
                .get(at)
                .and_then(|h| h.iter().find(|n| **n != e.nip));
            if let Some(n) = holder {
                return Some((n.clone(), Via::Position));
            }
        }
        None
    }

    /// `e`'s supervisor with the name and position the API shows.
    pub fn supervisor(&self, e: &Employee) -> Option<Supervisor> {
        let (nip, via) = self.supervisor_of(e)?;
        let s = self.employees.get(&nip);
        Some(Supervisor {
            name: s.map(|s| s.name.clone()).unwrap_or_default(),
            position_id: s.map(|s| s.position_id.clone()).unwrap_or_default(),
            nip,
            via,
        })
    }

    /// The employees whose supervisor is `nip`, by NIP.
    pub fn subordinates(&self, nip: &str) -> Vec<&Employee> {
        self.employees
            .values()
            .filter(|e| e.nip != nip)
            .filter(|e| self.supervisor_of(e).is_some_and(|(s, _)| s == nip))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cycle_names_its_chain() {
        let parents: BTreeMap<&str, &str> = [("seksi", "bidang"), ("bidang", "kepala")].into();
        let parent_of = |p: &str| Ok::<_, ()>(parents.get(p).map(|s| s.to_string()));
        let chain = |ids: &[&str]| Ok(Some(ids.iter().map(|s| s.to_string()).collect()));
        assert_eq!(
            cycle("kepala", "seksi", parent_of),
            chain(&["kepala", "seksi", "bidang", "kepala"])
        );
        assert_eq!(cycle("staf", "seksi", parent_of), Ok(None));
        assert_eq!(
            cycle("seksi", "seksi", parent_of),
            chain(&["seksi", "seksi"])
        );
    }
}
