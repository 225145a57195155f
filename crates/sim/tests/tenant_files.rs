//! The tenant files in `data/` load, and the committed small tenant is the generator's output.
//!
//! After changing `sim::generate::small_tenant`, regenerate the file with
//! `UPDATE_TENANT_FILES=1 cargo test -p sim --test tenant_files`.

use std::path::PathBuf;

use sim::{SpaceType, Tenant, generate};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(name)
}

#[test]
fn small_tenant_file_is_the_generator_output() {
    let expected = generate::small_tenant().to_json_pretty();
    let path = data("tenant-small.json");
    if std::env::var_os("UPDATE_TENANT_FILES").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == expected,
        "data/tenant-small.json is stale: see this test's module docs"
    );
    let loaded = Tenant::load(&path).unwrap();
    assert_eq!(loaded, generate::small_tenant());
}

#[test]
fn small_tenant_has_what_tests_rely_on() {
    let t = generate::small_tenant();
    for ty in [SpaceType::Shared, SpaceType::Managed, SpaceType::Data] {
        assert!(t.spaces().iter().any(|s| s.space_type == ty), "no {ty} space");
    }
    assert_eq!(t.users().len(), 20);
    assert_eq!(t.users().iter().filter(|u| u.email.is_none()).count(), 1);
    assert!(t.group_by_name("R&D \"Core\"").is_some());
    assert!(t.user_by_email("ADA.ADMIN@example.com").is_some());
    assert!(t.space_by_name("Finance (dev)").is_some());
    assert!(t.space_by_name("finance (dev)").is_none());
    assert!(!t.assignments().is_empty());
    assert_eq!(t.api_keys().len(), 2);
    assert_eq!(t.oauth_clients().len(), 1);
    assert_eq!(t.alumio().spaces.len(), 3);
    assert!(!t.alumio().api_keys.is_empty());
    // Every credential acts as its own user, so their rate limits are independent.
    let mut users: Vec<&str> = t.api_keys().iter().map(|k| k.user_id.as_str()).collect();
    users.extend(t.oauth_clients().iter().map(|c| c.user_id.as_str()));
    let n = users.len();
    users.sort_unstable();
    users.dedup();
    assert_eq!(users.len(), n);
}

#[test]
fn large_tenant_file_generates_a_big_deterministic_tenant() {
    let loaded = Tenant::load(&data("tenant-large.json")).unwrap();
    assert!(loaded.users().len() >= 5000);
    assert!(loaded.groups().len() >= 500);
    assert!(loaded.spaces().len() >= 200);
    assert!(loaded.assignments().len() > 1000);
    assert_eq!(loaded, generate::large_tenant(1));
    assert_ne!(generate::large_tenant(2), loaded);
    // Stable across releases: pin a few facts of seed 1.
    assert_eq!(loaded.tenant_id, generate::large_tenant(1).tenant_id);
}

#[test]
fn invalid_tenants_are_rejected_with_a_reason() {
    let mut t = generate::small_tenant();
    t.assignments[1].assignee_id = t.assignments[0].assignee_id.clone();
    t.assignments[1].space_id = t.assignments[0].space_id.clone();
    let err = Tenant::from_json(&t.to_json_pretty()).unwrap_err();
    assert!(err.to_string().contains("duplicate"), "{err}");

    let mut t = generate::small_tenant();
    t.spaces[0].name = "a/b".to_owned();
    assert!(Tenant::from_json(&t.to_json_pretty()).is_err());

    let mut t = generate::small_tenant();
    t.assignments[0].roles = vec!["Consumer".to_owned()];
    assert!(Tenant::from_json(&t.to_json_pretty()).is_err());

    let mut t = generate::small_tenant();
    t.version = 99;
    assert!(
        Tenant::from_json(&t.to_json_pretty())
            .unwrap_err()
            .to_string()
            .contains("version")
    );

    assert!(Tenant::from_json("{").is_err());
    assert!(Tenant::from_json(r#"{"version":1,"generate":{"preset":"huge"}}"#).is_err());
    assert!(Tenant::load(&data("no-such-tenant.json")).is_err());
}
