//! BerAKHLAK ratings entered by the raters themselves: the employee's self-assessment, the
//! supervisor's rating, and the ratings of the peers the supervisor assigned. They are kept in
//! the period record beside what the agency entered centrally (the record's `behavior`), so an
//! agency rewriting the record does not wipe them, and they take part in the appraisal through
//! [`Raters::apply`].

use super::records::{Behavior, Ratings};
use super::FieldError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Fewest and most peer raters of one employee for one period.
pub const PEERS_MIN: usize = 1;
/// See [`PEERS_MIN`].
pub const PEERS_MAX: usize = 5;

/// One rater's ratings, with who entered them and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Given {
    pub ratings: Ratings,
    /// The token or session that wrote them.
    pub by: String,
    pub at: String,
}

/// The raters' own parts of a period record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Raters {
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_rating: Option<Given>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<Given>,
    /// The peers assigned to rate, by NIP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers_assigned: Vec<String>,
    /// Each assigned peer's rating, by the peer's NIP.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub peers: BTreeMap<String, Given>,
}

/// Which part of the ratings a write is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Self_,
    Supervisor,
    Peer(String),
}

impl Part {
    /// The audit action of a write of `part`, or of the peer assignment (`None`).
    pub fn action(part: Option<&Part>) -> &'static str {
        match part {
            Some(Part::Self_) => "ratings.self",
            Some(Part::Supervisor) => "ratings.supervisor",
            Some(Part::Peer(_)) => "ratings.peers",
            None => "ratings.peers.assign",
        }
    }
}

impl Raters {
    pub fn is_empty(&self) -> bool {
        self == &Raters::default()
    }

    /// The behaviour an appraisal sees: the raters' own self and supervisor ratings over what
    /// the agency entered, and the assigned peers' ratings after the agency's peers.
    pub fn apply(&self, behavior: &mut Behavior) {
        if let Some(g) = &self.self_rating {
            behavior.self_rating = Some(g.ratings);
        }
        if let Some(g) = &self.supervisor {
            behavior.supervisor = Some(g.ratings);
        }
        behavior.peers.extend(
            self.peers
                .iter()
                .filter(|(n, _)| self.peers_assigned.contains(n))
                .map(|(_, g)| g.ratings),
        );
    }

    /// The part's current ratings, if any.
    pub fn get(&self, part: &Part) -> Option<&Given> {
        match part {
            Part::Self_ => self.self_rating.as_ref(),
            Part::Supervisor => self.supervisor.as_ref(),
            Part::Peer(n) => self.peers.get(n),
        }
    }

    /// Stores `given` as `part`. A peer must be assigned (400 otherwise).
    pub fn set(&mut self, part: &Part, given: Given) -> Result<(), FieldError> {
        match part {
            Part::Self_ => self.self_rating = Some(given),
            Part::Supervisor => self.supervisor = Some(given),
            Part::Peer(n) => {
                if !self.peers_assigned.contains(n) {
                    return Err(FieldError::new(
                        "rater",
                        format!("`{n}` is not assigned to rate this employee for this period"),
                    ));
                }
                self.peers.insert(n.clone(), given);
            }
        }
        Ok(())
    }

    /// What the audit keeps of a change: the one part written, or the peer assignment.
    pub fn audited(&self, part: Option<&Part>) -> serde_json::Value {
        match part {
            Some(p) => serde_json::to_value(self.get(p)).unwrap_or_default(),
            None => serde_json::to_value(&self.peers_assigned).unwrap_or_default(),
        }
    }

    /// Assigns the peer raters. A changed list drops every peer rating given so far: the
    /// mean over the old list next to the mean over a new one would give away the rating of
    /// whoever was added or removed.
    pub fn assign(&mut self, raters: Vec<String>) {
        let set = |v: &[String]| v.iter().cloned().collect::<std::collections::BTreeSet<_>>();
        if set(&raters) != set(&self.peers_assigned) {
            self.peers.clear();
        }
        self.peers_assigned = raters;
    }

    /// The mean of the assigned peers' ratings per value (rounded to two decimals), with how
    /// many rated: what the employee rated sees, without who gave which.
    pub fn peer_mean(&self) -> Option<PeerMean> {
        let given: Vec<&Ratings> = self
            .peers
            .iter()
            .filter(|(n, _)| self.peers_assigned.contains(n))
            .map(|(_, g)| &g.ratings)
            .collect();
        if given.is_empty() {
            return None;
        }
        let mut mean = BTreeMap::new();
        for (i, (name, _)) in given[0].values().iter().enumerate() {
            let sum: f64 = given.iter().map(|r| f64::from(r.values()[i].1)).sum();
            mean.insert(
                (*name).to_string(),
                (sum / given.len() as f64 * 100.0).round() / 100.0,
            );
        }
        Some(PeerMean {
            raters: given.len(),
            mean,
        })
    }
}

/// Checks a list of peer raters: 1–5 distinct NIPs, neither the employee rated nor their
/// supervisor (`excluded`: a supervisor among the peers would see the mean and their own
/// rating, and so the others').
pub fn validate_peers(
    raters: &[String],
    rated: &str,
    excluded: Option<&str>,
) -> Result<(), FieldError> {
    super::check(
        (PEERS_MIN..=PEERS_MAX).contains(&raters.len()),
        "raters",
        format!("{PEERS_MIN}–{PEERS_MAX} peer raters"),
    )?;
    for (i, n) in raters.iter().enumerate() {
        super::nip::Nip::parse(n).map_err(|m| FieldError::new(format!("raters[{i}]"), m))?;
        super::check(
            n != rated,
            &format!("raters[{i}]"),
            "an employee does not rate themselves as a peer",
        )?;
        super::check(
            Some(n.as_str()) != excluded,
            &format!("raters[{i}]"),
            "the employee's supervisor rates as the supervisor, not as a peer",
        )?;
        super::check(
            !raters[..i].contains(n),
            &format!("raters[{i}]"),
            format!("`{n}` is named twice"),
        )?;
    }
    Ok(())
}

/// The peers' ratings as the rated employee sees them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PeerMean {
    pub raters: usize,
    /// Each value's mean, 1–5, two decimals.
    pub mean: BTreeMap<String, f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(v: u8) -> Ratings {
        Ratings {
            berorientasi_pelayanan: v,
            akuntabel: v,
            kompeten: v,
            harmonis: v,
            loyal: v,
            adaptif: 5,
            kolaboratif: v,
        }
    }

    fn given(v: u8) -> Given {
        Given {
            ratings: r(v),
            by: "t".into(),
            at: "now".into(),
        }
    }

    #[test]
    fn raters_apply_over_the_agency_and_peers_are_averaged() {
        let mut raters = Raters::default();
        assert!(raters.is_empty());
        assert!(raters.set(&Part::Peer("a".into()), given(3)).is_err());
        raters.assign(vec!["a".into(), "b".into()]);
        raters.set(&Part::Peer("a".into()), given(3)).unwrap();
        raters.set(&Part::Peer("b".into()), given(4)).unwrap();
        raters.set(&Part::Supervisor, given(5)).unwrap();
        let mut b = Behavior {
            supervisor: Some(r(1)),
            peers: vec![r(2)],
            self_rating: None,
        };
        raters.apply(&mut b);
        assert_eq!(b.supervisor, Some(r(5)));
        assert_eq!(b.peers, vec![r(2), r(3), r(4)]);
        assert_eq!(b.self_rating, None);
        let m = raters.peer_mean().unwrap();
        assert_eq!(m.raters, 2);
        assert_eq!(m.mean["akuntabel"], 3.5);
        assert_eq!(m.mean["adaptif"], 5.0);
        // The same list again keeps the ratings; another list starts over.
        raters.assign(vec!["b".into(), "a".into()]);
        assert_eq!(
            raters.peer_mean().unwrap().raters,
            2,
            "the same peers in another order"
        );
        raters.assign(vec!["b".into()]);
        assert!(raters.peer_mean().is_none());
    }

    #[test]
    fn peer_lists() {
        let me = "198503122010011001";
        let other = "199001012015012002";
        assert!(validate_peers(&[other.into()], me, None).is_ok());
        assert!(validate_peers(&[other.into()], me, Some(other)).is_err());
        assert!(validate_peers(&[], me, None).is_err());
        assert!(validate_peers(&[me.into()], me, None).is_err());
        assert!(validate_peers(&[other.into(), other.into()], me, None).is_err());
        assert!(validate_peers(&vec![other.to_string(); 6], me, None).is_err());
        assert!(validate_peers(&["12".into()], me, None).is_err());
    }
}
