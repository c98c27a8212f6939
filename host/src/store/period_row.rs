//! The stored form of a period record. The API shape ([`PeriodRecord`]) flattens the SKP
//! input into the record, and serde reads a flattened struct by first buffering every field
//! into an intermediate tree: that doubles the decoding of the largest row a region-wide
//! appraisal reads, once per employee. Rows are therefore written with the input nested, under
//! a version field that comes first; rows written before (flattened) are still read.

use super::{from_json, has_key, to_json, Result, StoreError};
use crate::domain::date::Date;
use crate::domain::ratings::Raters;
use crate::domain::records::{PeriodInput, PeriodRecord};
use serde::{Deserialize, Serialize};

/// How every nested row starts as written here (serde writes fields in declaration order). A
/// tool that re-encodes a row may reorder its keys, so a row without this start is tried as a
/// nested one first: read as a flattened row, a nested one would lose its input silently
/// (serde does not refuse unknown fields through `flatten`).
const NESTED: &[u8] = br#"{"v":2,"#;

#[derive(Serialize)]
struct RowRef<'a> {
    v: u8,
    region: &'a str,
    nip: &'a str,
    period: &'a str,
    start: Date,
    end: Date,
    updated_at: &'a str,
    data: &'a PeriodInput,
    #[serde(skip_serializing_if = "Raters::is_empty")]
    raters: &'a Raters,
}

#[derive(Deserialize)]
struct Row {
    region: String,
    nip: String,
    period: String,
    start: Date,
    end: Date,
    updated_at: String,
    data: PeriodInput,
    #[serde(default)]
    raters: Raters,
}

pub(super) fn encode(r: &PeriodRecord) -> Result<Vec<u8>> {
    let row = to_json(&RowRef {
        v: 2,
        region: &r.region,
        nip: &r.nip,
        period: &r.period,
        start: r.start,
        end: r.end,
        updated_at: &r.updated_at,
        data: &r.data,
        raters: &r.raters,
    })?;
    debug_assert!(row.starts_with(NESTED));
    Ok(row)
}

pub(super) fn decode(b: &[u8]) -> Result<PeriodRecord> {
    let r: Row = match serde_json::from_slice(b) {
        Ok(r) => r,
        // A nested row that does not decode must not be read as a flattened one (it would come
        // back empty): only a row without `data` is the old form.
        Err(e) if b.starts_with(NESTED) || has_key(b, "data") => {
            return Err(StoreError::Corrupt(format!("period record: {e}")))
        }
        Err(_) => return from_json(b),
    };
    Ok(PeriodRecord {
        region: r.region,
        nip: r.nip,
        period: r.period,
        start: r.start,
        end: r.end,
        data: r.data,
        updated_at: r.updated_at,
        raters: r.raters,
    })
}

/// Only the SKP input of a row, with the raters' own ratings applied: what an appraisal
/// reads, without decoding (and allocating) the record's own fields for each of a region's
/// employees.
pub(super) fn decode_input(b: &[u8]) -> Result<PeriodInput> {
    #[derive(Deserialize)]
    struct DataOnly {
        data: PeriodInput,
        #[serde(default)]
        raters: Raters,
    }
    let nested = if b.starts_with(NESTED) {
        serde_json::from_slice::<DataOnly>(b).ok()
    } else {
        None
    };
    let (mut data, raters) = match nested {
        Some(d) => (d.data, d.raters),
        None => decode(b).map(|r| (r.data, r.raters))?,
    };
    raters.apply(&mut data.behavior);
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::Period;
    use crate::store::get_row;

    fn record() -> PeriodRecord {
        let data: PeriodInput = serde_json::from_value(serde_json::json!({
            "indicators": [{"id": "i1", "name": "Layanan", "kind": "utama", "direction": "higher_is_better", "unit": "dokumen", "target": 10.0, "realization": 12.0}],
            "process": {"inovasi": 80.0},
            "working_days": 20
        }))
        .expect("a valid period input");
        let p = Period::Year(2026);
        PeriodRecord {
            region: "jambi".into(),
            nip: "199001012015031001".into(),
            period: p.to_string(),
            start: p.start(),
            end: p.end(),
            data,
            updated_at: "2026-11-24T00:00:00Z".into(),
            raters: Raters::default(),
        }
    }

    /// A nested row and a row in the old flattened shape read back as the same record.
    #[test]
    fn nested_and_flattened_rows_read_the_same() {
        let r = record();
        let nested = encode(&r).expect("encode");
        assert!(nested.starts_with(NESTED));
        let flat = serde_json::to_vec(&r).expect("flat");
        assert!(!flat.starts_with(NESTED));
        let a = serde_json::to_value(decode(&nested).expect("nested")).expect("json");
        let b = serde_json::to_value(decode(&flat).expect("flat")).expect("json");
        assert_eq!(a, b);
        assert_eq!(a, serde_json::to_value(&r).expect("json"));
        // Re-encoded by a tool that sorts keys: still the same record.
        let v: serde_json::Value = serde_json::from_slice(&nested).expect("json");
        let resorted = serde_json::to_vec(&v).expect("json");
        assert!(!resorted.starts_with(NESTED));
        let c = serde_json::to_value(decode(&resorted).expect("re-encoded")).expect("json");
        assert_eq!(a, c);
        assert!(decode(br#"{"v":2,"region":1}"#).is_err());
        // A reordered nested row whose input is damaged is an error, not an empty record.
        let mut damaged = v.clone();
        damaged["data"]["indicators"] = serde_json::json!("not a list");
        let err = decode(&serde_json::to_vec(&damaged).expect("json")).expect_err("damaged");
        assert!(err.to_string().contains("period record"), "{err}");
    }

    /// The raters' own ratings reach the appraisal: over the agency's self and supervisor
    /// ratings, and after its peers.
    #[test]
    fn the_input_an_appraisal_reads_carries_the_raters_parts() {
        use crate::domain::ratings::{Given, Part};
        use crate::domain::records::Ratings;
        let rate = |v: u8| Ratings {
            berorientasi_pelayanan: v,
            akuntabel: v,
            kompeten: v,
            harmonis: v,
            loyal: v,
            adaptif: v,
            kolaboratif: v,
        };
        let given = |v: u8| Given {
            ratings: rate(v),
            by: "t".into(),
            at: "now".into(),
        };
        let mut r = record();
        r.data.behavior.supervisor = Some(rate(1));
        r.data.behavior.peers = vec![rate(2)];
        r.raters.set(&Part::Supervisor, given(4)).unwrap();
        r.raters.assign(vec!["p".into()]);
        r.raters.set(&Part::Peer("p".into()), given(5)).unwrap();
        let row = encode(&r).expect("encode");
        let input = decode_input(&row).expect("decode");
        assert_eq!(input.behavior.supervisor, Some(rate(4)));
        assert_eq!(input.behavior.peers, vec![rate(2), rate(5)]);
        // The whole record keeps the two apart.
        let back = decode(&row).expect("decode");
        assert_eq!(back.data.behavior.supervisor, Some(rate(1)));
        assert_eq!(back.raters, r.raters);
    }

    /// An appraisal's read of the input alone agrees with the whole record, for both forms.
    #[test]
    fn the_input_alone_reads_from_both_forms() {
        use redb::ReadableDatabase;
        let r = record();
        let db = redb::Database::builder()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .expect("db");
        let t = crate::store::tables::PERIODS;
        let tx = db.begin_write().expect("write");
        {
            let mut table = tx.open_table(t).expect("table");
            let flat = serde_json::to_vec(&r).expect("flat");
            table
                .insert("nested", encode(&r).expect("encode").as_slice())
                .expect("insert");
            table.insert("flat", flat.as_slice()).expect("insert");
        }
        tx.commit().expect("commit");
        let tx = db.begin_read().expect("read");
        let table = tx.open_table(t).expect("table");
        let want = serde_json::to_value(&r.data).expect("json");
        for key in ["nested", "flat"] {
            let got = get_row(&table, key, decode_input)
                .expect("read")
                .expect("present");
            assert_eq!(serde_json::to_value(got).expect("json"), want, "{key}");
        }
        assert!(get_row(&table, "absent", decode_input)
            .expect("read")
            .is_none());
    }
}
