//! The shared test vectors (plugins/vectors/jambi-*.json) and the rotate property sweep; the
//! readiness rule below is Jambi's, restated from docs/region-policies.md.

use kinerja_pdk::talent::competency_gaps;

kinerja_pdk::vector_tests! {
    region: "jambi",
    appraise: kinerja_plugin_jambi::appraise,
    rotate: kinerja_plugin_jambi::rotate,
    training: |e: &kinerja_pdk::RotateEmployee, to: &kinerja_pdk::Position, jpm: f64| {
        if jpm >= 80.0 && !e.declined_rotation {
            return None;
        }
        let mut t = competency_gaps(&e.competencies, &to.required);
        if e.declined_rotation {
            t.push("bimbingan".to_string());
        }
        Some(t)
    },
}
