//! The shared test vectors (plugins/vectors/jakarta-*.json) and the rotate property sweep; the
//! readiness rule below is Jakarta's, restated from docs/region-policies.md.

use kinerja_pdk::talent::competency_gaps;

kinerja_pdk::vector_tests! {
    region: "jakarta",
    appraise: kinerja_plugin_jakarta::appraise,
    rotate: kinerja_plugin_jakarta::rotate,
    training: |e: &kinerja_pdk::RotateEmployee, to: &kinerja_pdk::Position, jpm: f64| {
        (jpm < 85.0).then(|| competency_gaps(&e.competencies, &to.required))
    },
}
