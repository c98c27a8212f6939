//! The distribution quotas of SE MenPANRB 3/2023: how an agency's organisational predikat bounds
//! the predikat its employees may get. Pure rules, no I/O, so every rule can be tested on its
//! own and the API only reports what these functions decide.
//!
//! Percentages are compared in integers (`count * 100` against `limit * appraised`): a float
//! share of 0.7 is not exactly 70%, and "at most 70%" must hold at exactly 70%.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The predikat of the agency as a whole for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrgPredikat {
    Istimewa,
    Baik,
    ButuhPerbaikan,
    Kurang,
    SangatKurang,
}

/// The predikat kinerja of one employee (PermenPANRB 6/2022), as the appraise hook writes it:
/// the ABI's own type.
pub use kinerja_abi::Predikat;

/// How many appraised employees got each predikat.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub sangat_baik: u64,
    pub baik: u64,
    pub butuh_perbaikan: u64,
    pub kurang: u64,
    pub sangat_kurang: u64,
}

impl Counts {
    pub fn get(&self, p: Predikat) -> u64 {
        match p {
            Predikat::SangatBaik => self.sangat_baik,
            Predikat::Baik => self.baik,
            Predikat::ButuhPerbaikan => self.butuh_perbaikan,
            Predikat::Kurang => self.kurang,
            Predikat::SangatKurang => self.sangat_kurang,
        }
    }

    pub fn add(&mut self, p: Predikat) {
        let n = match p {
            Predikat::SangatBaik => &mut self.sangat_baik,
            Predikat::Baik => &mut self.baik,
            Predikat::ButuhPerbaikan => &mut self.butuh_perbaikan,
            Predikat::Kurang => &mut self.kurang,
            Predikat::SangatKurang => &mut self.sangat_kurang,
        };
        *n += 1;
    }

    pub fn total(&self) -> u64 {
        Predikat::ALL.iter().map(|p| self.get(*p)).sum()
    }

    /// Each predikat's share in percent (0–100) of the appraised; `None` with nobody appraised,
    /// where a share has no meaning.
    pub fn shares(&self) -> Option<Shares> {
        let total = self.total();
        let pct = |p| percent(self.get(p), total);
        Some(Shares {
            sangat_baik: pct(Predikat::SangatBaik)?,
            baik: pct(Predikat::Baik)?,
            butuh_perbaikan: pct(Predikat::ButuhPerbaikan)?,
            kurang: pct(Predikat::Kurang)?,
            sangat_kurang: pct(Predikat::SangatKurang)?,
        })
    }
}

/// Percent (0–100, not fractions) of the appraised employees per predikat; for display only,
/// quotas are decided on the counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Shares {
    pub sangat_baik: f64,
    pub baik: f64,
    pub butuh_perbaikan: f64,
    pub kurang: f64,
    pub sangat_kurang: f64,
}

fn percent(count: u64, total: u64) -> Option<f64> {
    (total > 0).then(|| (count as f64) * 100.0 / (total as f64))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    AtMost,
    AtLeast,
}

/// A limit is a share of the appraised or a head count; the SE uses both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limit {
    Percent(u64),
    Count(u64),
}

struct Rule {
    predikat: &'static [Predikat],
    bound: Bound,
    limit: Limit,
}

const fn rule(predikat: &'static [Predikat], bound: Bound, limit: Limit) -> Rule {
    Rule {
        predikat,
        bound,
        limit,
    }
}

use Bound::{AtLeast, AtMost};
use Limit::{Count, Percent};
use Predikat as E;

/// The SE's table. "At least one Butuh Perbaikan or Kurang" is a head count over the two
/// predikat together; "no Sangat Baik" is at most zero heads, so it holds with nobody appraised.
fn rules(org: OrgPredikat) -> &'static [Rule] {
    const ISTIMEWA: &[Rule] = &[rule(&[E::SangatBaik], AtMost, Percent(70))];
    const BAIK: &[Rule] = &[
        rule(&[E::Baik], AtMost, Percent(70)),
        rule(&[E::ButuhPerbaikan, E::Kurang], AtLeast, Count(1)),
    ];
    const BUTUH_PERBAIKAN: &[Rule] = &[
        rule(&[E::ButuhPerbaikan], AtLeast, Percent(60)),
        rule(&[E::SangatBaik], AtMost, Percent(10)),
    ];
    const KURANG: &[Rule] = &[
        rule(&[E::Kurang], AtLeast, Percent(60)),
        rule(&[E::ButuhPerbaikan], AtLeast, Percent(10)),
        rule(&[E::SangatBaik], AtMost, Percent(10)),
    ];
    const SANGAT_KURANG: &[Rule] = &[
        rule(&[E::SangatKurang], AtLeast, Percent(60)),
        rule(&[E::Kurang, E::ButuhPerbaikan], AtLeast, Percent(10)),
        rule(&[E::SangatBaik], AtMost, Count(0)),
    ];
    match org {
        OrgPredikat::Istimewa => ISTIMEWA,
        OrgPredikat::Baik => BAIK,
        OrgPredikat::ButuhPerbaikan => BUTUH_PERBAIKAN,
        OrgPredikat::Kurang => KURANG,
        OrgPredikat::SangatKurang => SANGAT_KURANG,
    }
}

/// One quota of the SE checked against the actual distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Quota {
    /// The rule in words, e.g. `at most 70% sangat_baik`, `at least one butuh_perbaikan or kurang`.
    pub rule: String,
    /// The predikat counted together by this rule.
    pub predikat: Vec<Predikat>,
    pub bound: Bound,
    /// Set for a share of the appraised (percent, 0–100); null for a head count.
    pub limit_percent: Option<u64>,
    /// Set for a head count; null for a share.
    pub limit_count: Option<u64>,
    /// Appraised employees with one of `predikat`.
    pub actual_count: u64,
    /// `actual_count` in percent of the appraised; null when nobody is appraised.
    pub actual_percent: Option<f64>,
    /// A share of nobody cannot be judged: with no employee appraised, share rules are reported
    /// not met (with `actual_percent` null) rather than passed, so no one reads an empty agency
    /// as compliant.
    pub met: bool,
    pub message: String,
}

/// Every quota of `org` checked against `counts`, in the SE's order.
pub fn check(org: OrgPredikat, counts: &Counts) -> Vec<Quota> {
    let total = counts.total();
    rules(org)
        .iter()
        .map(|r| {
            let actual = r.predikat.iter().map(|p| counts.get(*p)).sum::<u64>();
            let names = r
                .predikat
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(" or ");
            let rule_text = match (r.bound, r.limit) {
                (AtMost, Count(0)) => format!("no {names}"),
                (AtLeast, Count(1)) => format!("at least one {names}"),
                (b, Count(n)) => format!("{} {n} {names}", bound_words(b)),
                (b, Percent(p)) => format!("{} {p}% {names}", bound_words(b)),
            };
            let met = match (r.bound, r.limit) {
                (_, Percent(_)) if total == 0 => false,
                (AtMost, Percent(p)) => actual * 100 <= p * total,
                (AtLeast, Percent(p)) => actual * 100 >= p * total,
                (AtMost, Count(n)) => actual <= n,
                (AtLeast, Count(n)) => actual >= n,
            };
            let message = message(&rule_text, met, actual, total, r);
            Quota {
                rule: rule_text,
                predikat: r.predikat.to_vec(),
                bound: r.bound,
                limit_percent: match r.limit {
                    Percent(p) => Some(p),
                    Count(_) => None,
                },
                limit_count: match r.limit {
                    Count(n) => Some(n),
                    Percent(_) => None,
                },
                actual_count: actual,
                actual_percent: percent(actual, total),
                met,
                message,
            }
        })
        .collect()
}

fn bound_words(b: Bound) -> &'static str {
    match b {
        AtMost => "at most",
        AtLeast => "at least",
    }
}

fn message(rule: &str, met: bool, actual: u64, total: u64, r: &Rule) -> String {
    if total == 0 && matches!(r.limit, Percent(_)) {
        return format!(
            "{rule}: cannot be evaluated, no employee has a stored predikat for the period"
        );
    }
    let share = percent(actual, total)
        .map(|p| format!(" ({p:.1}%)"))
        .unwrap_or_default();
    let verdict = match (met, r.bound) {
        (true, _) => "met",
        (false, AtMost) => "broken: too many",
        (false, AtLeast) => "broken: too few",
    };
    format!("{rule}: {verdict}, {actual} of {total} appraised{share}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts in the order sangat_baik, baik, butuh_perbaikan, kurang, sangat_kurang.
    fn c(n: [u64; 5]) -> Counts {
        Counts {
            sangat_baik: n[0],
            baik: n[1],
            butuh_perbaikan: n[2],
            kurang: n[3],
            sangat_kurang: n[4],
        }
    }

    /// Whether the rule named `rule` of `org` is met for `counts`.
    fn met(org: OrgPredikat, rule: &str, counts: [u64; 5]) -> bool {
        let qs = check(org, &c(counts));
        let q = qs
            .iter()
            .find(|q| q.rule == rule)
            .unwrap_or_else(|| panic!("no rule `{rule}` in {qs:?}"));
        q.met
    }

    #[test]
    fn rules_per_org_predikat() {
        let rules = |org| {
            check(org, &c([1, 1, 1, 1, 1]))
                .into_iter()
                .map(|q| q.rule)
                .collect::<Vec<_>>()
        };
        assert_eq!(rules(OrgPredikat::Istimewa), ["at most 70% sangat_baik"]);
        assert_eq!(
            rules(OrgPredikat::Baik),
            ["at most 70% baik", "at least one butuh_perbaikan or kurang"]
        );
        assert_eq!(
            rules(OrgPredikat::ButuhPerbaikan),
            ["at least 60% butuh_perbaikan", "at most 10% sangat_baik"]
        );
        assert_eq!(
            rules(OrgPredikat::Kurang),
            [
                "at least 60% kurang",
                "at least 10% butuh_perbaikan",
                "at most 10% sangat_baik"
            ]
        );
        assert_eq!(
            rules(OrgPredikat::SangatKurang),
            [
                "at least 60% sangat_kurang",
                "at least 10% kurang or butuh_perbaikan",
                "no sangat_baik"
            ]
        );
    }

    #[test]
    fn istimewa_at_most_70_sangat_baik() {
        let org = OrgPredikat::Istimewa;
        let r = "at most 70% sangat_baik";
        assert!(met(org, r, [7, 3, 0, 0, 0]), "exactly 70% is met");
        assert!(!met(org, r, [71, 29, 0, 0, 0]), "71% is broken");
        assert!(!met(org, r, [1, 0, 0, 0, 0]));
    }

    #[test]
    fn baik_at_most_70_baik() {
        let org = OrgPredikat::Baik;
        let r = "at most 70% baik";
        assert!(met(org, r, [2, 7, 1, 0, 0]), "exactly 70% is met");
        assert!(!met(org, r, [0, 8, 2, 0, 0]));
        // 7 of 9 is 77.8%: a float share rounded to one digit would still look over.
        assert!(!met(org, r, [1, 7, 1, 0, 0]));
    }

    #[test]
    fn baik_at_least_one_butuh_perbaikan_or_kurang() {
        let org = OrgPredikat::Baik;
        let r = "at least one butuh_perbaikan or kurang";
        assert!(met(org, r, [3, 6, 1, 0, 0]));
        assert!(met(org, r, [3, 6, 0, 1, 0]));
        assert!(!met(org, r, [3, 6, 0, 0, 0]));
        // Sangat Kurang is not one of the two the SE names.
        assert!(!met(org, r, [3, 6, 0, 0, 1]));
        // A head count does not need anyone appraised to be judged: nobody is fewer than one.
        assert!(!met(org, r, [0, 0, 0, 0, 0]));
    }

    #[test]
    fn butuh_perbaikan_rules() {
        let org = OrgPredikat::ButuhPerbaikan;
        let r = "at least 60% butuh_perbaikan";
        assert!(met(org, r, [0, 4, 6, 0, 0]), "exactly 60% is met");
        assert!(!met(org, r, [0, 41, 59, 0, 0]));
        let r = "at most 10% sangat_baik";
        assert!(met(org, r, [1, 2, 7, 0, 0]), "exactly 10% is met");
        assert!(!met(org, r, [2, 1, 7, 0, 0]));
    }

    #[test]
    fn kurang_rules() {
        let org = OrgPredikat::Kurang;
        let r = "at least 60% kurang";
        assert!(met(org, r, [0, 0, 4, 6, 0]), "exactly 60% is met");
        assert!(!met(org, r, [0, 1, 4, 5, 0]));
        let r = "at least 10% butuh_perbaikan";
        assert!(met(org, r, [0, 3, 1, 6, 0]), "exactly 10% is met");
        assert!(!met(org, r, [0, 4, 0, 6, 0]));
        assert!(!met(org, r, [0, 0, 9, 91, 0]), "9% is broken");
        let r = "at most 10% sangat_baik";
        assert!(met(org, r, [1, 0, 3, 6, 0]), "exactly 10% is met");
        assert!(!met(org, r, [2, 0, 2, 6, 0]));
    }

    #[test]
    fn sangat_kurang_rules() {
        let org = OrgPredikat::SangatKurang;
        let r = "at least 60% sangat_kurang";
        assert!(met(org, r, [0, 0, 0, 4, 6]), "exactly 60% is met");
        assert!(!met(org, r, [0, 0, 1, 4, 5]));
        let r = "at least 10% kurang or butuh_perbaikan";
        assert!(met(org, r, [0, 3, 0, 1, 6]), "exactly 10% (kurang) is met");
        assert!(
            met(org, r, [0, 3, 1, 0, 6]),
            "exactly 10% (butuh_perbaikan) is met"
        );
        assert!(!met(org, r, [0, 4, 0, 0, 6]));
        assert!(met(org, r, [0, 0, 5, 5, 90]), "the two count together");
        assert!(!met(org, r, [0, 1, 0, 9, 90]), "9% is broken");
        let r = "no sangat_baik";
        assert!(met(org, r, [0, 4, 0, 0, 6]));
        assert!(!met(org, r, [1, 3, 0, 0, 6]));
        assert!(
            met(org, r, [0, 0, 0, 0, 0]),
            "nobody appraised has no sangat_baik"
        );
    }

    #[test]
    fn nobody_appraised_fails_share_rules_with_a_reason() {
        let zero = c([0; 5]);
        assert_eq!(zero.shares(), None);
        for org in [
            OrgPredikat::Istimewa,
            OrgPredikat::Baik,
            OrgPredikat::ButuhPerbaikan,
            OrgPredikat::Kurang,
            OrgPredikat::SangatKurang,
        ] {
            for q in check(org, &zero) {
                assert_eq!(q.actual_percent, None);
                if q.limit_percent.is_some() {
                    assert!(!q.met, "{org:?}: {}", q.rule);
                    assert!(q.message.contains("cannot be evaluated"), "{}", q.message);
                }
            }
        }
    }

    #[test]
    fn report_fields() {
        let qs = check(OrgPredikat::Istimewa, &c([8, 2, 0, 0, 0]));
        let q = &qs[0];
        assert_eq!(q.predikat, [Predikat::SangatBaik]);
        assert_eq!(q.bound, Bound::AtMost);
        assert_eq!((q.limit_percent, q.limit_count), (Some(70), None));
        assert_eq!((q.actual_count, q.actual_percent), (8, Some(80.0)));
        assert!(!q.met);
        assert_eq!(
            q.message,
            "at most 70% sangat_baik: broken: too many, 8 of 10 appraised (80.0%)"
        );
        let qs = check(OrgPredikat::Baik, &c([0, 1, 0, 0, 0]));
        assert_eq!((qs[1].limit_percent, qs[1].limit_count), (None, Some(1)));
        let s = c([1, 1, 2, 0, 0]).shares().unwrap();
        assert_eq!((s.sangat_baik, s.butuh_perbaikan), (25.0, 50.0));
        let json = serde_json::to_value(&qs[1]).unwrap();
        assert_eq!(json["bound"], "at_least");
        assert_eq!(json["predikat"][0], "butuh_perbaikan");
    }

    #[test]
    fn predikat_strings() {
        for p in Predikat::ALL {
            assert_eq!(Predikat::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert_eq!(Predikat::parse("cukup"), None);
        let o: OrgPredikat = serde_json::from_str("\"butuh_perbaikan\"").unwrap();
        assert_eq!(o, OrgPredikat::ButuhPerbaikan);
    }
}
