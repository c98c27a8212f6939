# The Jambi appraisal formula (region-policies.md, "Jambi") in Rego, as the policy-engine peer of
# the Wasm plugin in benches/plugin.rs. Input: one case of an ABI 1 appraise request. Output:
# data.jambi.result, the plugin's result fields that the formula decides (ratings, predikat,
# score, recommendations). Same conventions as the pdk: thresholds compare 9-decimal values,
# the score is rounded half away from zero to 2 decimals from its 9-decimal value.
package jambi

import rego.v1

round9(x) := round(x * 1000000000) / 1000000000

round2(x) := h / 100 if {
	n := round(x * 1000000000)
	n >= 0
	h := floor((n + 5000000) / 10000000)
}

round2(x) := 0 - (h / 100) if {
	n := round(x * 1000000000)
	n < 0
	h := floor(((0 - n) + 5000000) / 10000000)
}

ge9(a, b) if round9(a) >= round9(b)

lt9(a, b) if round9(a) < round9(b)

clamp(x) := 0 if x < 0

clamp(x) := 120 if x > 120

clamp(x) := x if {
	x >= 0
	x <= 120
}

raw(ind) := 100 * (ind.realization / ind.target) if ind.direction == "higher_is_better"

raw(ind) := 100 * (2 - (ind.realization / ind.target)) if ind.direction == "lower_is_better"

capaian(ind) := clamp(raw(ind)) if {
	ind.realization != null
} else := 0

weight(ind) := ind.weight if {
	ind.weight != null
} else := 1

indicators := object.get(input, "indicators", [])

# A term before `|` in a comprehension must not be an operator expression (`|` is also set
# union), hence this helper.
weighted(ind) := capaian(ind) * weight(ind)

total_weight := sum([weight(i) | i := indicators[_]])

c := sum([weighted(i) | i := indicators[_]]) / total_weight if {
	count(indicators) > 0
	total_weight != 0
} else := 0

process := p if {
	p := input.process
	p != null
	count(p) > 0
}

pv := sum([v | v := process[_]]) / count(process) if process

pv := c if not process

hk := (0.8 * c) + (0.2 * pv)

has_innovation if {
	input.innovations != null
	count(input.innovations) > 0
}

weak_utama := [i.id | i := indicators[_]; i.kind == "utama"; lt9(capaian(i), 90)]

base := "di_atas" if {
	ge9(hk, 110)
	has_innovation
	count(weak_utama) == 0
} else := "sesuai" if {
	ge9(hk, 90)
} else := "di_bawah"

q := input.activities.days_reported / input.period.working_days

low_reporting if lt9(q, 0.8)

lower := {"di_atas": "sesuai", "sesuai": "di_bawah", "di_bawah": "di_bawah"}

hasil_kerja := lower[base] if low_reporting

hasil_kerja := base if not low_reporting

values := ["berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif"]

supervisor := input.behavior.supervisor

m := sum([supervisor[v] | v := values[_]]) / 7

rated_one if {
	supervisor[values[_]] == 1
}

perilaku_kerja := "di_bawah" if {
	lt9(m, 3)
} else := "di_bawah" if {
	rated_one
} else := "di_atas" if {
	ge9(m, 4.5)
} else := "sesuai"

matrix := {
	"di_atas": {"di_atas": "sangat_baik", "sesuai": "baik", "di_bawah": "kurang"},
	"sesuai": {"di_atas": "baik", "sesuai": "baik", "di_bawah": "kurang"},
	"di_bawah": {"di_atas": "butuh_perbaikan", "sesuai": "butuh_perbaikan", "di_bawah": "sangat_kurang"},
}

predikat := matrix[hasil_kerja][perilaku_kerja]

poor := {"butuh_perbaikan", "kurang", "sangat_kurang"}

reward := [{"kind": "reward"} | predikat == "sangat_baik"]

coaching := [{"kind": "coaching"} | poor[predikat]]

dialog := [{"kind": "dialog"} | low_reporting]

training := [{"kind": "training", "subject": v} | v := values[_]; supervisor[v] <= 2]

result := {
	"nip": input.employee.nip,
	"hasil_kerja": hasil_kerja,
	"perilaku_kerja": perilaku_kerja,
	"predikat": predikat,
	"score": round2((0.6 * hk) + (0.4 * (20 * m))),
	"recommendations": array.concat(array.concat(reward, coaching), array.concat(dialog, training)),
}
