//! The tenant-configuration endpoints against their specs: group and license settings, roles,
//! creating and patching groups, `/users/me`, space types, patching, deleting and sorting
//! spaces, the 403 of a user without the role an operation needs, and each operation's tier.
#![expect(clippy::unwrap_used, reason = "test helpers panic on unexpected answers")]

mod common;

use common::{Api, qlik_error_code, start, start_with};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sim::{Tenant, WriteOp, WriteResource, default_roles, generate};

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

/// The licenses API's error body, and its first code.
fn licenses_error_code(body: &Value) -> String {
    assert!(body["error"].is_string(), "{body}");
    assert!(body["message"].is_string(), "{body}");
    let e = &body["errors"][0];
    assert!(e["title"].is_string(), "{body}");
    e["code"].as_str().unwrap().to_owned()
}

fn role_id(name: &str) -> String {
    default_roles().into_iter().find(|r| r.name == name).unwrap().id
}

#[tokio::test]
async fn groups_settings_read_and_patch_all_or_nothing() {
    let api = start(|_| {}).await;
    let (status, body) = api.get("/api/v1/groups/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["autoCreateGroups"], true);
    assert_eq!(body["syncIdpGroups"], false);
    assert_eq!(body["tenantId"], generate::small_tenant().tenant_id);
    let everyone = &body["systemGroups"]["000000000000000000000001"];
    assert_eq!(everyone["name"], "com.qlik.Everyone");
    assert_eq!(
        everyone["assignedRoles"][0]["name"],
        "PrivateAnalyticsContentCreator"
    );
    assert!(
        body["links"]["self"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/api/v1/groups/settings")
    );

    let patch = json!([
        { "op": "replace", "path": "/syncIdpGroups", "value": true },
        { "op": "replace", "path": "/autoCreateGroups", "value": false },
        { "op": "replace", "path": "/systemGroups/000000000000000000000001/assignedRoles",
          "value": [{ "name": "Steward" }, { "id": role_id("Developer") }] },
    ]);
    let (status, body) = api.patch("/api/v1/groups/settings", patch).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, body) = api.get("/api/v1/groups/settings").await;
    assert_eq!(
        (&body["autoCreateGroups"], &body["syncIdpGroups"]),
        (&json!(false), &json!(true))
    );
    let roles = body["systemGroups"]["000000000000000000000001"]["assignedRoles"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(names(&roles), ["Steward", "Developer"]);
    let log = api.sim.write_log();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].resource, WriteResource::GroupsSettings);
    assert_eq!(log[0].op, WriteOp::Update);
    assert_eq!(log[0].changed.len(), 3);
    assert!(
        api.sim.stats().writes_applied.is_empty(),
        "only assignments count there"
    );

    // Each bad patch is a 400 with the spec's error body, and nothing of it applies.
    for bad in [
        json!([{ "op": "replace", "path": "/autoCreateGroups", "value": true },
               { "op": "add", "path": "/syncIdpGroups", "value": false }]),
        json!([{ "op": "replace", "path": "/autoCreateGroups", "value": true },
               { "op": "replace", "path": "/nope", "value": true }]),
        json!([{ "op": "replace", "path": "/autoCreateGroups", "value": "yes" }]),
        json!([{ "op": "replace", "path": "/autoCreateGroups", "value": true },
               { "op": "replace", "path": "/systemGroups/000000000000000000000001/assignedRoles",
                 "value": [{ "name": "NoSuchRole" }] }]),
        json!([{ "op": "replace", "path": "/autoCreateGroups" }]),
        json!({ "autoCreateGroups": true }),
    ] {
        let (status, body) = api.patch("/api/v1/groups/settings", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(qlik_error_code(&body, status), "HTTP-400");
    }
    let (_, body) = api.get("/api/v1/groups/settings").await;
    assert_eq!(body["autoCreateGroups"], false, "no bad patch applied");
    assert_eq!(api.sim.write_log().len(), 1);
    assert!(!api.sim.tenant().groups_settings.auto_create_groups);
}

#[tokio::test]
async fn license_settings_read_and_put_replace_the_document() {
    let api = start(|_| {}).await;
    let (status, body) = api.get("/api/v1/licenses/settings").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "autoAssignProfessional": false, "autoAssignAnalyzer": true })
    );

    let (status, body) = api
        .put(
            "/api/v1/licenses/settings",
            json!({ "autoAssignProfessional": true, "autoAssignAnalyzer": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({ "autoAssignProfessional": true, "autoAssignAnalyzer": true })
    );
    // A field left out of a PUT is not kept.
    let (_, body) = api
        .put(
            "/api/v1/licenses/settings",
            json!({ "autoAssignProfessional": false }),
        )
        .await;
    assert_eq!(
        body,
        json!({ "autoAssignProfessional": false, "autoAssignAnalyzer": false })
    );
    let (_, body) = api.get("/api/v1/licenses/settings").await;
    assert_eq!(body["autoAssignAnalyzer"], false);
    let log = api.sim.write_log();
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|w| w.resource == WriteResource::LicenseSettings));
    assert_eq!(log[1].changed, ["autoAssignProfessional"]);

    for bad in [
        json!({ "autoAssignAnalyzer": "yes" }),
        json!({ "other": true }),
        json!([]),
    ] {
        let (status, body) = api.put("/api/v1/licenses/settings", bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(licenses_error_code(&body), "HTTP-400");
    }
    assert_eq!(api.sim.write_log().len(), 2);
    assert!(!api.sim.tenant().license_settings.auto_assign_professional);
}

#[tokio::test]
async fn roles_page_filter_sort_and_read_one() {
    let api = start(|_| {}).await;
    let (status, body) = api.get("/api/v1/roles").await;
    assert_eq!(status, StatusCode::OK);
    let all = body["data"].as_array().unwrap().clone();
    assert_eq!(all.len(), default_roles().len());
    assert!(body.get("totalResults").is_none());
    let first = &all[0];
    for key in [
        "id",
        "tenantId",
        "name",
        "type",
        "description",
        "createdAt",
        "lastUpdatedAt",
    ] {
        assert!(first[key].is_string(), "{key}: {first}");
    }
    assert!(
        first["links"]["self"]["href"]
            .as_str()
            .unwrap()
            .contains("/api/v1/roles/")
    );
    for name in [
        "TenantAdmin",
        "AnalyticsAdmin",
        "AuditAdmin",
        "DataAdmin",
        "Developer",
    ] {
        assert!(names(&all).contains(&name.to_owned()), "{name}");
    }

    let (items, pages) = api.all_pages("/api/v1/roles?limit=5").await;
    assert_eq!(items, all);
    assert_eq!(pages, all.len().div_ceil(5));

    // "All conditional statements within this query parameter are case insensitive."
    let (_, body) = api
        .get("/api/v1/roles?filter=name%20eq%20%22tenantadmin%22&totalResults=true")
        .await;
    assert_eq!(names(body["data"].as_array().unwrap()), ["TenantAdmin"]);
    assert_eq!(body["totalResults"], 1);
    let (_, body) = api
        .get("/api/v1/roles?filter=level%20eq%20%22admin%22%20and%20name%20co%20%22admin%22")
        .await;
    let admins = names(body["data"].as_array().unwrap());
    assert!(admins.contains(&"AuditAdmin".to_owned()) && !admins.contains(&"Developer".to_owned()));

    let (_, body) = api.get("/api/v1/roles?sort=-name&limit=100").await;
    let sorted = names(body["data"].as_array().unwrap());
    let mut expected = names(&all);
    expected.sort_by_key(|n| std::cmp::Reverse(n.to_lowercase()));
    assert_eq!(sorted, expected);

    let id = role_id("AuditAdmin");
    let (status, body) = api.get(&format!("/api/v1/roles/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "AuditAdmin");
    assert_eq!(body["level"], "admin");
    let (status, body) = api.get("/api/v1/roles/000000000000000000000bad").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
    for bad in [
        "limit=0",
        "limit=101",
        "sort=colour",
        "filter=name%20lt%20%22a%22",
        "next=garbage",
    ] {
        let (status, body) = api.get(&format!("/api/v1/roles?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        qlik_error_code(&body, status);
    }
}

#[tokio::test]
async fn groups_are_created_with_roles_once_and_patched() {
    let api = start(|_| {}).await;
    let (status, body) = api
        .post(
            "/api/v1/groups",
            json!({ "name": "Embedded Admins", "providerType": "custom",
                    "description": "Admins of the embedded tenant",
                    "assignedRoles": [{ "name": "AnalyticsAdmin" }, { "name": "AuditAdmin" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        names(body["assignedRoles"].as_array().unwrap()),
        ["AnalyticsAdmin", "AuditAdmin"]
    );
    assert_eq!(body["assignedRoles"][0]["id"], role_id("AnalyticsAdmin"));
    assert_eq!(body["assignedRoles"][0]["level"], "admin");
    assert_eq!(body["assignedRoles"][0]["type"], "default");
    assert_eq!(body["description"], "Admins of the embedded tenant");

    // A duplicate name (case-sensitive) is a 409 with the spec's error body.
    let (status, body) = api
        .post("/api/v1/groups", json!({ "name": "Embedded Admins" }))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    qlik_error_code(&body, status);
    let (status, _) = api
        .post("/api/v1/groups", json!({ "name": "embedded admins" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api
        .post(
            "/api/v1/groups",
            json!({ "name": "X", "assignedRoles": [{ "name": "Wizard" }] }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"][0]["detail"].as_str().unwrap().contains("Wizard"),
        "{body}"
    );

    // Replace the roles, by id (the spec's enum has no slash, its example has one: both work).
    for path in ["/assignedRoles", "assignedRoles"] {
        let (status, body) = api
            .patch(
                &format!("/api/v1/groups/{id}"),
                json!([{ "op": "replace", "path": path,
                         "value": [{ "id": role_id("DataAdmin") }] }]),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    }
    let (_, body) = api.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(names(body["assignedRoles"].as_array().unwrap()), ["DataAdmin"]);
    let (status, _) = api
        .patch(
            &format!("/api/v1/groups/{id}"),
            json!([{ "op": "replace", "path": "/assignedRoles", "value": [] }]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = api.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(body["assignedRoles"], json!([]));

    // An unknown role id is the spec's 400, and nothing changes.
    let (status, body) = api
        .patch(
            &format!("/api/v1/groups/{id}"),
            json!([{ "op": "replace", "path": "/assignedRoles", "value": [{ "name": "Developer" }] },
                   { "op": "replace", "path": "/assignedRoles", "value": [{ "id": "ffffffffffffffffffffffff" }] }]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(qlik_error_code(&body, status), "HTTP-400");
    let (_, body) = api.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(body["assignedRoles"], json!([]));
    for bad in [
        json!([{ "op": "add", "path": "/assignedRoles", "value": [] }]),
        json!([{ "op": "replace", "path": "/status", "value": "disabled" }]),
        json!({ "op": "replace" }),
    ] {
        let (status, _) = api.patch(&format!("/api/v1/groups/{id}"), bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, body) = api
        .patch(
            "/api/v1/groups/nope",
            json!([{ "op": "replace", "path": "/assignedRoles", "value": [] }]),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
    // Names and descriptions change on custom groups only.
    let idp = api
        .sim
        .tenant()
        .groups
        .iter()
        .find(|g| g.provider_type == "idp")
        .unwrap()
        .id
        .clone();
    let (status, _) = api
        .patch(
            &format!("/api/v1/groups/{idp}"),
            json!([{ "op": "replace", "path": "/name", "value": "Z" }]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .patch(
            &format!("/api/v1/groups/{id}"),
            json!([{ "op": "replace", "path": "/name", "value": "Renamed" }]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = api.get("/api/v1/groups?filter=name%20eq%20%22Renamed%22").await;
    assert_eq!(body["data"][0]["id"], id.as_str());

    let log = api.sim.write_log();
    let creates: Vec<_> = log
        .iter()
        .filter(|w| w.resource == WriteResource::Group && w.op == WriteOp::Create)
        .collect();
    assert_eq!(creates.len(), 2);
    assert_eq!(creates[0].roles, ["AnalyticsAdmin", "AuditAdmin"]);
    let updates: Vec<_> = log.iter().filter(|w| w.op == WriteOp::Update).collect();
    assert_eq!(updates.len(), 4, "{log:?}");
    assert!(
        updates
            .iter()
            .all(|w| w.resource == WriteResource::Group && w.id == id)
    );
    assert_eq!(updates[0].roles, ["DataAdmin"]);
    assert_eq!(updates[0].changed, ["assignedRoles"]);
    let stored = api.sim.tenant();
    assert_eq!(stored.group_by_id(&id).unwrap().name, "Renamed");
}

#[tokio::test]
async fn users_me_redirects_to_the_callers_user() {
    let api = start(|_| {}).await;
    let tenant = generate::small_tenant();
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = plain
        .get(api.url("/api/v1/users/me"))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    assert_eq!(status, StatusCode::MOVED_PERMANENTLY);
    let admin = &tenant.users()[0];
    assert_eq!(
        headers["location"].to_str().unwrap(),
        api.url(&format!("/api/v1/users/{}", admin.id))
    );
    // Followed, it is the caller's user with its tenant roles.
    let (status, body) = api.get("/api/v1/users/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], admin.id.as_str());
    assert_eq!(names(body["assignedRoles"].as_array().unwrap()), ["TenantAdmin"]);
    let (_, body) = api.with_key(1).get("/api/v1/users/me").await;
    assert_eq!(body["id"], tenant.users()[1].id.as_str());
    assert_eq!(
        names(body["assignedRoles"].as_array().unwrap()),
        ["AnalyticsAdmin"]
    );
}

#[tokio::test]
async fn spaces_types_patch_delete_and_sort() {
    let api = start(|_| {}).await;
    let tenant = generate::small_tenant();
    let (status, body) = api.get("/api/v1/spaces/types").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "data": ["shared", "managed", "data"] }));

    let space = tenant.space_by_name("Sandbox").unwrap().clone();
    let path = format!("/api/v1/spaces/{}", space.id);
    let (status, body) = api
        .patch(
            &path,
            json!([{ "op": "replace", "path": "/description", "value": "Play here" },
                   { "op": "replace", "path": "/name", "value": "Sandbox 2" }]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["description"], "Play here");
    assert_eq!(body["name"], "Sandbox 2");
    assert_eq!(body["type"], "shared");
    let (_, body) = api.get(&path).await;
    assert_eq!(body["name"], "Sandbox 2");

    let (status, body) = api
        .patch(
            &path,
            json!([{ "op": "replace", "path": "/type", "value": "managed" }]),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"][0]["detail"].as_str().unwrap().contains("type"),
        "{body}"
    );
    let (status, body) = api
        .patch(
            &path,
            json!([{ "op": "replace", "path": "/name", "value": "FINANCE" }]),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    qlik_error_code(&body, status);
    for bad in [
        json!([{ "op": "replace", "path": "/name", "value": "a/b" }]),
        json!([{ "op": "remove", "path": "/description", "value": "" }]),
        json!([{ "op": "replace", "path": "/description", "value": 3 }]),
    ] {
        let (status, _) = api.patch(&path, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _) = api
        .patch(
            "/api/v1/spaces/nope",
            json!([{ "op": "replace", "path": "/name", "value": "x" }]),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Sort: by name, type or createdAt, ascending unless prefixed with '-'.
    let (_, body) = api.get("/api/v1/spaces?sort=name&limit=100").await;
    let sorted = names(body["data"].as_array().unwrap());
    let mut expected = sorted.clone();
    expected.sort_by_key(|n| n.to_lowercase());
    assert_eq!(sorted, expected);
    assert_eq!(sorted.len(), 6);
    let (_, body) = api.get("/api/v1/spaces?sort=-name&limit=2").await;
    assert_eq!(
        names(body["data"].as_array().unwrap()),
        ["Sandbox 2", "Sales Dashboards"]
    );
    let next = body["links"]["next"]["href"].as_str().unwrap().to_owned();
    assert!(next.contains("sort=-name"), "{next}");
    let (_, page2) = api.get_url(&next).await;
    assert_eq!(
        names(page2["data"].as_array().unwrap()),
        ["Marketing & Brand", "Finance (dev)"]
    );
    let (_, body) = api.get("/api/v1/spaces?sort=%2Btype").await;
    let types: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["data", "managed", "managed", "shared", "shared", "shared"]
    );
    let (_, body) = api.get("/api/v1/spaces?sort=-createdAt").await;
    assert_eq!(body["data"][0]["id"], tenant.spaces().last().unwrap().id.as_str());
    let (status, body) = api.get("/api/v1/spaces?sort=owner").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    qlik_error_code(&body, status);

    // Delete: 204, the space and its assignments are gone.
    let assigned = tenant.space_by_name("Finance (dev)").unwrap().id.clone();
    assert!(api.sim.assignments().iter().any(|a| a.space_id == assigned));
    let (status, body) = api.delete(&format!("/api/v1/spaces/{assigned}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = api.get(&format!("/api/v1/spaces/{assigned}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(api.sim.assignments().iter().all(|a| a.space_id != assigned));
    let (status, _) = api.delete(&format!("/api/v1/spaces/{assigned}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, body) = api.get("/api/v1/spaces").await;
    assert_eq!(body["meta"]["count"], 5);
    // The other spaces are still found by id after the removal shifted them.
    for s in tenant.spaces().iter().filter(|s| s.id != assigned) {
        let (status, _) = api.get(&format!("/api/v1/spaces/{}", s.id)).await;
        assert_eq!(status, StatusCode::OK, "{}", s.name);
    }

    let log = api.sim.write_log();
    let kinds: Vec<(WriteResource, WriteOp, &str)> = log
        .iter()
        .map(|w| (w.resource, w.op, w.space_id.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (WriteResource::Space, WriteOp::Update, space.id.as_str()),
            (WriteResource::Space, WriteOp::Delete, assigned.as_str()),
        ]
    );
    assert_eq!(log[0].changed, ["description", "name"]);

    // Creating a space is in the write log too.
    let (status, body) = api
        .post(
            "/api/v1/spaces",
            json!({ "name": "Customer Staging", "type": "shared" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let last = api.sim.write_log().pop().unwrap();
    assert_eq!((last.resource, last.op), (WriteResource::Space, WriteOp::Create));
    assert_eq!(last.id, body["id"].as_str().unwrap());
}

#[tokio::test]
async fn a_user_without_the_role_gets_403_with_the_specs_body() {
    let admin = start(|_| {}).await;
    let ops = admin.with_key(1); // AnalyticsAdmin, not TenantAdmin
    let group = generate::small_tenant().groups()[0].id.clone();
    let calls: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::GET, "/api/v1/groups/settings".into(), None),
        (
            reqwest::Method::PATCH,
            "/api/v1/groups/settings".into(),
            Some(json!([{ "op": "replace", "path": "/autoCreateGroups", "value": false }])),
        ),
        (reqwest::Method::GET, "/api/v1/roles".into(), None),
        (
            reqwest::Method::GET,
            format!("/api/v1/roles/{}", role_id("TenantAdmin")),
            None,
        ),
        (
            reqwest::Method::POST,
            "/api/v1/groups".into(),
            Some(json!({ "name": "New" })),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/groups/{group}"),
            Some(json!([{ "op": "replace", "path": "/assignedRoles", "value": [] }])),
        ),
    ];
    for (method, path, body) in calls {
        let mut req = ops
            .http
            .request(method.clone(), ops.url(&path))
            .bearer_auth(&ops.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let (status, _, answer) = ops.send(req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(qlik_error_code(&answer, status), "HTTP-403");
        assert!(
            answer["errors"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("TenantAdmin")
        );
    }
    for (method, body) in [
        (reqwest::Method::GET, None),
        (reqwest::Method::PUT, Some(json!({}))),
    ] {
        let mut req = ops
            .http
            .request(method.clone(), ops.url("/api/v1/licenses/settings"))
            .bearer_auth(&ops.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let (status, _, answer) = ops.send(req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method}");
        assert_eq!(licenses_error_code(&answer), "HTTP-403");
    }
    assert!(admin.sim.write_log().is_empty(), "no refused call wrote");
    // What needs no tenant role still works, and a space's owner may change it.
    let (status, _) = ops.get("/api/v1/spaces").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = ops.get("/api/v1/groups").await;
    assert_eq!(status, StatusCode::OK);
    let tenant = generate::small_tenant();
    let mine = tenant
        .spaces()
        .iter()
        .find(|s| s.owner_id == tenant.users()[1].id)
        .unwrap();
    let theirs = tenant
        .spaces()
        .iter()
        .find(|s| s.owner_id == tenant.users()[0].id)
        .unwrap();
    let rename = json!([{ "op": "replace", "path": "/description", "value": "mine" }]);
    let (status, _) = ops
        .patch(&format!("/api/v1/spaces/{}", mine.id), rename.clone())
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ops.patch(&format!("/api/v1/spaces/{}", theirs.id), rename).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    qlik_error_code(&body, status);
    let (status, _) = ops.delete(&format!("/api/v1/spaces/{}", theirs.id)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let statuses: Vec<u16> = admin.sim.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 403).count(), 10);
}

#[tokio::test]
async fn each_operation_counts_against_its_specs_tier() {
    let api = start(|c| {
        c.tier1_per_min = Some(1000);
        c.tier2_per_min = Some(60);
    })
    .await;
    let group = generate::small_tenant().groups()[1].id.clone();
    let reads = [
        "/api/v1/groups/settings",
        "/api/v1/licenses/settings",
        "/api/v1/roles",
        "/api/v1/spaces/types",
        "/api/v1/users/me",
    ];
    for path in reads {
        let (status, _) = api.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    // Two Tier 2 writes fit the 1 s burst of 60/min; the third new kind of write is refused.
    let (status, _) = api
        .patch(
            "/api/v1/groups/settings",
            json!([{ "op": "replace", "path": "/syncIdpGroups", "value": true }]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api
        .patch(
            &format!("/api/v1/groups/{group}"),
            json!([{ "op": "replace", "path": "/assignedRoles", "value": [] }]),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, headers, body) = api
        .send(
            api.http
                .put(api.url("/api/v1/licenses/settings"))
                .bearer_auth(&api.token)
                .json(&json!({ "autoAssignAnalyzer": true })),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(headers.contains_key("retry-after"));
    assert_eq!(licenses_error_code(&body), "HTTP-429");
    // Tier 1 is untouched by the blocked Tier 2.
    let (status, _) = api.get("/api/v1/roles").await;
    assert_eq!(status, StatusCode::OK);
    let log = api.sim.request_log();
    for r in &log {
        let expected = if r.method == "GET" { 1 } else { 2 };
        assert_eq!(r.tier, Some(expected), "{} {}", r.method, r.path);
    }
    assert_eq!(log.iter().filter(|r| r.status == 429).count(), 1);
    // The operation table gives every read Tier 1 and every write Tier 2, as the specs do.
    for (method, path, tier) in sim::operation_tiers() {
        assert_eq!(tier, if method == "GET" { 1 } else { 2 }, "{method} {path}");
    }
}

#[tokio::test]
async fn a_tenant_file_without_the_new_keys_loads_with_defaults() {
    let mut value: Value = serde_json::from_str(&generate::small_tenant().to_json_pretty()).unwrap();
    let object = value.as_object_mut().unwrap();
    for key in ["roles", "groupsSettings", "licenseSettings"] {
        assert!(object.remove(key).is_some(), "the small tenant shows {key}");
    }
    for user in object["users"].as_array_mut().unwrap() {
        user.as_object_mut().unwrap().remove("roles");
    }
    for group in object["groups"].as_array_mut().unwrap() {
        group.as_object_mut().unwrap().remove("roles");
    }
    let text = serde_json::to_string(&value).unwrap();
    assert!(
        !text.contains("AnalyticsAdmin") && !text.contains("Settings"),
        "an older file"
    );
    let tenant = Tenant::from_json(&text).unwrap();
    assert!(tenant.roles.is_empty());
    assert_eq!(tenant.effective_roles(), default_roles());
    assert_eq!(tenant.groups_settings, sim::GroupsSettings::default());
    assert_eq!(tenant.license_settings, sim::LicenseSettings::default());

    // Served: the built-in roles, default settings, and every key acts as a TenantAdmin.
    let api = start_with(tenant, |_| {}).await;
    let ops: Api = api.with_key(1);
    let (status, body) = ops.get("/api/v1/roles?limit=100").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"].as_array().unwrap().len(), default_roles().len());
    let (_, body) = ops.get("/api/v1/groups/settings").await;
    assert_eq!(
        (&body["autoCreateGroups"], &body["syncIdpGroups"]),
        (&json!(false), &json!(false))
    );
    let (_, body) = ops.get("/api/v1/licenses/settings").await;
    assert_eq!(
        body,
        json!({ "autoAssignProfessional": false, "autoAssignAnalyzer": false })
    );

    // A file's own roles replace the built-in set, and every role it names must exist.
    let mut custom = generate::small_tenant();
    custom.roles.retain(|r| r.name != "Steward");
    custom.groups_settings.everyone_roles = vec!["Steward".to_owned()];
    let err = Tenant::from_json(&custom.to_json_pretty()).unwrap_err();
    assert!(err.to_string().contains("Steward"), "{err}");
    let mut custom = generate::small_tenant();
    custom.users[0].roles = Some(vec!["Wizard".to_owned()]);
    assert!(Tenant::from_json(&custom.to_json_pretty()).is_err());
}

#[tokio::test]
async fn a_group_is_deleted_with_its_space_assignments() {
    let api = start(|_| {}).await;
    let tenant = generate::small_tenant();
    let (status, body) = api
        .post(
            "/api/v1/groups",
            json!({ "name": "Temp", "providerType": "custom" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let space = tenant.space_by_name("Sandbox").unwrap().clone();
    let assignments = format!("/api/v1/spaces/{}/assignments", space.id);
    let (status, body) = api
        .post(
            &assignments,
            json!({ "type": "group", "assigneeId": id, "roles": ["consumer"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, _) = api.delete(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api.get(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
    let (_, body) = api.get(&assignments).await;
    let left = body["data"].as_array().unwrap();
    assert!(left.iter().all(|a| a["assigneeId"] != json!(id)), "{body}");
    // The name is free again, and a second delete is a 404 with the spec's body.
    let (status, _) = api
        .post(
            "/api/v1/groups",
            json!({ "name": "Temp", "providerType": "custom" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api.delete(&format!("/api/v1/groups/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    qlik_error_code(&body, status);
    let log = api.sim.write_log();
    assert!(
        log.iter()
            .any(|w| w.op == WriteOp::Delete && w.resource == WriteResource::Group && w.id == id),
        "{log:?}"
    );
}
