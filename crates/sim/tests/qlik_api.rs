//! The Qlik endpoints against the spec: status codes, bodies, pagination, filters, conflicts,
//! authentication.
#![expect(clippy::unwrap_used, reason = "test helpers panic on unexpected answers")]

mod common;

use common::{qlik_error_code, start, start_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::{Tenant, generate};

fn small() -> Tenant {
    generate::small_tenant()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn spaces_list_pages_with_full_next_urls() {
    let api = start(|_| {}).await;
    let t = small();
    let (status, body) = api.get("/api/v1/spaces").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["meta"]["count"], 6);
    assert_eq!(body["data"].as_array().unwrap().len(), 6);
    assert!(
        body["links"]["self"]["href"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
    assert!(body["links"].get("next").is_none());

    let (items, pages) = api.all_pages("/api/v1/spaces?limit=4").await;
    assert_eq!(pages, 2);
    let expected: Vec<String> = t.spaces().iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids(&items), expected);

    let (_, first) = api.get("/api/v1/spaces?limit=2&type=shared,managed").await;
    let next = first["links"]["next"]["href"].as_str().unwrap();
    assert!(
        next.contains("limit=2") && next.contains("type=shared%2Cmanaged"),
        "{next}"
    );
    let (_, second) = api.get_url(next).await;
    assert!(second["links"]["prev"]["href"].is_string());
    let (_, back) = api
        .get_url(second["links"]["prev"]["href"].as_str().unwrap())
        .await;
    assert_eq!(back["data"], first["data"]);
}

#[tokio::test]
async fn spaces_default_page_is_ten_and_limit_max_is_100() {
    let api = start_with(generate::large_tenant(1), |_| {}).await;
    let (status, body) = api.get("/api/v1/spaces").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), 10);
    assert_eq!(body["meta"]["count"], 200);
    let (items, pages) = api.all_pages("/api/v1/spaces?limit=100").await;
    assert_eq!((items.len(), pages), (200, 2));
    for bad in ["0", "101", "abc", "-1"] {
        let (status, body) = api.get(&format!("/api/v1/spaces?limit={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        qlik_error_code(&body, status);
    }
    let (status, _) = api.get("/api/v1/spaces?next=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn spaces_filter_by_name_contains_and_type() {
    let api = start(|_| {}).await;
    let (_, body) = api.get("/api/v1/spaces?name=FINANCE").await;
    let names: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Finance (dev)", "Finance"]);
    let (_, body) = api.get("/api/v1/spaces?type=data").await;
    assert_eq!(body["meta"]["count"], 1);
    assert_eq!(body["data"][0]["type"], "data");
    let (_, body) = api.get("/api/v1/spaces?type=managed,shared").await;
    assert_eq!(body["meta"]["count"], 5);
    let (status, body) = api.get("/api/v1/spaces?type=personal").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(qlik_error_code(&body, status), "HTTP-400");
}

#[tokio::test]
async fn space_get_shows_assignable_roles_per_type_and_404s() {
    let api = start(|_| {}).await;
    let t = small();
    for space in t.spaces() {
        let (status, body) = api.get(&format!("/api/v1/spaces/{}", space.id)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["name"], space.name.as_str());
        assert_eq!(body["ownerId"], space.owner_id.as_str());
        assert_eq!(body["tenantId"], t.tenant_id.as_str());
        let roles: Vec<&str> = body["meta"]["assignableRoles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(roles, space.space_type.assignable_roles());
        assert!(
            body["links"]["assignments"]["href"]
                .as_str()
                .unwrap()
                .ends_with("/assignments")
        );
    }
    let managed = t
        .spaces()
        .iter()
        .find(|s| s.space_type == sim::SpaceType::Managed)
        .unwrap();
    assert!(managed.space_type.assignable_roles().contains(&"basicconsumer"));
    assert!(!managed.space_type.assignable_roles().contains(&"producer"));

    let (status, body) = api.get("/api/v1/spaces/000000000000000000000000").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
}

#[tokio::test]
async fn space_create_validates_names_and_conflicts() {
    let api = start(|_| {}).await;
    let t = small();
    let (status, body) = api
        .post(
            "/api/v1/spaces",
            json!({"name": "New (team)", "type": "managed", "description": "d"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["type"], "managed");
    // The caller (the admin key's user) owns the new space.
    assert_eq!(body["ownerId"], t.api_keys()[0].user_id.as_str());
    let id = body["id"].as_str().unwrap().to_owned();
    let (status, _) = api.get(&format!("/api/v1/spaces/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(api.sim.tenant().space_by_name("New (team)").is_some());

    let (status, body) = api
        .post("/api/v1/spaces", json!({"name": "new (TEAM)", "type": "shared"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    qlik_error_code(&body, status);

    for c in sim::SPACE_NAME_FORBIDDEN {
        let (status, body) = api
            .post(
                "/api/v1/spaces",
                json!({"name": format!("a{c}b"), "type": "shared"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{c:?}");
        assert!(
            body["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("must not contain")
        );
    }
    let long = "x".repeat(257);
    for bad in [
        json!({"name": long, "type": "shared"}),
        json!({"name": "", "type": "shared"}),
        json!({"name": "ok"}),
        json!({"name": "ok", "type": "personal"}),
        json!({"type": "shared"}),
    ] {
        let (status, _) = api.post("/api/v1/spaces", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _, body) = api
        .send(
            api.http
                .post(api.url("/api/v1/spaces"))
                .bearer_auth(&api.token)
                .body("{not json"),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    qlik_error_code(&body, status);
    assert_eq!(api.sim.tenant().spaces().len(), 7);
}

#[tokio::test]
async fn assignments_create_get_update_delete() {
    let api = start(|_| {}).await;
    let t = small();
    let space = t.space_by_name("Sandbox").unwrap();
    let user = t.user_by_email("jana.vos@example.com").unwrap();
    let path = format!("/api/v1/spaces/{}/assignments", space.id);

    let (status, created) = api
        .post(
            &path,
            json!({"type": "user", "assigneeId": user.id, "roles": ["consumer", "producer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["assigneeId"], user.id.as_str());
    assert_eq!(created["spaceId"], space.id.as_str());
    assert_eq!(created["type"], "user");
    assert_eq!(created["roles"], json!(["consumer", "producer"]));
    assert_eq!(created["tenantId"], t.tenant_id.as_str());
    let aid = created["id"].as_str().unwrap().to_owned();

    let (status, dup) = api
        .post(
            &path,
            json!({"type": "user", "assigneeId": user.id, "roles": ["consumer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(qlik_error_code(&dup, status), "AssignmentConflict");

    let (status, got) = api.get(&format!("{path}/{aid}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["roles"], json!(["consumer", "producer"]));

    let (status, updated) = api
        .put(&format!("{path}/{aid}"), json!({"roles": ["facilitator"]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["roles"], json!(["facilitator"]));
    let (status, _) = api.put(&format!("{path}/{aid}"), json!({"roles": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .put(&format!("{path}/{aid}"), json!({"roles": ["publisher"]}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "publisher is not assignable in a shared space"
    );
    let (status, _) = api
        .put(&format!("{path}/nope"), json!({"roles": ["consumer"]}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body) = api.delete(&format!("{path}/{aid}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    let (status, body) = api.delete(&format!("{path}/{aid}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
    let (status, _) = api.get(&format!("{path}/{aid}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let log = api.sim.write_log();
    let ops: Vec<sim::WriteOp> = log.iter().map(|w| w.op).collect();
    assert_eq!(
        ops,
        [sim::WriteOp::Create, sim::WriteOp::Update, sim::WriteOp::Delete]
    );
    assert!(
        log.iter()
            .all(|w| w.space_id == space.id && w.assignee_id == user.id && w.credential == "admin")
    );
    assert_eq!(log[1].roles, ["facilitator"]);
    assert_eq!(api.sim.stats().writes_applied[&space.id][&user.id], 3);
    assert!(!api.sim.assignments().iter().any(|a| a.assignee_id == user.id));
}

#[tokio::test]
async fn assignment_create_rejects_bad_input() {
    let api = start(|_| {}).await;
    let t = small();
    let shared = t.space_by_name("Sandbox").unwrap();
    let path = format!("/api/v1/spaces/{}/assignments", shared.id);
    let user = t.user_by_email("kofi.peters@example.com").unwrap();
    let group = t.group_by_name("Analysts").unwrap();
    let cases = [
        (
            json!({"type": "user", "assigneeId": user.id, "roles": []}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "user", "assigneeId": user.id}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "user", "assigneeId": user.id, "roles": ["Consumer"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "user", "assigneeId": user.id, "roles": ["publisher"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "user", "assigneeId": user.id, "roles": ["consumer", "consumer"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "robot", "assigneeId": user.id, "roles": ["consumer"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "user", "assigneeId": group.id, "roles": ["consumer"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "user", "assigneeId": "nobody", "roles": ["consumer"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"type": "user", "assigneeId": shared.owner_id, "roles": ["consumer"]}),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = api.post(&path, body.clone()).await;
        assert_eq!(status, expected, "{body}");
        qlik_error_code(&answer, status);
    }
    let (status, body) = api
        .post(
            "/api/v1/spaces/000000000000000000000000/assignments",
            json!({"type": "user", "assigneeId": user.id, "roles": ["consumer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
    let (status, _) = api
        .get("/api/v1/spaces/000000000000000000000000/assignments")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(api.sim.write_log().is_empty());

    // A group assignment with roles valid for the space is fine.
    let (status, body) = api
        .post(
            &path,
            json!({"type": "group", "assigneeId": group.id, "roles": ["consumer"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["type"], "group");
}

#[tokio::test]
async fn assignments_list_pages_filters_and_hides_owners() {
    let api = start(|_| {}).await;
    let t = small();
    let space = t.space_by_name("Finance (dev)").unwrap();
    let path = format!("/api/v1/spaces/{}/assignments", space.id);
    let before = t.assignments_of(&space.id).count();
    let new_users: Vec<&sim::User> = t
        .users()
        .iter()
        .filter(|u| u.id != space.owner_id && !t.assignments_of(&space.id).any(|a| a.assignee_id == u.id))
        .take(12)
        .collect();
    for u in &new_users {
        let (status, _) = api
            .post(
                &path,
                json!({"type": "user", "assigneeId": u.id, "roles": ["consumer"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let total = before + new_users.len();
    let (_, first) = api.get(&path).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 10, "default page is 10");
    assert_eq!(first["meta"]["count"], total);
    let (items, pages) = api.all_pages(&format!("{path}?limit=4")).await;
    assert_eq!(items.len(), total);
    assert_eq!(pages, total.div_ceil(4));
    assert!(
        items.iter().all(|a| a["assigneeId"] != space.owner_id.as_str()),
        "owners are never listed"
    );

    let (_, groups) = api.get(&format!("{path}?type=group")).await;
    assert!(
        groups["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["type"] == "group")
    );
    assert_eq!(
        groups["meta"]["count"],
        t.assignments_of(&space.id)
            .filter(|a| a.assignee_type == sim::AssigneeType::Group)
            .count()
    );
    let (_, one) = api.get(&format!("{path}?assigneeId={}", new_users[3].id)).await;
    assert_eq!(one["meta"]["count"], 1);
    assert_eq!(one["data"][0]["assigneeId"], new_users[3].id.as_str());
    let (status, _) = api.get(&format!("{path}?type=alien")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.get(&format!("{path}?limit=101")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn users_filter_with_eq_or_and_escapes() {
    let api = start(|_| {}).await;
    let t = small();
    let ada = t.user_by_email("ada.admin@example.com").unwrap();
    let quinn = t.user_by_email("quinn.ohara@example.com").unwrap();
    let query = |filter: &str| format!("/api/v1/users?filter={}", url_encode(filter));

    let (status, body) = api.get(&query(r#"email eq "ADA.ADMIN@example.com""#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(body["data"].as_array().unwrap()), [ada.id.as_str()]);
    assert_eq!(body["data"][0]["email"], "ada.admin@example.com");
    assert_eq!(body["data"][0]["subject"], ada.subject.as_str());

    let (_, body) = api
        .get(&query(&format!(
            r#"email eq "ada.admin@example.com" or subject eq "{}""#,
            quinn.subject
        )))
        .await;
    assert_eq!(
        ids(body["data"].as_array().unwrap()),
        [ada.id.clone(), quinn.id.clone()]
    );
    let (_, body) = api
        .get(&query(&format!(
            r#"id eq "{}" OR name eq "Quinn O'Hara""#,
            ada.id
        )))
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);

    // The service account has no email: found by subject only, never by an email filter.
    let svc = t.users().iter().find(|u| u.email.is_none()).unwrap();
    let (_, body) = api.get(&query(r#"subject eq "svc-roster-automation""#)).await;
    assert_eq!(ids(body["data"].as_array().unwrap()), [svc.id.as_str()]);
    assert!(body["data"][0].get("email").is_none());
    let (_, body) = api
        .get(&query(r#"email eq "" or email eq "nobody@example.com""#))
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 0);
    assert!(body["links"]["self"].is_object());

    for bad in [
        r#"email eq ada"#,
        r#"email gt "x""#,
        r#"email eq "x" or"#,
        r#"locale eq "en""#,
        r#"id co "1""#,
    ] {
        let (status, body) = api.get(&query(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        qlik_error_code(&body, status);
    }
    for bad in ["0", "101", "x"] {
        let (status, _) = api.get(&format!("/api/v1/users?limit={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
    }
    let (status, body) = api.get(&format!("/api/v1/users/{}", ada.id)).await;
    assert_eq!(
        (status, body["id"].as_str()),
        (StatusCode::OK, Some(ada.id.as_str()))
    );
    let (status, _) = api.get("/api/v1/users/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn users_page_20_by_default_and_100_at_most() {
    let api = start_with(generate::large_tenant(1), |_| {}).await;
    let (_, body) = api.get("/api/v1/users").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 20);
    let (items, pages) = api.all_pages("/api/v1/users?limit=100").await;
    assert_eq!((items.len(), pages), (5000, 50));
    let mut seen = ids(&items);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5000);
    let (_, body) = api
        .get("/api/v1/users?limit=100&totalResults=true&filter=status%20eq%20%22disabled%22")
        .await;
    let disabled = generate::large_tenant(1)
        .users()
        .iter()
        .filter(|u| u.status == "disabled")
        .count();
    assert_eq!(body["totalResults"], disabled);
}

#[tokio::test]
async fn groups_filter_create_and_conflict() {
    let api = start(|_| {}).await;
    let t = small();
    let core = t.group_by_name("R&D \"Core\"").unwrap();
    let finance = t.group_by_name("Finance").unwrap();
    let query = |filter: &str| format!("/api/v1/groups?filter={}", url_encode(filter));

    let (status, body) = api.get(&query(r#"name eq "R&D \"Core\"""#)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(body["data"].as_array().unwrap()), [core.id.as_str()]);
    let (_, body) = api
        .get(&query(&format!(r#"name eq "Finance" or id eq "{}""#, core.id)))
        .await;
    assert_eq!(
        ids(body["data"].as_array().unwrap()),
        [finance.id.clone(), core.id.clone()]
    );
    // Group names are case-sensitive.
    let (_, body) = api.get(&query(r#"name eq "finance""#)).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 0);
    let (status, _) = api.get(&query(r#"email eq "x""#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.get("/api/v1/groups?limit=101").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = api
        .post("/api/v1/groups", json!({"name": "New Group", "status": "active"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["name"], "New Group");
    assert_eq!(body["providerType"], "idp");
    let (status, body) = api
        .post("/api/v1/groups", json!({"name": "New Group", "status": "active"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    qlik_error_code(&body, status);
    // Case differs: a different group.
    let (status, _) = api
        .post(
            "/api/v1/groups",
            json!({"name": "new group", "providerType": "custom"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api.post("/api/v1/groups", json!({"status": "active"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, body) = api.get(&query(r#"name eq "New Group""#)).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn groups_page_20_by_default() {
    let api = start_with(generate::large_tenant(1), |_| {}).await;
    let (_, body) = api.get("/api/v1/groups").await;
    assert_eq!(body["data"].as_array().unwrap().len(), 20);
    let (items, pages) = api.all_pages("/api/v1/groups?limit=100").await;
    assert_eq!((items.len(), pages), (500, 5));
}

#[tokio::test]
async fn requests_without_valid_credentials_get_401() {
    let api = start(|_| {}).await;
    let url = api.url("/api/v1/spaces");
    for req in [
        api.http.get(&url),
        api.http.get(&url).bearer_auth("wrong"),
        api.http.get(&url).header("authorization", api.token.clone()),
        api.http.get(&url).basic_auth("admin", Some(&api.token)),
    ] {
        let (status, _, body) = api.send(req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        qlik_error_code(&body, status);
    }
    // The second key works too, and acts as its own user.
    let second = api.sim.api_keys()[1].clone();
    let (status, _, _) = api.send(api.http.get(&url).bearer_auth(&second)).await;
    assert_eq!(status, StatusCode::OK);
    let log = api.sim.request_log();
    assert_eq!(log.iter().filter(|r| r.status == 401).count(), 4);
    assert_eq!(log.last().unwrap().credential.as_deref(), Some("ops"));
}

#[tokio::test]
async fn oauth_tokens_work_and_expire() {
    let api = start(|_| {}).await;
    let (client_id, secret) = api.sim.oauth_clients()[0].clone();
    let token_url = api.url("/oauth/token");
    let request = json!({"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials", "scope": "admin_classic"});
    let (status, _, body) = api.send(api.http.post(&token_url).json(&request)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 6 * 3600);
    let token = body["access_token"].as_str().unwrap().to_owned();
    let (status, _, _) = api
        .send(api.http.get(api.url("/api/v1/spaces")).bearer_auth(&token))
        .await;
    assert_eq!(status, StatusCode::OK);
    let log = api.sim.request_log();
    assert_eq!(
        log.last().unwrap().credential.as_deref(),
        Some(client_id.as_str())
    );
    let dump = format!("{log:?}");
    assert!(
        !dump.contains(&secret) && !dump.contains(&token),
        "secrets must not be logged"
    );

    // Form-encoded works too.
    let form = [
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
        ("grant_type", "client_credentials"),
    ];
    let (status, _, _) = api.send(api.http.post(&token_url).form(&form)).await;
    assert_eq!(status, StatusCode::OK);

    let wrong = json!({"client_id": client_id, "client_secret": "nope", "grant_type": "client_credentials"});
    let (status, _, body) = api.send(api.http.post(&token_url).json(&wrong)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );
    let grant = json!({"client_id": client_id, "client_secret": secret, "grant_type": "password"});
    let (status, _, body) = api.send(api.http.post(&token_url).json(&grant)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
}

#[tokio::test]
async fn expired_tokens_get_401() {
    let api = start(|c| c.token_ttl = std::time::Duration::ZERO).await;
    let (client_id, secret) = api.sim.oauth_clients()[0].clone();
    let request =
        json!({"client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"});
    let (_, _, body) = api
        .send(api.http.post(api.url("/oauth/token")).json(&request))
        .await;
    assert_eq!(body["expires_in"], 0);
    let token = body["access_token"].as_str().unwrap();
    let (status, _, body) = api
        .send(api.http.get(api.url("/api/v1/spaces")).bearer_auth(token))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["errors"][0]["detail"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let api = start(|_| {}).await;
    let (status, body) = api.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test]
async fn users_filter_by_assigned_group_answers_the_members() {
    let api = start(|_| {}).await;
    let t = small();
    let users = t.users();
    let (a, b, c) = (&users[0].id, &users[1].id, &users[2].id);
    api.sim.set_group_members("g-one", &[b.as_str(), a.as_str()]);
    api.sim.set_group_members("g-two", &[c.as_str()]);
    let query = |filter: &str| format!("/api/v1/users?filter={}&limit=100", url_encode(filter));

    let (status, body) = api.get(&query(r#"assignedGroups.id eq "g-one""#)).await;
    assert_eq!(status, StatusCode::OK);
    // Tenant order, whatever order the members were set in.
    assert_eq!(ids(body["data"].as_array().unwrap()), [a.clone(), b.clone()]);
    let (_, body) = api
        .get(&query(
            r#"assignedGroups.id eq "g-one" or assignedGroups.id eq "g-two""#,
        ))
        .await;
    assert_eq!(ids(body["data"].as_array().unwrap()).len(), 3);
    let (_, body) = api.get(&query(r#"assignedGroups.id eq "nobody""#)).await;
    assert!(body["data"].as_array().unwrap().is_empty());
}
