//! Logs one line per case (the employee's NIP and name) to stderr, then answers validly: the
//! plugin a careless region could write, used to check that a call's logs — which hold every
//! case of the call — are never shown to a token that may read only some of those cases. Each
//! case is also logged whole, on a line of its own, so that an admin's dry run shows the tests
//! exactly what the host sent (see `kinerja_tests::cases_sent`).
use serde_json::Value;

fn main() {
    let request = kinerja_test_plugins::read_request();
    let hook = kinerja_test_plugins::hook_name(&request);
    let key = if hook == "rotate" {
        "employees"
    } else {
        "cases"
    };
    for item in request
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let who = item.get("employee").unwrap_or(item);
        eprintln!(
            "log-cases: case of {} {}",
            who.get("nip").and_then(Value::as_str).unwrap_or("?"),
            who.get("name").and_then(Value::as_str).unwrap_or("?")
        );
        eprintln!("log-cases: {item}");
    }
    kinerja_test_plugins::write_json(&kinerja_test_plugins::valid_response(
        "log-cases",
        &hook,
        &request,
    ));
}
