//! End to end over HTTP: tokens, roles and scopes.

use kinerja_tests::*;

#[test]
fn tokens_and_roles() {
    let s = TestServer::start();
    let admin = s.client();
    // The admin token file is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.dir().join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    seed_agency(&admin, "jambi", "disdik");
    seed_agency(&admin, "jambi", "dinkes");
    seed_agency(&admin, "jakarta", "disdik");
    assert_eq!(
        admin
            .put(
                &format!("/api/v1/regions/jambi/employees/{NIP}"),
                &employee_body("disdik", "staf", "2021-03-01")
            )
            .status,
        200
    );
    assert_eq!(
        admin
            .put(
                &format!("/api/v1/regions/jambi/employees/{NIP2}"),
                &employee_body("dinkes", "staf", "2021-03-01")
            )
            .status,
        200
    );

    // 401: none, malformed, unknown.
    let anon = admin.anonymous();
    for r in [
        anon.get("/api/v1/regions/jambi/agencies"),
        admin
            .with_token("knj_nope")
            .get("/api/v1/regions/jambi/agencies"),
    ] {
        assert_eq!(r.status, 401, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "unauthorized");
    }

    let ra = admin.with_token(
        &admin.issue(json!({"role": "region_admin", "region": "jambi", "label": "BKD Jambi"})),
    );
    let ag = admin
        .with_token(&ra.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    let em =
        admin.with_token(&ra.issue(json!({"role": "employee", "region": "jambi", "nip": NIP})));

    // Region admin: its region yes, another no; cannot issue outside its powers.
    assert_eq!(ra.get("/api/v1/regions/jambi/employees").status, 200);
    assert_eq!(ra.get("/api/v1/regions/jakarta/employees").status, 403);
    assert_eq!(
        ra.put("/api/v1/regions/jakarta/agencies/x", &json!({"name": "x"}))
            .status,
        403
    );
    assert_eq!(
        ra.post("/api/v1/tokens", &json!({"role": "admin"})).status,
        403
    );
    assert_eq!(
        ra.post(
            "/api/v1/tokens",
            &json!({"role": "agency", "region": "jakarta", "agency": "disdik"})
        )
        .status,
        403
    );
    assert_eq!(
        ra.post(
            "/api/v1/tokens",
            &json!({"role": "agency", "region": "jambi"})
        )
        .status,
        400,
        "agency is required"
    );

    // Agency: its own agency only; the list is implied to its agency.
    let list = ag.get("/api/v1/regions/jambi/employees");
    assert_eq!(list.status, 200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["nip"], NIP);
    assert_eq!(
        ag.get("/api/v1/regions/jambi/employees?agency=dinkes")
            .status,
        403
    );
    assert_eq!(
        ag.get(&format!("/api/v1/regions/jambi/employees/{NIP2}"))
            .status,
        403
    );
    assert_eq!(
        ag.put(
            &format!("/api/v1/regions/jambi/employees/{NIP2}/periods/2026"),
            &period_body()
        )
        .status,
        403
    );
    assert_eq!(
        ag.put(
            &format!("/api/v1/regions/jambi/employees/{NIP}/periods/2026"),
            &period_body()
        )
        .status,
        200
    );
    assert_eq!(
        ag.put(
            &format!("/api/v1/regions/jambi/employees/{NIP2}"),
            &employee_body("disdik", "staf", "2021-03-01")
        )
        .status,
        403,
        "cannot take another agency's employee"
    );
    assert_eq!(ag.get("/api/v1/regions/jakarta/employees").status, 403);
    assert_eq!(
        ag.put(
            "/api/v1/regions/jambi/agencies/disdik",
            &json!({"name": "x"})
        )
        .status,
        403
    );
    assert_eq!(ag.get("/api/v1/tokens").status, 403);
    assert_eq!(
        ag.post(
            "/api/v1/tokens",
            &json!({"role": "employee", "region": "jambi", "nip": NIP})
        )
        .status,
        403
    );

    // Employee: its own records, its own reports, nothing else.
    assert_eq!(
        em.get(&format!("/api/v1/regions/jambi/employees/{NIP}"))
            .status,
        200
    );
    assert_eq!(
        em.get(&format!(
            "/api/v1/regions/jambi/employees/{NIP}/periods/2026"
        ))
        .status,
        200
    );
    assert_eq!(
        em.post(
            &format!("/api/v1/regions/jambi/employees/{NIP}/activities"),
            &json!({"date": "2026-03-02", "description": "x", "minutes": 60})
        )
        .status,
        201
    );
    assert_eq!(
        em.get(&format!("/api/v1/regions/jambi/employees/{NIP2}"))
            .status,
        403
    );
    assert_eq!(
        em.post(
            &format!("/api/v1/regions/jambi/employees/{NIP2}/activities"),
            &json!({"date": "2026-03-02", "description": "x", "minutes": 60})
        )
        .status,
        403
    );
    assert_eq!(em.get("/api/v1/regions/jambi/employees").status, 403);
    assert_eq!(
        em.put(
            &format!("/api/v1/regions/jambi/employees/{NIP}/periods/2026"),
            &period_body()
        )
        .status,
        403
    );

    // Employee: region-wide reference data, evaluations and another employee's results are
    // out of scope too.
    for path in [
        "/api/v1/regions/jambi/agencies".to_string(),
        "/api/v1/regions/jambi/agencies/disdik".to_string(),
        "/api/v1/regions/jambi/policies".to_string(),
        "/api/v1/regions/jambi/plugins".to_string(),
        "/api/v1/regions/jambi/positions".to_string(),
        format!("/api/v1/regions/jambi/employees/{NIP2}/periods"),
        format!("/api/v1/regions/jambi/employees/{NIP2}/appraisals"),
        format!("/api/v1/regions/jambi/employees/{NIP2}/activities"),
    ] {
        assert_eq!(em.get(&path).status, 403, "{path}");
    }
    for path in [
        format!("/api/v1/regions/jambi/employees/{NIP}/periods"),
        format!("/api/v1/regions/jambi/employees/{NIP}/appraisals"),
        format!("/api/v1/regions/jambi/employees/{NIP}/activities"),
    ] {
        assert_eq!(em.get(&path).status, 200, "{path}");
    }
    assert_eq!(
        em.post(
            "/api/v1/regions/jambi/appraisals",
            &json!({"period": "2026", "nips": [NIP]})
        )
        .status,
        403
    );
    // An agency token reads its own agency only: the list holds just that one, and another
    // agency is 403 naming it.
    let list = ag.get("/api/v1/regions/jambi/agencies");
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.item_ids(), ["disdik"], "{}", list.text);
    assert!(list.body["next"].is_null());
    assert_eq!(ag.get("/api/v1/regions/jambi/agencies/disdik").status, 200);
    let other = ag.get("/api/v1/regions/jambi/agencies/dinkes");
    assert!(
        other.status == 403 && other.message().contains("dinkes"),
        "{}",
        other.text
    );
    // Naming an agency that does not exist is still outside an agency token's scope: 403,
    // not a 404 that would tell which agencies exist.
    let r = ag.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2026", "agency": "atlantis"}),
    );
    assert_eq!(r.status, 403, "{}", r.text);

    // Each token can learn its own role and scope (the web console asks), never the secret.
    let me = em.get("/api/v1/tokens/self");
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["role"], "employee");
    assert_eq!(me.body["region"], "jambi");
    assert_eq!(me.body["nip"], NIP);
    assert!(me.body["agency"].is_null());
    let me = ag.get("/api/v1/tokens/self");
    assert_eq!(me.body["role"], "agency");
    assert_eq!(me.body["agency"], "disdik");
    let me = ra.get("/api/v1/tokens/self");
    assert_eq!(me.body["role"], "region_admin");
    assert_eq!(me.body["label"], "BKD Jambi");
    let me = admin.get("/api/v1/tokens/self");
    assert_eq!(me.body["role"], "admin");
    assert!(me.body["region"].is_null());
    assert!(!me.text.contains("knj_"), "never the secret");
    assert_eq!(anon.get("/api/v1/tokens/self").status, 401);
    // `self` is no token id: revoking it is still a 404, never the caller's own token.
    assert_eq!(admin.delete("/api/v1/tokens/self").status, 404);
    assert_eq!(admin.get("/api/v1/tokens/self").status, 200);

    // Listing never shows secrets; the audit names who issued what.
    let toks = admin.get("/api/v1/tokens");
    assert_eq!(toks.body["items"].as_array().unwrap().len(), 4);
    assert!(!toks.text.contains("knj_"), "no secrets in the list");
    assert!(!toks.text.contains("hash"), "no hashes in the list");
    assert_eq!(
        ra.get("/api/v1/tokens").body["items"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "region admin sees its region's"
    );
    // Paged as every list: pages cover the same tokens, and a region admin's pages hold its
    // region's only.
    for (who, limit, total) in [(&admin, 3, 4), (&ra, 2, 3)] {
        let first = who.get(&format!("/api/v1/tokens?limit={limit}"));
        let next = first.body["next"]
            .as_str()
            .expect("a second page")
            .to_string();
        let second = who.get(&format!("/api/v1/tokens?limit={limit}&cursor={next}"));
        assert!(second.body["next"].is_null(), "{}", second.text);
        let mut paged = first.item_ids();
        paged.extend(second.item_ids());
        assert_eq!(paged.len(), total);
        let whole = who.get("/api/v1/tokens").item_ids();
        assert_eq!(paged, whole);
    }
    let audit = admin.get("/api/v1/audit");
    let issues = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token.issue")
        .count();
    assert_eq!(issues, 4);
    assert_eq!(ag.get("/api/v1/audit").status, 403);

    // Revocation takes effect at once.
    let id = toks.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "employee")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(ag.delete(&format!("/api/v1/tokens/{id}")).status, 403);
    assert_eq!(ra.delete(&format!("/api/v1/tokens/{id}")).status, 204);
    assert_eq!(
        em.get(&format!("/api/v1/regions/jambi/employees/{NIP}"))
            .status,
        401
    );
    assert_eq!(admin.delete(&format!("/api/v1/tokens/{id}")).status, 404);
}

#[test]
fn openapi_lists_every_route() {
    let s = TestServer::start();
    let doc = s.client().anonymous().get("/openapi.json");
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    for p in [
        "/api/v1/tokens",
        "/api/v1/tokens/self",
        "/api/v1/regions/{region}/employees/{nip}/periods/{period}",
        "/api/v1/regions/{region}/employees/{nip}/activities",
        "/health",
        "/ready",
    ] {
        assert!(doc.body["paths"].get(p).is_some(), "missing {p}");
    }
}

/// The last admin token cannot be revoked (no admin could ever exist again); with a second
/// admin it can. Agency and region admins are unaffected by the rule.
#[test]
fn the_last_admin_token_cannot_be_revoked() {
    let s = TestServer::start();
    let admin = s.client();
    let me = admin.get("/api/v1/tokens/self").body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = admin.delete(&format!("/api/v1/tokens/{me}"));
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "last_admin", "{}", r.text);
    assert!(r.message().contains("last admin"), "{}", r.text);
    assert_eq!(admin.get("/api/v1/tokens/self").status, 200, "still works");

    // With a second admin, either may go, but not both.
    let second = admin.with_token(&admin.issue(json!({"role": "admin", "label": "second"})));
    let second_id = second.get("/api/v1/tokens/self").body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(second.delete(&format!("/api/v1/tokens/{me}")).status, 204);
    assert_eq!(admin.get("/api/v1/tokens/self").status, 401);
    let r = second.delete(&format!("/api/v1/tokens/{second_id}"));
    assert_eq!(r.status, 409, "{}", r.text);
    // Other roles are revoked as before.
    let ra_secret = second.issue(json!({"role": "region_admin", "region": "jambi"}));
    let ra_id = second
        .with_token(&ra_secret)
        .get("/api/v1/tokens/self")
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        second.delete(&format!("/api/v1/tokens/{ra_id}")).status,
        204
    );
}

/// `kinerja admin reset-token` with the server stopped issues a new admin token into
/// DATA_DIR/admin.token (mode 0600); with the server running it refuses, saying why.
#[test]
fn admin_reset_token_recovers_the_admin() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut s = TestServer::start_in(dir, |_| {});
    let old = s.admin.clone();
    let bin = kinerja_binary();
    let run = || {
        std::process::Command::new(&bin)
            .args(["admin", "reset-token", "--data-dir"])
            .arg(dir)
            .env("RUST_LOG", "warn")
            .output()
            .expect("run kinerja")
    };
    let busy = run();
    let err = String::from_utf8_lossy(&busy.stderr);
    assert!(!busy.status.success(), "refused while serving: {err}");
    assert!(err.contains("in use") && err.contains("stop"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("admin.token"))
            .unwrap()
            .trim(),
        old,
        "the file is untouched"
    );
    s.stop();

    let out = run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let new = std::fs::read_to_string(dir.join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    assert!(new.starts_with("knj_") && new != old, "{new}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains(&new),
        "the secret goes to the file only"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("admin.token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let s = TestServer::start_in(dir, |_| {});
    let c = s.client().with_token(&new);
    let me = c.get("/api/v1/tokens/self");
    assert_eq!(me.body["role"], "admin", "{}", me.text);
    assert_eq!(c.get("/api/v1/tokens").status, 200);
    let audit = c.get("/api/v1/audit");
    assert!(audit.text.contains("token.issue"), "{}", audit.text);
}

/// An employee or agency token learns nothing about records outside its scope: a NIP or a
/// decision that exists elsewhere and one that does not exist get the same 403. Admins and
/// region admins still get 404 for what is missing.
#[test]
fn out_of_scope_and_missing_look_alike() {
    let s = TestServer::start();
    let admin = s.client();
    let nips = seed_people(&admin, "jambi", "disdik");
    seed_people(&admin, "jakarta", "disdik");
    seed_agency(&admin, "jambi", "dinkes");
    let theirs = nip_for(3);
    assert_eq!(
        admin
            .put(
                &format!("/api/v1/regions/jambi/employees/{theirs}"),
                &employee_body("dinkes", "staf", "2021-03-01")
            )
            .status,
        200
    );
    assert_eq!(
        admin
            .put(
                &format!("/api/v1/regions/jambi/employees/{theirs}/periods/2026"),
                &period_body()
            )
            .status,
        200
    );
    let missing = nip_for(4);
    let id = admin.upload("jambi", wasm("kinerja_test_simple"));
    admin.activate("jambi", "appraise", &id, json!({}));
    let r = admin.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2026", "nips": [nips[0], nips[1], theirs]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let decision = |i: usize| {
        r.body["results"][i]["decision_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (colleague_dec, their_dec) = (decision(1), decision(2));
    let missing_dec = "dec-000099999999";

    let em = admin
        .with_token(&admin.issue(json!({"role": "employee", "region": "jambi", "nip": nips[0]})));
    let ag = admin
        .with_token(&admin.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    let same = |who: &Client, a: &str, b: &str, what: &str| {
        let (x, y) = (who.get(a), who.get(b));
        assert_eq!(
            (x.status, y.status),
            (403, 403),
            "{what}: {} / {}",
            x.text,
            y.text
        );
        assert_eq!(x.text, y.text, "{what}: the answers differ");
    };
    let e = |n: &str, rest: &str| format!("/api/v1/regions/jambi/employees/{n}{rest}");
    for rest in [
        "",
        "/periods",
        "/periods/2026",
        "/appraisals",
        "/activities",
        "/history",
    ] {
        same(&em, &e(&nips[1], rest), &e(&missing, rest), "employee");
        same(&ag, &e(&theirs, rest), &e(&missing, rest), "agency");
    }
    same(
        &em,
        &format!("/api/v1/decisions/{colleague_dec}"),
        &format!("/api/v1/decisions/{missing_dec}"),
        "employee decision",
    );
    same(
        &ag,
        &format!("/api/v1/decisions/{their_dec}"),
        &format!("/api/v1/decisions/{missing_dec}"),
        "agency decision",
    );
    // Writes and appraisals answer alike too.
    for (who, other) in [(&em, &nips[1]), (&ag, &theirs)] {
        let (x, y) = (
            who.put(&e(other, "/periods/2026"), &period_body()),
            who.put(&e(&missing, "/periods/2026"), &period_body()),
        );
        assert_eq!((x.status, y.status), (403, 403), "{} / {}", x.text, y.text);
        let (x, y) = (
            who.post(
                &e(other, "/activities"),
                &json!({"date": "2026-03-02", "description": "x", "minutes": 60}),
            ),
            who.post(
                &e(&missing, "/activities"),
                &json!({"date": "2026-03-02", "description": "x", "minutes": 60}),
            ),
        );
        assert_eq!((x.status, y.status), (403, 403), "{} / {}", x.text, y.text);
    }
    let (x, y) = (
        ag.post(
            "/api/v1/regions/jambi/appraisals",
            &json!({"period": "2026", "nips": [theirs]}),
        ),
        ag.post(
            "/api/v1/regions/jambi/appraisals",
            &json!({"period": "2026", "nips": [missing]}),
        ),
    );
    assert_eq!((x.status, y.status), (403, 403), "{} / {}", x.text, y.text);
    assert_eq!(
        x.message().replace(&theirs, "<n>"),
        y.message().replace(&missing, "<n>")
    );
    // What is in scope still reads, and a missing record of one's own is still 404.
    assert_eq!(em.get(&e(&nips[0], "")).status, 200);
    assert_eq!(
        em.get(&format!("/api/v1/decisions/{}", decision(0))).status,
        200
    );
    assert_eq!(em.get(&e(&nips[0], "/periods/2025")).status, 404);
    assert_eq!(ag.get(&e(&nips[2], "/periods/2026")).status, 404);
    // Admins and region admins: 404 for what does not exist, as before.
    let ra = admin.with_token(&admin.issue(json!({"role": "region_admin", "region": "jambi"})));
    for who in [&admin, &ra] {
        assert_eq!(who.get(&e(&missing, "")).status, 404);
        assert_eq!(
            who.get(&format!("/api/v1/decisions/{missing_dec}")).status,
            404
        );
        assert_eq!(who.get(&e(&theirs, "")).status, 200);
    }
}

/// Repeated bad tokens from one address are slowed: after the configured number of failures
/// in the window the next are answered 429 with `Retry-After`. A valid token from the same
/// address still works, and another address is not affected.
#[test]
fn repeated_bad_tokens_are_throttled_per_address() {
    let s = TestServer::start_in(&tempfile::tempdir().unwrap().keep(), |cfg| {
        cfg.auth_failure_limit = 5;
    });
    let url = format!("{}/api/v1/regions/jambi/agencies", s.base);
    let from = |ip: [u8; 4]| {
        reqwest::blocking::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let here = from([127, 0, 0, 1]);
    let bad = |http: &reqwest::blocking::Client, i: usize| {
        http.get(&url)
            .bearer_auth(format!("knj_guess_{i}"))
            .send()
            .unwrap()
    };
    for i in 0..5 {
        assert_eq!(bad(&here, i).status().as_u16(), 401, "failure {i}");
    }
    for i in 5..40 {
        let r = bad(&here, i);
        assert_eq!(r.status().as_u16(), 429, "failure {i}");
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&wait), "{wait}");
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    }
    // The admin's valid token from the same address is unaffected.
    let ok = here.get(&url).bearer_auth(&s.admin).send().unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    // So is another address (all of 127.0.0.0/8 is loopback on Linux).
    let there = from([127, 0, 0, 2]);
    assert_eq!(bad(&there, 0).status().as_u16(), 401);
    // No token at all is no failed guess.
    assert_eq!(here.get(&url).send().unwrap().status().as_u16(), 401);
}

/// Signs in as `nip` of jambi with `password`.
fn sign_in(c: &Client, nip: &str, password: &str) -> Resp {
    c.anonymous().post(
        "/api/v1/sessions",
        &json!({"region": "jambi", "nip": nip, "password": password}),
    )
}

fn password_path(nip: &str) -> String {
    format!("/api/v1/regions/jambi/employees/{nip}/password")
}

#[test]
fn an_employee_signs_in_with_an_initial_password_then_chooses_their_own() {
    let s = TestServer::start();
    let admin = s.client();
    let nips = seed_people(&admin, "jambi", "disdik");
    let (me, colleague) = (nips[0].as_str(), nips[1].as_str());
    seed_agency(&admin, "jakarta", "dinkes");
    seed_agency(&admin, "jambi", "dinkes");
    let ra = admin.with_token(&admin.issue(json!({"role": "region_admin", "region": "jambi"})));
    let ra_other =
        admin.with_token(&admin.issue(json!({"role": "region_admin", "region": "jakarta"})));
    let ag = admin
        .with_token(&ra.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    let ag_other = admin
        .with_token(&ra.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    let em = admin.with_token(&ra.issue(json!({"role": "employee", "region": "jambi", "nip": me})));

    // Who may set an initial password: the agency of the employee, the region admin, an admin.
    let initial = json!({"password": "sementara-2026"});
    for (who, c) in [
        ("other agency", &ag_other),
        ("employee token", &em),
        ("other region", &ra_other),
    ] {
        let r = c.put(&password_path(me), &initial);
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    for (what, body, field) in [
        ("short", json!({"password": "pendek"}), "password"),
        ("the NIP", json!({"password": format!("x{me}")}), "password"),
        (
            "unknown field",
            json!({"password": "sementara-2026", "role": "admin"}),
            "role",
        ),
    ] {
        let r = ag.put(&password_path(me), &body);
        assert_eq!(r.status, 400, "{what}: {}", r.text);
        assert!(r.message().contains(field), "{what}: {}", r.text);
    }
    let r = admin.put(&password_path("199912312020121999"), &initial);
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(ra.put(&password_path(colleague), &initial).status, 204);
    let r = ag.put(&password_path(me), &initial);
    assert_eq!(r.status, 204, "{}", r.text);

    // Wrong password, unknown NIP, NIP without a password, unknown region: one answer.
    let wrong = sign_in(&admin, me, "salah-sekali");
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert_eq!(wrong.message(), "wrong NIP or password");
    for r in [
        sign_in(&admin, "199912312020121999", "sementara-2026"),
        sign_in(&admin, &nips[2], "sementara-2026"),
        admin.anonymous().post(
            "/api/v1/sessions",
            &json!({"region": "pekanbaru", "nip": me, "password": "sementara-2026"}),
        ),
    ] {
        assert_eq!((r.status, &r.text), (wrong.status, &wrong.text));
    }
    // Malformed input names the field, and is no 500.
    for (body, field) in [
        (
            json!({"region": "jambi", "nip": "123", "password": "x"}),
            "nip",
        ),
        (json!({"region": "jambi", "nip": me}), "password"),
        (
            json!({"region": "jambi", "nip": me, "password": "x".repeat(200)}),
            "password",
        ),
        (
            json!({"region": "Jambi!", "nip": me, "password": "x"}),
            "region",
        ),
    ] {
        let r = admin.anonymous().post("/api/v1/sessions", &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().contains(field), "{body}: {}", r.text);
    }

    // The first session may only choose a password.
    let r = sign_in(&admin, me, "sementara-2026");
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["must_change_password"], true);
    assert!(
        r.body["token"].as_str().unwrap().starts_with("knj_"),
        "{}",
        r.text
    );
    assert!(
        r.body["expires_at"].as_str().unwrap().ends_with('Z'),
        "{}",
        r.text
    );
    let first = admin.with_token(r.body["token"].as_str().unwrap());
    let own = format!("/api/v1/regions/jambi/employees/{me}");
    let r = first.get(&own);
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(
        r.message().contains("/api/v1/sessions/self/password"),
        "{}",
        r.text
    );
    let who = first.get("/api/v1/tokens/self");
    assert_eq!(who.status, 200, "{}", who.text);
    assert_eq!(who.body["must_change_password"], true);
    assert_eq!(who.body["nip"], me);
    assert!(who.body["expires_at"].is_string(), "{}", who.text);

    let change = |c: &Client, old: &str, new: &str| {
        c.put(
            "/api/v1/sessions/self/password",
            &json!({"old": old, "new": new}),
        )
    };
    for (old, new, field) in [
        ("salah-sekali", "milik-saya-2026", "old"),
        ("sementara-2026", "pendek", "new"),
        ("sementara-2026", "sementara-2026", "new"),
        ("sementara-2026", &format!("{me}!"), "new"),
    ] {
        let r = change(&first, old, new);
        assert_eq!(r.status, 400, "{old} → {new}: {}", r.text);
        assert!(r.message().starts_with(field), "{}", r.text);
    }
    // Only a session changes its password this way.
    assert_eq!(change(&em, "sementara-2026", "milik-saya-2026").status, 400);
    assert_eq!(
        change(&first, "sementara-2026", "milik-saya-2026").status,
        204
    );

    // Now it is the employee's session: their own records, nobody else's.
    assert_eq!(first.get(&own).status, 200);
    let r = first.get(&format!("/api/v1/regions/jambi/employees/{colleague}"));
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(first.get("/api/v1/regions/jambi/agencies").status, 403);
    assert_eq!(
        first.get("/api/v1/tokens/self").body["must_change_password"],
        false
    );

    // The initial password is spent; the chosen one signs in straight to work.
    assert_eq!(sign_in(&admin, me, "sementara-2026").status, 401);
    let r = sign_in(&admin, me, "milik-saya-2026");
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["must_change_password"], false);
    let second = admin.with_token(r.body["token"].as_str().unwrap());
    assert_eq!(second.get(&own).status, 200);

    // A change ends the other sessions and keeps the one that made it.
    assert_eq!(
        change(&first, "milik-saya-2026", "lebih-baru-2026").status,
        204
    );
    assert_eq!(second.get(&own).status, 401);
    assert_eq!(first.get(&own).status, 200);

    // A region admin sees sessions among the tokens, named by NIP, and never a secret.
    let listed = ra.get("/api/v1/tokens");
    assert!(
        listed.text.contains(&format!("ses_{me}_")),
        "{}",
        listed.text
    );
    assert!(!listed.text.contains("knj_"), "{}", listed.text);

    // A reset by the agency ends every session and asks for a new choice.
    assert_eq!(
        ag.put(&password_path(me), &json!({"password": "reset-2026-baru"}))
            .status,
        204
    );
    assert_eq!(first.get(&own).status, 401);
    let r = sign_in(&admin, me, "reset-2026-baru");
    assert_eq!(r.body["must_change_password"], true, "{}", r.text);

    // Signing out ends the session; a token is not signed out.
    let third = admin.with_token(
        sign_in(&admin, colleague, "sementara-2026").body["token"]
            .as_str()
            .unwrap(),
    );
    assert_eq!(third.delete("/api/v1/sessions/self").status, 204);
    assert_eq!(third.get("/api/v1/tokens/self").status, 401);
    let r = ag.delete("/api/v1/sessions/self");
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(ag.get("/api/v1/tokens/self").status, 200);

    // The audit names who set and who changed, and holds no password or hash.
    let audit = ra.get("/api/v1/audit?limit=1000");
    assert_eq!(audit.status, 200, "{}", audit.text);
    for action in [
        "employee.password.set",
        "employee.password.change",
        "session.open",
        "session.close",
    ] {
        assert!(audit.text.contains(action), "{action}: {}", audit.text);
    }
    for secret in [
        "sementara-2026",
        "milik-saya-2026",
        "lebih-baru-2026",
        "$argon2",
    ] {
        assert!(!audit.text.contains(secret), "{secret} in the audit");
    }
    // Nor does the database file hold a password.
    drop((first, second, third));
    let mut s = s;
    s.stop();
    let mut db = std::fs::read(s.dir().join("system.redb")).unwrap();
    for region in std::fs::read_dir(s.dir().join("regions")).unwrap() {
        db.extend(std::fs::read(region.unwrap().path()).unwrap());
    }
    for secret in [
        "sementara-2026",
        "milik-saya-2026",
        "lebih-baru-2026",
        "reset-2026-baru",
    ] {
        let found = db.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "{secret} stored in the clear");
    }
}

#[test]
fn failed_sign_ins_are_slowed_then_refused_and_sessions_expire() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir.path(), |cfg| {
        cfg.sign_in_failure_limit = 2;
        cfg.sign_in_failure_window = std::time::Duration::from_secs(60);
        cfg.session_ttl = std::time::Duration::from_secs(2);
    });
    let admin = s.client();
    let nips = seed_people(&admin, "jambi", "disdik");
    for n in &nips[..2] {
        assert_eq!(
            admin
                .put(&password_path(n), &json!({"password": "sementara-2026"}))
                .status,
            204
        );
    }
    // A session ends at its expiry, whatever the client does.
    let r = sign_in(&admin, &nips[1], "sementara-2026");
    assert_eq!(r.status, 201, "{}", r.text);
    let session = admin.with_token(r.body["token"].as_str().unwrap());
    assert_eq!(session.get("/api/v1/tokens/self").status, 200);

    // Two failures are answered (the second held back a second), the third is refused, and
    // then even the right password is refused for that NIP, with Retry-After.
    let t = std::time::Instant::now();
    assert_eq!(sign_in(&admin, &nips[0], "salah-satu").status, 401);
    assert_eq!(sign_in(&admin, &nips[0], "salah-dua").status, 401);
    assert!(
        t.elapsed() >= std::time::Duration::from_secs(1),
        "the second failure is slowed"
    );
    let r = sign_in(&admin, &nips[0], "salah-tiga");
    assert_eq!(r.status, 429, "{}", r.text);
    let retry: u64 = r.retry_after.as_deref().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let r = sign_in(&admin, &nips[0], "sementara-2026");
    assert_eq!(r.status, 429, "a right password is refused too: {}", r.text);
    // Another NIP from the same address is not locked out.
    assert_eq!(sign_in(&admin, &nips[1], "sementara-2026").status, 201);

    std::thread::sleep(std::time::Duration::from_millis(2100));
    let r = session.get("/api/v1/tokens/self");
    assert_eq!(r.status, 401, "{}", r.text);
    assert!(r.message().contains("expired"), "{}", r.text);
}
