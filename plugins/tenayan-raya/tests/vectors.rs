//! The shared test vectors (plugins/vectors/tenayan-raya-*.json) and the rotate property sweep;
//! the readiness rule below is Tenayan Raya's, restated from docs/region-policies.md.

use kinerja_pdk::talent::competency_gaps;

kinerja_pdk::vector_tests! {
    region: "tenayan-raya",
    appraise: kinerja_plugin_tenayan_raya::appraise,
    rotate: kinerja_plugin_tenayan_raya::rotate,
    training: |e: &kinerja_pdk::RotateEmployee, to: &kinerja_pdk::Position, _jpm: f64| {
        let gaps = competency_gaps(&e.competencies, &to.required);
        (!gaps.is_empty()).then_some(gaps)
    },
}
