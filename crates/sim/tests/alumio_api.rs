//! The Alumio endpoints: assign_users validation and its configurable unknowns, membership reads,
//! authentication, rate limits and faults.
#![expect(clippy::unwrap_used, reason = "test helpers panic on unexpected answers")]

mod common;

use common::start;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::{
    AlumioBatchMode, AlumioConfig, AlumioEntryOutcome, AlumioExistingMember, AlumioUnknownEmail, Faults,
    generate,
};

struct Alumio {
    api: common::Api,
    key: String,
}

async fn alumio(tweak: impl FnOnce(&mut AlumioConfig)) -> Alumio {
    let api = start(|c| tweak(&mut c.alumio)).await;
    let key = api.sim.alumio_api_keys()[0].clone();
    Alumio { api, key }
}

impl Alumio {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.api.sim.alumio_base_url())
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = self
            .api
            .send(self.api.http.get(self.url(path)).bearer_auth(&self.key))
            .await;
        (s, b)
    }

    async fn assign(&self, space: &str, users: Value) -> (StatusCode, Value) {
        let req = self
            .api
            .http
            .post(self.url(&format!("/spaces/{space}/assign_users")))
            .bearer_auth(&self.key)
            .json(&json!({ "users": users }));
        let (s, _, b) = self.api.send(req).await;
        (s, b)
    }

    fn roles_of(&self, space: &str, email: &str) -> Option<Vec<String>> {
        self.api
            .sim
            .alumio_members()
            .into_iter()
            .find(|m| m.space == space && m.email == email)
            .map(|m| m.roles)
    }
}

/// Emails the small tenant's Alumio environment knows but that are not members of `finance`.
fn known_non_members(n: usize) -> Vec<String> {
    let t = generate::small_tenant();
    let a = t.alumio();
    a.users
        .iter()
        .filter(|u| {
            !a.members
                .iter()
                .any(|m| m.space == "finance" && m.email == u.email)
        })
        .take(n)
        .map(|u| u.email.clone())
        .collect()
}

fn entry(email: &str, role: &str) -> Value {
    json!({ "email": email, "roles": [role] })
}

fn paths(body: &Value) -> Vec<&str> {
    body["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["propertyPath"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn alumio_needs_its_own_api_key() {
    let a = alumio(|_| {}).await;
    let url = a.url("/spaces/finance");
    let qlik_key = a.api.sim.api_keys()[0].clone();
    for req in [
        a.api.http.get(&url),
        a.api.http.get(&url).bearer_auth("nope"),
        a.api.http.get(&url).bearer_auth(&qlik_key),
    ] {
        let (status, _, body) = a.api.send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["status"], 401);
        assert!(body["title"].is_string());
    }
    // And the Alumio key does not open the Qlik API.
    let (status, _, _) = a
        .api
        .send(a.api.http.get(a.api.url("/api/v1/spaces")).bearer_auth(&a.key))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let log = a.api.sim.request_log();
    assert_eq!(log.iter().filter(|r| r.api == sim::Api::Alumio).count(), 3);
}

#[tokio::test]
async fn spaces_and_memberships_can_be_read() {
    let a = alumio(|_| {}).await;
    let (status, body) = a.get("/spaces/sales-eu").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["object"]["identifier"], "sales-eu");
    assert_eq!(body["object"]["name"], "Sales EU");
    let (status, body) = a.get("/spaces/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["status"], 404);
    let (_, body) = a
        .get("/spaces?filter=%7B%22where%22%3A%7B%22name%22%3A%22finance%22%7D%7D")
        .await;
    assert_eq!(body["metadata"]["totalCount"], 1);
    assert_eq!(body["results"][0]["identifier"], "finance");

    let t = generate::small_tenant();
    let admin = &t.alumio().members[0];
    let (status, body) = a
        .get(&format!(
            "/spaces/{}/users/{}",
            admin.space,
            admin.email.to_uppercase()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["object"]["email"], admin.email.as_str());
    assert_eq!(body["object"]["roles"], json!(admin.roles));
    let outsider = known_non_members(1).remove(0);
    let (status, _) = a.get(&format!("/spaces/finance/users/{outsider}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = a.get(&format!("/spaces/nope/users/{}", admin.email)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_member_list_pages_filters_and_can_be_switched_off() {
    let a = alumio(|c| {
        c.unknown_email = AlumioUnknownEmail::Invite;
        c.batch_limit = None;
    })
    .await;
    let many: Vec<Value> = (0..150)
        .map(|i| entry(&format!("new{i}@example.org"), "ROLE_USER"))
        .collect();
    assert_eq!(a.assign("finance", Value::Array(many)).await.0, StatusCode::OK);
    let members = a
        .api
        .sim
        .alumio_members()
        .iter()
        .filter(|m| m.space == "finance")
        .count();
    assert_eq!(members, 152);

    let (status, body) = a.get("/current_space/users?space=finance").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["metadata"]["totalCount"], 152);
    assert_eq!(body["results"].as_array().unwrap().len(), 25);
    let filter = |f: Value| {
        format!(
            "/current_space/users?space=finance&filter={}",
            urlencode(&f.to_string())
        )
    };
    let (_, body) = a.get(&filter(json!({"limit": 1000}))).await;
    assert_eq!(
        body["results"].as_array().unwrap().len(),
        100,
        "limit is capped at 100"
    );
    let (_, body) = a.get(&filter(json!({"limit": 100, "skip": 100}))).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 52);
    let (_, body) = a
        .get(&filter(json!({"where": {"email": "NEW7@example.org"}})))
        .await;
    assert_eq!(body["metadata"]["totalCount"], 1);
    assert_eq!(body["results"][0]["email"], "new7@example.org");
    assert_eq!(body["results"][0]["roles"], json!(["ROLE_USER"]));

    assert_eq!(
        a.get(&filter(json!({"where": {"name": "x"}}))).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        a.get("/current_space/users?space=finance&filter=%7Bnot").await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(a.get("/current_space/users").await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        a.get("/current_space/users?space=nope").await.0,
        StatusCode::NOT_FOUND
    );

    a.api.sim.set_alumio(AlumioConfig {
        list_enabled: false,
        ..a.api.sim.alumio_config()
    });
    assert_eq!(
        a.get("/current_space/users?space=finance").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        a.get("/spaces/finance/users/new7@example.org").await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_valid_batch_is_applied() {
    let a = alumio(|_| {}).await;
    let emails = known_non_members(3);
    let users: Vec<Value> = emails.iter().map(|e| entry(e, "ROLE_EDITOR")).collect();
    let (status, body) = a.assign("finance", Value::Array(users)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["added"].as_array().unwrap().len(), 3);
    for e in &emails {
        assert_eq!(a.roles_of("finance", e), Some(vec!["ROLE_EDITOR".to_owned()]));
    }
    let log = a.api.sim.alumio_write_log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].batch_size, log[0].status, log[0].credential.as_str()),
        (3, 200, "alumio-admin")
    );
    assert!(
        log[0]
            .entries
            .iter()
            .all(|(_, o)| *o == AlumioEntryOutcome::Added)
    );
    assert_eq!(a.api.sim.stats().alumio_writes_applied["finance"].len(), 3);
    assert_eq!(a.api.sim.stats().by_tier["alumio-tier2"].by_status[&200], 1);

    let (status, _) = a.assign("nope", json!([entry(&emails[0], "ROLE_USER")])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn batch_with_three_bad(emails: &[String]) -> Vec<Value> {
    let mut users: Vec<Value> = emails.iter().map(|e| entry(e, "ROLE_USER")).collect();
    users.insert(2, entry("not-an-email", "ROLE_USER"));
    users.insert(5, entry("stranger@nowhere.example", "ROLE_USER"));
    users.insert(7, json!({"email": "", "roles": ["ROLE_USER"]}));
    users
}

#[tokio::test]
async fn violations_name_the_entries_and_partial_batches_apply_the_rest() {
    let a = alumio(|c| c.batch_mode = AlumioBatchMode::Partial).await;
    let emails = known_non_members(7);
    let (status, body) = a
        .assign("finance", Value::Array(batch_with_three_bad(&emails)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["status"], 422);
    assert_eq!(
        paths(&body),
        ["users[2].email", "users[5].email", "users[7].email"]
    );
    assert_eq!(
        body["violations"][0]["title"],
        "This value is not a valid email address."
    );
    assert_eq!(
        body["violations"][1]["title"],
        "No user exists with this email address."
    );
    assert_eq!(body["violations"][2]["title"], "This value should not be blank.");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("users[2].email: This value is not a valid email address.")
    );
    for e in &emails {
        assert!(a.roles_of("finance", e).is_some(), "{e} should have been applied");
    }
    let log = a.api.sim.alumio_write_log();
    let rejected = log[0]
        .entries
        .iter()
        .filter(|(_, o)| *o == AlumioEntryOutcome::Rejected)
        .count();
    assert_eq!((log[0].batch_size, rejected), (10, 3));
}

#[tokio::test]
async fn all_or_nothing_batches_change_nothing_on_a_violation() {
    let a = alumio(|c| c.batch_mode = AlumioBatchMode::AllOrNothing).await;
    let emails = known_non_members(7);
    let (status, body) = a
        .assign("finance", Value::Array(batch_with_three_bad(&emails)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths(&body).len(), 3);
    assert!(emails.iter().all(|e| a.roles_of("finance", e).is_none()));
    let log = a.api.sim.alumio_write_log();
    assert_eq!(
        log[0]
            .entries
            .iter()
            .filter(|(_, o)| *o == AlumioEntryOutcome::NotApplied)
            .count(),
        7
    );
    assert!(a.api.sim.stats().alumio_writes_applied.is_empty());
}

#[tokio::test]
async fn violations_without_indexes_only_name_the_field() {
    let a = alumio(|c| {
        c.indexed_violations = false;
        c.status_as_string = true;
    })
    .await;
    let emails = known_non_members(7);
    let (status, body) = a
        .assign("finance", Value::Array(batch_with_three_bad(&emails)))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths(&body), ["email", "email", "email"]);
    assert_eq!(body["status"], "422");
}

#[tokio::test]
async fn roles_are_validated() {
    let a = alumio(|_| {}).await;
    let e = known_non_members(1).remove(0);
    let cases = [
        (json!({"email": e, "roles": []}), "users[0].roles"),
        (json!({"email": e}), "users[0].roles"),
        (json!({"email": e, "roles": ["ROLE_ADMIN"]}), "users[0].roles[0]"),
        (
            json!({"email": e, "roles": ["ROLE_USER", "ROLE_USER"]}),
            "users[0].roles",
        ),
        (json!({"roles": ["ROLE_USER"]}), "users[0].email"),
    ];
    for (user, path) in cases {
        let (status, body) = a.assign("finance", json!([user])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{user}");
        assert_eq!(paths(&body), [path], "{user}");
    }
    let (status, body) = a.assign("finance", json!([])).await;
    assert_eq!(
        (status, paths(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["users"])
    );
    let req = a
        .api
        .http
        .post(a.url("/spaces/finance/assign_users"))
        .bearer_auth(&a.key)
        .body("{oops");
    let (status, _, body) = a.api.send(req).await;
    assert_eq!(
        (status, body["status"].as_u64()),
        (StatusCode::BAD_REQUEST, Some(400))
    );
    let (status, body) = a
        .assign(
            "finance",
            json!([entry(&e, "ROLE_USER"), entry(&e.to_uppercase(), "ROLE_USER")]),
        )
        .await;
    assert_eq!(
        (status, paths(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["users[1].email"])
    );
    assert!(
        a.roles_of("finance", &e).is_some(),
        "partial by default: the first entry landed"
    );
}

#[tokio::test]
async fn the_batch_limit_is_enforced() {
    let a = alumio(|c| {
        c.batch_limit = Some(5);
        c.unknown_email = AlumioUnknownEmail::Invite;
    })
    .await;
    let users = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| entry(&format!("u{i}@example.org"), "ROLE_USER"))
                .collect(),
        )
    };
    let (status, body) = a.assign("finance", users(6)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(paths(&body), ["users"]);
    assert_eq!(
        body["violations"][0]["title"],
        "This collection should contain 5 elements or less."
    );
    assert!(
        a.api
            .sim
            .alumio_members()
            .iter()
            .all(|m| !m.email.starts_with('u'))
    );
    assert_eq!(a.assign("finance", users(5)).await.0, StatusCode::OK);
    let sizes: Vec<usize> = a
        .api
        .sim
        .alumio_write_log()
        .iter()
        .map(|w| w.batch_size)
        .collect();
    assert_eq!(sizes, [6, 5]);
}

#[tokio::test]
async fn existing_members_are_replaced_kept_or_rejected_as_configured() {
    let t = generate::small_tenant();
    let member = t
        .alumio()
        .members
        .iter()
        .find(|m| m.space == "finance" && m.roles == ["ROLE_USER"])
        .unwrap()
        .clone();
    let again = || json!([entry(&member.email, "ROLE_EDITOR")]);

    let a = alumio(|c| c.existing_member = AlumioExistingMember::Replace).await;
    let (status, body) = a.assign("finance", again()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["updated"], json!([member.email]));
    assert_eq!(
        a.roles_of("finance", &member.email),
        Some(vec!["ROLE_EDITOR".to_owned()])
    );
    let (_, body) = a.assign("finance", again()).await;
    assert_eq!(
        body["unchanged"],
        json!([member.email]),
        "same roles again: nothing to do"
    );

    let a = alumio(|c| c.existing_member = AlumioExistingMember::Keep).await;
    let (status, body) = a.assign("finance", again()).await;
    assert_eq!(
        (status, &body["unchanged"]),
        (StatusCode::OK, &json!([member.email]))
    );
    assert_eq!(a.roles_of("finance", &member.email), Some(member.roles.clone()));

    let a = alumio(|c| c.existing_member = AlumioExistingMember::Reject).await;
    let (status, body) = a.assign("finance", again()).await;
    assert_eq!(
        (status, paths(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["users[0].email"])
    );
    assert_eq!(
        body["violations"][0]["title"],
        "This user is already a member of this space."
    );
}

#[tokio::test]
async fn unknown_emails_are_rejected_or_invited_as_configured() {
    let a = alumio(|c| c.unknown_email = AlumioUnknownEmail::Invite).await;
    let (status, body) = a
        .assign("finance", json!([entry("brand.new@example.org", "ROLE_USER")]))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        a.api
            .sim
            .tenant()
            .alumio()
            .users
            .iter()
            .any(|u| u.email == "brand.new@example.org")
    );
    assert!(a.roles_of("finance", "brand.new@example.org").is_some());
}

#[tokio::test]
async fn alumio_has_rate_limits_and_faults_too() {
    let a = alumio(|c| {
        c.writes_per_min = Some(60);
        c.reads_per_min = Some(1000);
    })
    .await;
    let emails = known_non_members(3);
    for e in &emails[..2] {
        assert_eq!(
            a.assign("finance", json!([entry(e, "ROLE_USER")])).await.0,
            StatusCode::OK
        );
    }
    let req = a
        .api
        .http
        .post(a.url("/spaces/finance/assign_users"))
        .bearer_auth(&a.key)
        .json(&json!({"users": [entry(&emails[2], "ROLE_USER")]}));
    let (status, headers, body) = a.api.send(req).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(body["status"], 429);
    assert_eq!(
        a.get("/spaces/finance").await.0,
        StatusCode::OK,
        "reads are a separate bucket"
    );

    a.api.sim.set_alumio(AlumioConfig {
        writes_per_min: None,
        ..a.api.sim.alumio_config()
    });
    a.api.sim.set_faults(Faults {
        p503: 1.0,
        ..Faults::none()
    });
    let (status, body) = a.assign("finance", json!([entry(&emails[2], "ROLE_USER")])).await;
    assert_eq!(
        (status, body["status"].as_u64()),
        (StatusCode::SERVICE_UNAVAILABLE, Some(503))
    );
    assert!(a.roles_of("finance", &emails[2]).is_none());

    a.api.sim.set_faults(Faults {
        reset: 1.0,
        apply_before_fault: true,
        ..Faults::none()
    });
    let req = a
        .api
        .http
        .post(a.url("/spaces/finance/assign_users"))
        .bearer_auth(&a.key)
        .json(&json!({"users": [entry(&emails[2], "ROLE_USER")]}));
    assert!(req.send().await.unwrap_err().status().is_none());
    assert!(
        a.roles_of("finance", &emails[2]).is_some(),
        "applied before the connection dropped"
    );
}

#[tokio::test]
async fn either_api_can_be_switched_off() {
    let api = start(|c| c.alumio.enabled = false).await;
    let key = api.sim.alumio_api_keys()[0].clone();
    let (status, _, _) = api
        .send(
            api.http
                .get(format!("{}/spaces/finance", api.sim.alumio_base_url()))
                .bearer_auth(&key),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/api/v1/spaces").await.0, StatusCode::OK);

    let api = start(|c| c.qlik_enabled = false).await;
    assert_eq!(api.get("/api/v1/spaces").await.0, StatusCode::NOT_FOUND);
    let (status, _, _) = api
        .send(
            api.http
                .get(format!("{}/spaces/finance", api.sim.alumio_base_url()))
                .bearer_auth(&key),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
