//! The demo dataset: three regions with agencies, positions, 240 employees each, a year of
//! period records and daily reports. Seeded, so every start produces the same data and the
//! README's examples stay true. It goes through the same validation as the API.

use crate::api::AppState;
use crate::domain::date::{weekdays_between, Date};
use crate::domain::nip::Nip;
use crate::domain::period::Period;
use crate::domain::records::*;
use crate::domain::region::{RegionInput, RegionLevel};
use crate::domain::reporting::{ReportState, TimeZone};
use crate::domain::skp::Skp;
use crate::store::{Result, Store, StoreError};
use std::collections::BTreeMap;

/// The demo's appraisal year: the last complete one.
pub const DEMO_YEAR: i32 = 2025;
/// Employees per region.
pub const EMPLOYEES_PER_REGION: usize = 240;

/// Seeded, so the demo is the same data in every run.
type Rng = kinerja_abi::rng::SplitMix64;

fn agencies(region: &str) -> Vec<(&'static str, &'static str, &'static str)> {
    // (id, name, technical competency)
    match region {
        "jambi" => vec![
            (
                "dinas-pendidikan",
                "Dinas Pendidikan Provinsi Jambi",
                "teknis.pendidikan",
            ),
            (
                "dinas-kesehatan",
                "Dinas Kesehatan Provinsi Jambi",
                "teknis.kesehatan",
            ),
            (
                "diskominfo",
                "Dinas Komunikasi dan Informatika Provinsi Jambi",
                "teknis.informatika",
            ),
        ],
        "jakarta" => vec![
            (
                "dinas-pendidikan",
                "Dinas Pendidikan Provinsi DKI Jakarta",
                "teknis.pendidikan",
            ),
            (
                "dinas-kesehatan",
                "Dinas Kesehatan Provinsi DKI Jakarta",
                "teknis.kesehatan",
            ),
            (
                "diskominfotik",
                "Dinas Komunikasi, Informatika dan Statistik",
                "teknis.informatika",
            ),
            (
                "dukcapil",
                "Dinas Kependudukan dan Pencatatan Sipil",
                "teknis.kependudukan",
            ),
        ],
        _ => vec![
            (
                "kantor-camat",
                "Kantor Camat Tenayan Raya",
                "teknis.pemerintahan",
            ),
            (
                "kelurahan-rejosari",
                "Kantor Lurah Rejosari",
                "teknis.pemerintahan",
            ),
            (
                "kelurahan-bencah-lesung",
                "Kantor Lurah Bencah Lesung",
                "teknis.pemerintahan",
            ),
            (
                "puskesmas-rejosari",
                "UPT Puskesmas Rejosari",
                "teknis.kesehatan",
            ),
        ],
    }
}

/// A position template: (suffix, title, kind, level, capacity, required managerial
/// competencies with levels).
type Template = (
    &'static str,
    &'static str,
    PositionKind,
    u8,
    u32,
    &'static [(&'static str, u8)],
);

const POSITIONS: [Template; 7] = [
    (
        "kepala",
        "Kepala",
        PositionKind::Struktural,
        5,
        1,
        &[
            ("integritas", 4),
            ("pengambilan_keputusan", 4),
            ("komunikasi", 4),
        ],
    ),
    (
        "kepala-bidang",
        "Kepala Bidang",
        PositionKind::Struktural,
        4,
        3,
        &[
            ("integritas", 4),
            ("kerja_sama", 3),
            ("pengambilan_keputusan", 3),
        ],
    ),
    (
        "kepala-seksi",
        "Kepala Seksi",
        PositionKind::Struktural,
        3,
        6,
        &[("integritas", 3), ("kerja_sama", 3), ("orientasi_hasil", 3)],
    ),
    (
        "analis-ahli-muda",
        "Analis Kebijakan Ahli Muda",
        PositionKind::Fungsional,
        3,
        12,
        &[("integritas", 3), ("komunikasi", 3)],
    ),
    (
        "pranata-ahli-pertama",
        "Pranata Ahli Pertama",
        PositionKind::Fungsional,
        2,
        24,
        &[("integritas", 3), ("orientasi_hasil", 2)],
    ),
    (
        "pengelola-layanan",
        "Pengelola Layanan",
        PositionKind::Pelaksana,
        2,
        24,
        &[("pelayanan_publik", 3), ("kerja_sama", 2)],
    ),
    (
        "pengadministrasi",
        "Pengadministrasi Umum",
        PositionKind::Pelaksana,
        1,
        30,
        &[("integritas", 2), ("kerja_sama", 2)],
    ),
];

/// The chart of every demo agency: Kepala Dinas → Kepala Bidang → Kepala Seksi → the
/// functional and administrative staff. The templates come in that order, so a parent is
/// stored before the positions under it.
fn parent_of(suffix: &str) -> Option<&'static str> {
    match suffix {
        "kepala" => None,
        "kepala-bidang" => Some("kepala"),
        "kepala-seksi" => Some("kepala-bidang"),
        _ => Some("kepala-seksi"),
    }
}

/// The workload analysis (analisis beban kerja) the demo gives two positions of every agency:
/// Pengelola Layanan and Analis Kebijakan Ahli Muda. `agency` (its index in the region) scales
/// the volumes, so some agencies need more staff than they have and others fewer. The other
/// positions have none, and keep their capacity as their need.
fn tasks(suffix: &str, agency: usize) -> Vec<Task> {
    let scale = [1.25, 0.8, 1.2, 0.6][agency % 4];
    let t = |task: &str, unit: &str, volume: f64, minutes: f64| Task {
        task: task.into(),
        unit: unit.into(),
        volume: (volume * scale).round(),
        minutes,
    };
    match suffix {
        "pengelola-layanan" => vec![
            t(
                "Melayani permohonan masyarakat",
                "permohonan",
                31_200.0,
                30.0,
            ),
            t(
                "Memverifikasi berkas administrasi",
                "berkas",
                23_400.0,
                20.0,
            ),
            t("Menyusun laporan layanan bulanan", "laporan", 12.0, 480.0),
        ],
        "analis-ahli-muda" => vec![
            t("Menyusun kajian kebijakan", "kajian", 40.0, 9_000.0),
            t(
                "Menyusun rekomendasi kebijakan",
                "rekomendasi",
                120.0,
                2_400.0,
            ),
            t(
                "Mengevaluasi pelaksanaan kebijakan",
                "laporan",
                24.0,
                4_800.0,
            ),
        ],
        _ => Vec::new(),
    }
}

const NAMES: [&str; 24] = [
    "Ahmad", "Siti", "Budi", "Dewi", "Rahmat", "Nurul", "Agus", "Rina", "Hendra", "Fitri", "Joko",
    "Lestari", "Yusuf", "Ayu", "Irfan", "Wulan", "Dedi", "Putri", "Fajar", "Indah", "Taufik",
    "Maya", "Arif", "Sri",
];
const SURNAMES: [&str; 16] = [
    "Saputra",
    "Lubis",
    "Siregar",
    "Nasution",
    "Hidayat",
    "Pratama",
    "Wijaya",
    "Harahap",
    "Kurniawan",
    "Santoso",
    "Rahman",
    "Simanjuntak",
    "Putra",
    "Handayani",
    "Sari",
    "Hasibuan",
];
const ACTIVITIES: [&str; 8] = [
    "Menyusun laporan kegiatan",
    "Melayani permohonan masyarakat",
    "Rapat koordinasi bidang",
    "Verifikasi berkas administrasi",
    "Memutakhirkan data layanan",
    "Menyusun rencana kerja",
    "Monitoring dan evaluasi program",
    "Pendampingan teknis unit kerja",
];

fn ratings(rng: &mut Rng, mean: f64) -> Ratings {
    let mut v = [0u8; 7];
    for x in &mut v {
        *x = rng.normal(mean, 0.6).round().clamp(1.0, 5.0) as u8;
    }
    Ratings {
        berorientasi_pelayanan: v[0],
        akuntabel: v[1],
        kompeten: v[2],
        harmonis: v[3],
        loyal: v[4],
        adaptif: v[5],
        kolaboratif: v[6],
    }
}

fn nip(rng: &mut Rng, seq: usize) -> String {
    loop {
        let by = rng.range(1966, 1998) as i32;
        let bm = rng.range(1, 12) as u32;
        let bd = rng.range(1, 28) as u32;
        let ay = (by + rng.range(22, 32) as i32).min(2024);
        let am = rng.range(1, 12) as u32;
        let sex = rng.range(1, 2);
        let s = format!("{by:04}{bm:02}{bd:02}{ay:04}{am:02}{sex}{:03}", seq % 1000);
        if Nip::parse(&s).is_ok() {
            return s;
        }
    }
}

/// The demo's regions: id, name, level and time zone. (Kinerja itself lists none: a region
/// exists once an admin writes it.)
pub const DEMO_REGIONS: [(&str, &str, RegionLevel, TimeZone); 3] = [
    (
        "jambi",
        "Provinsi Jambi",
        RegionLevel::Provinsi,
        TimeZone::Wib,
    ),
    (
        "jakarta",
        "Provinsi DKI Jakarta",
        RegionLevel::Provinsi,
        TimeZone::Wib,
    ),
    (
        "tenayan-raya",
        "Kecamatan Tenayan Raya, Kota Pekanbaru",
        RegionLevel::Kecamatan,
        TimeZone::Wib,
    ),
];

/// Creates the demo's regions where they do not exist yet.
pub fn create_regions(store: &Store) -> Result<()> {
    for (id, name, level, time_zone) in DEMO_REGIONS {
        match store.require_region(id) {
            Ok(()) => continue,
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let input = RegionInput {
            name: name.into(),
            level,
            time_zone,
        };
        store.put_region(id, input, "demo")?;
    }
    Ok(())
}

/// Loads the demo into an empty store, its regions first (a no-op when the first region
/// already has agencies).
pub fn load_records(store: &Store) -> Result<bool> {
    create_regions(store)?;
    if !store.agencies("jambi", None, 1)?.items.is_empty() {
        return Ok(false);
    }
    for (ri, (region, ..)) in DEMO_REGIONS.iter().enumerate() {
        load_region(store, region, 0x6B69_6E65_726A_6100 + ri as u64)?;
    }
    Ok(true)
}

fn load_region(store: &Store, region: &str, seed: u64) -> Result<()> {
    let mut rng = Rng::new(seed);
    let agencies = agencies(region);
    let mut slots: Vec<(String, String, BTreeMap<String, u8>, u32)> = Vec::new();
    for (ai, (aid, name, tech)) in agencies.iter().enumerate() {
        let input = AgencyInput {
            name: name.to_string(),
        };
        input.validate()?;
        store.upsert_agency(region, aid, input)?;
        for (suffix, title, kind, level, cap, req) in POSITIONS {
            let mut required: BTreeMap<String, u8> =
                req.iter().map(|(c, l)| (c.to_string(), *l)).collect();
            if kind != PositionKind::Pelaksana || level > 1 {
                required.insert(tech.to_string(), level.clamp(2, 4));
            }
            let input = PositionInput {
                title: format!("{title} {name}").chars().take(120).collect(),
                agency: aid.to_string(),
                kind,
                level,
                required: required.clone(),
                capacity: cap,
                tasks: tasks(suffix, ai),
                parent: parent_of(suffix).map(|p| format!("{aid}-{p}")),
            };
            input.validate()?;
            let id = format!("{aid}-{suffix}");
            store.upsert_position(region, &id, input)?;
            slots.push((id, aid.to_string(), required, cap));
        }
    }
    // Fill seats, leaving vacancies: walk positions round-robin until the quota is met.
    let mut holders: Vec<(String, String, BTreeMap<String, u8>)> = Vec::new();
    let mut filled = vec![0u32; slots.len()];
    let mut i = 0;
    while holders.len() < EMPLOYEES_PER_REGION {
        let k = i % slots.len();
        i += 1;
        let (id, agency, req, cap) = &slots[k];
        // Keep about one seat in eight free so rotations have somewhere to go.
        if filled[k]
            < cap
                .saturating_sub(cap / 8)
                .max(if *cap == 1 { 1 } else { 0 })
        {
            filled[k] += 1;
            holders.push((id.clone(), agency.clone(), req.clone()));
        }
        if i > 100_000 {
            break;
        }
    }
    let year = Period::Year(DEMO_YEAR);
    let working = weekdays_between(year.start(), year.end());
    let mut skps = Vec::new();
    for (n, (position, agency, req)) in holders.into_iter().enumerate() {
        let nip = nip(&mut rng, n + 1);
        let parsed = Nip::parse(&nip).map_err(|m| crate::domain::FieldError::new("nip", m))?;
        let name = format!("{} {}", rng.pick(&NAMES), rng.pick(&SURNAMES));
        // Tenure from a few months to nine years, so every rotation rule has someone; never
        // before the appointment month the NIP gives (digits 9–14): someone appointed in
        // 2022 starts their current position somewhere between then and two months ago.
        let end = Date::new(2025, 12, 31).map(|d| d.to_days()).unwrap_or(0);
        // The spread within the room left is taken from the draw itself, not a new one, so the
        // rest of the seeded sequence (and the demo built from it) is not shifted.
        let raw = end - rng.range(60, 3300);
        let appointed = parsed.appointment_start().unwrap_or(Date::from_days(raw));
        let since = if raw < appointed.to_days() {
            let room = (end - 60 - appointed.to_days()).max(0);
            Date::from_days(appointed.to_days() + (appointed.to_days() - raw) % (room + 1))
        } else {
            Date::from_days(raw)
        };
        let mut competencies: BTreeMap<String, u8> = req
            .iter()
            .map(|(c, l)| {
                (
                    c.clone(),
                    (i64::from(*l) + rng.range(-1, 1)).clamp(1, 5) as u8,
                )
            })
            .collect();
        if rng.chance(0.2) {
            // Missing competencies show up as gaps in the job-person match.
            if let Some(k) = competencies.keys().next().cloned() {
                competencies.remove(&k);
            }
        }
        competencies.insert("komunikasi".into(), rng.range(2, 5) as u8);
        let potential = match rng.below(10) {
            0..=2 => Some(Potential::Tinggi),
            3..=6 => Some(Potential::Menengah),
            7..=8 => Some(Potential::Rendah),
            _ => None,
        };
        let mut input = EmployeeInput {
            name,
            agency: agency.clone(),
            position_id: position.clone(),
            position_since: since,
            competencies,
            potential,
            declined_rotation: rng.chance(0.08),
            supervisor_nip: None,
            service_unit: None,
        };
        input.validate(&parsed)?;
        if rng.chance(0.25) && since.year > 2018 {
            // An earlier position in the same agency, so the history is not empty; it too
            // starts no earlier than the appointment month.
            let mut first = input.clone();
            first.position_id = format!("{agency}-pengadministrasi");
            first.position_since =
                Date::from_days(since.to_days() - rng.range(400, 1500)).max(appointed);
            if first.position_id != position && first.position_since < since {
                first.validate(&parsed)?;
                store.upsert_employee(region, &nip, first, None)?;
            }
        }
        input.position_since = since;
        store.upsert_employee(region, &nip, input, None)?;
        period_and_reports(store, region, &nip, &mut rng, (year, working), &mut skps)?;
    }
    // Every SKP of the region in one commit.
    store.seed_skps(&skps)?;
    Ok(())
}

/// The employee's annual record and reports, stored; their SKP added to `skps`.
fn period_and_reports(
    store: &Store,
    region: &str,
    nip: &str,
    rng: &mut Rng,
    (year, working): (Period, u32),
    skps: &mut Vec<Skp>,
) -> Result<()> {
    // About 4% have no period record and 3% no supervisor ratings: the appraisal skips them.
    if rng.chance(0.04) {
        return Ok(());
    }
    // One performance factor drives results, behaviour and diligence, as in real teams.
    let perf = match rng.below(20) {
        0 => rng.normal(0.65, 0.08),     // poor
        1..=3 => rng.normal(1.15, 0.05), // excellent
        _ => rng.normal(0.98, 0.08),
    };
    let mut indicators = Vec::new();
    let n_ind = rng.range(2, 4);
    for k in 0..n_ind {
        let lower = k == n_ind - 1 && rng.chance(0.3);
        let target = rng.range(4, 48) as f64;
        let ratio = (perf + rng.normal(0.0, 0.05)).max(0.1);
        let realization = if lower {
            target * (2.0 - ratio).max(0.1)
        } else {
            target * ratio
        };
        let realization = (realization * 10.0).round() / 10.0;
        indicators.push(Indicator {
            id: format!("iki-{}", k + 1),
            name: format!("Indikator kinerja {}", k + 1),
            kind: if k == 0 || rng.chance(0.5) {
                IndicatorKind::Utama
            } else {
                IndicatorKind::Tambahan
            },
            direction: if lower {
                Direction::LowerIsBetter
            } else {
                Direction::HigherIsBetter
            },
            unit: if lower {
                "hari".into()
            } else {
                rng.pick(&["dokumen", "kegiatan", "laporan", "layanan"])
                    .to_string()
            },
            target,
            realization: if rng.chance(0.03) {
                None
            } else {
                Some(realization)
            },
            weight: rng.range(1, 3) as f64,
            evidence: None,
        });
    }
    let mean = (3.9 + (perf - 1.0) * 4.0).clamp(1.5, 4.9);
    let supervisor = if rng.chance(0.03) {
        None
    } else {
        Some(ratings(rng, mean))
    };
    let peers = if region == "tenayan-raya" || rng.chance(0.2) {
        (0..rng.range(1, 3)).map(|_| ratings(rng, mean)).collect()
    } else {
        Vec::new()
    };
    let self_rating = if rng.chance(0.7) {
        let m = (mean + rng.normal(0.4, 0.4)).min(5.0);
        Some(ratings(rng, m))
    } else {
        None
    };
    let innovations = if perf > 1.05 && rng.chance(0.7) || rng.chance(0.05) {
        vec![Innovation {
            title: "Inovasi layanan daring".into(),
            date: Date {
                year: DEMO_YEAR,
                month: rng.range(1, 12) as u32,
                day: 15,
            },
        }]
    } else {
        Vec::new()
    };
    let mut process = BTreeMap::new();
    if region == "jambi" && rng.chance(0.85) {
        process.insert(
            "inovasi".to_string(),
            (rng.normal(perf * 80.0, 8.0)).clamp(0.0, 100.0).round(),
        );
        process.insert(
            "keterlibatan_masyarakat".to_string(),
            (rng.normal(perf * 78.0, 8.0)).clamp(0.0, 100.0).round(),
        );
    }
    let budget = (region == "jakarta" && rng.chance(0.8)).then(|| {
        let planned = rng.range(200, 3000) as f64 * 1_000_000.0;
        Budget {
            planned,
            realized: (planned * (perf * 0.9).clamp(0.3, 1.05)).round(),
        }
    });
    let public_feedback = (region == "tenayan-raya" && rng.chance(0.8)).then(|| PublicFeedback {
        ikm: ((rng.normal(2.9 + (perf - 1.0) * 2.0, 0.3)).clamp(1.0, 4.0) * 100.0).round() / 100.0,
        respondents: if rng.chance(0.05) {
            0
        } else {
            rng.range(30, 400) as u32
        },
    });
    let working_days = rng.chance(0.5).then_some(working - 15);
    let input = PeriodInput {
        indicators,
        behavior: Behavior {
            supervisor,
            peers,
            self_rating,
        },
        innovations,
        process,
        budget,
        public_feedback,
        working_days,
    };
    input.validate(year)?;
    skps.push(demo_skp(region, nip, &input.indicators));
    store.put_period(region, nip, year, input, None)?;
    // Reports on a share of the weekdays that follows diligence.
    let q = (0.72 + (perf - 0.9) * 0.8 + rng.normal(0.0, 0.06)).clamp(0.4, 1.0);
    let mut reports = Vec::new();
    let (a, b) = (year.start().to_days(), year.end().to_days());
    for d in a..=b {
        let date = Date::from_days(d);
        if date.is_weekday() && rng.unit() < q {
            reports.push(ActivityInput {
                date,
                description: rng.pick(&ACTIVITIES).to_string(),
                minutes: rng.range(60, 480) as u32,
            });
        }
    }
    // The demo's year is over and reviewed: its reports stand approved.
    store.add_activities(region, nip, reports, ReportState::Approved)?;
    Ok(())
}

/// The employee's approved SKP of the demo year, its indicators those of the annual record,
/// realized month by month so that a monthly or quarterly appraisal of any demo month has
/// results. The months add up to the annual realization exactly (so the annual appraisal reads
/// what the record says): January–November take a quarter-rounded twelfth, exact in binary, and
/// December the rest, which subtracting an exact quarter-multiple from it leaves exact too.
/// Days (`lower is better`) are a level, the same each month.
fn demo_skp(region: &str, nip: &str, indicators: &[Indicator]) -> Skp {
    use crate::domain::skp::{month_key, Accumulation, Rhk, SkpIndicator, SkpPlan, SkpState};
    let mut realizations: crate::domain::skp::Realizations = BTreeMap::new();
    let plan = indicators
        .iter()
        .map(|i| {
            let level = i.direction == Direction::LowerIsBetter;
            if let Some(r) = i.realization {
                let part = (r / 12.0 * 4.0).floor() / 4.0;
                for m in 1..=12 {
                    let v = match (level, m) {
                        (true, _) => r,
                        (false, 12) => r - 11.0 * part,
                        (false, _) => part,
                    };
                    realizations
                        .entry(month_key(m))
                        .or_default()
                        .insert(i.id.clone(), v);
                }
            }
            SkpIndicator {
                id: i.id.clone(),
                name: i.name.clone(),
                kind: i.kind,
                direction: i.direction,
                unit: i.unit.clone(),
                target: i.target,
                weight: i.weight,
                accumulation: if level {
                    Accumulation::Level
                } else {
                    Accumulation::Sum
                },
                monthly_targets: None,
            }
        })
        .collect();
    let plan = SkpPlan {
        rhk: vec![Rhk {
            id: "rhk-1".into(),
            text: "Terlaksananya tugas jabatan sesuai rencana kerja unit".into(),
            indicators: plan,
        }],
    };
    let mut skp = Skp::new((region, nip, DEMO_YEAR), plan, SkpState::Approved);
    skp.realizations = realizations;
    skp
}

/// Loads the demo records (when the store is empty).
pub async fn load(state: &AppState) -> anyhow::Result<()> {
    let loaded = state.store.run(load_records).await?;
    if loaded {
        tracing::info!("loaded the demo dataset");
    }
    activate_plugins(state).await
}

/// Uploads the three regions' built plugins and activates both hooks where nothing is active
/// yet, so a new user can call appraisals and rotations at once.
async fn activate_plugins(state: &AppState) -> anyhow::Result<()> {
    for (region, ..) in DEMO_REGIONS {
        let file = state
            .config
            .demo_plugins
            .join(format!("kinerja_plugin_{}.wasm", region.replace('-', "_")));
        let bytes = match std::fs::read(&file) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "demo plugin not found; build it with scripts/build-plugins.sh");
                continue;
            }
        };
        let rt = state.runtime();
        let info =
            tokio::task::spawn_blocking(move || rt.load(&bytes).map(|i| (i, bytes))).await??;
        let (info, bytes) = info;
        let meta = crate::policy::plugin_meta(&info);
        let id = info.id.clone();
        state
            .store
            .run(move |s| {
                s.put_plugin(region, meta, &bytes, None)?;
                for hook in kinerja_runtime::Hook::ALL.map(kinerja_runtime::Hook::as_str) {
                    if s.active_policy(region, hook)?.is_none() {
                        s.activate(
                            region,
                            hook,
                            &id,
                            serde_json::json!(demo_config(region)),
                            None,
                            false,
                        )?;
                    }
                }
                Ok(())
            })
            .await?;
        tracing::info!(region, plugin = %info.id, "demo plugin active");
    }
    Ok(())
}

/// Jakarta's demo config carries an example TPP table (the figures are an example, not regulation).
fn demo_config(region: &str) -> serde_json::Value {
    match region {
        "jakarta" => {
            serde_json::json!({"tpp_percent": {"sangat_baik": 110, "baik": 100, "butuh_perbaikan": 80, "kurang": 60, "sangat_kurang": 40}})
        }
        _ => serde_json::json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's SKPs give the annual appraisal exactly the record's indicators (so its
    /// results are what they were before SKPs), and every month a realization of each
    /// reported indicator.
    #[test]
    fn demo_skps_add_up_to_the_annual_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert!(load_records(&store).expect("demo loads"));
        let year = Period::Year(DEMO_YEAR);
        let mut checked = 0;
        for e in store
            .employees("jambi", None, None, usize::MAX)
            .unwrap()
            .items
        {
            let Ok(rec) = store.period("jambi", &e.nip, year) else {
                continue;
            };
            let skp = store.skp("jambi", &e.nip, DEMO_YEAR).expect("an SKP");
            let from_skp = skp.indicators_for(year);
            let json = |v: &[Indicator]| serde_json::to_string(v).unwrap();
            assert_eq!(json(&from_skp), json(&rec.data.indicators), "{}", e.nip);
            let march = skp.indicators_for(Period::Month(DEMO_YEAR, 3));
            for (m, a) in march.iter().zip(&rec.data.indicators) {
                assert_eq!(
                    m.realization.is_some(),
                    a.realization.is_some(),
                    "{}",
                    e.nip
                );
            }
            checked += 1;
        }
        assert!(checked > 100, "{checked}");
    }

    /// The demo obeys the rules the API enforces: every employee starts the current and every
    /// earlier position no earlier than the appointment month in the NIP, and some positions
    /// of every region carry a workload, both short of staff and above the need.
    #[test]
    fn demo_obeys_the_appointment_month_and_has_workloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        assert!(load_records(&store).expect("demo loads"));
        for (region, ..) in DEMO_REGIONS {
            let all = store.employees(region, None, None, usize::MAX).unwrap();
            assert_eq!(all.items.len(), EMPLOYEES_PER_REGION);
            for e in &all.items {
                let nip = Nip::parse(&e.nip).unwrap();
                let appointed = nip.appointment_start().unwrap();
                assert!(e.position_since >= appointed, "{region} {}", e.nip);
                for spell in &e.history {
                    assert!(spell.from >= appointed, "{region} {} {spell:?}", e.nip);
                }
            }
            let (mut short, mut over) = (0, 0);
            for (agency, _, _) in agencies(region) {
                let f = store.formasi(region, agency).unwrap();
                assert_eq!(f.totals.positions_with_workload, 2, "{region} {agency}");
                for row in f
                    .positions
                    .iter()
                    .filter(|r| r.basis == FormasiBasis::Workload)
                {
                    eprintln!(
                        "{region} {agency} {}: needed {:?} → {}, held {}, gap {}",
                        row.position_id, row.needed_exact, row.needed, row.held, row.gap
                    );
                    short += usize::from(row.gap > 0);
                    over += usize::from(row.gap < 0);
                }
            }
            assert!(
                short > 0 && over > 0,
                "{region}: {short} short, {over} over"
            );
        }
    }
}
