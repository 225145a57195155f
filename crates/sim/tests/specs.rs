//! The simulator against Qlik's OpenAPI files in `crates/sim/specs/qlik` (copied from the
//! source named in their `SOURCE.md`): every operation the simulator knows is in a spec, with the
//! tier the spec's `x-qlik-tier` gives it.
#![expect(clippy::unwrap_used, reason = "a test of committed files panics on a bad one")]

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_norway::Value;

/// (method, path) -> the spec's tier, over every spec file.
fn spec_tiers() -> BTreeMap<(String, String), String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("specs/qlik");
    let mut tiers = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("yml") {
            continue;
        }
        let spec: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let Some(paths) = spec.get("paths").and_then(Value::as_mapping) else {
            continue;
        };
        for (route, ops) in paths {
            let route = route.as_str().unwrap();
            for (method, op) in ops.as_mapping().unwrap() {
                let Some(tier) = op.get("x-qlik-tier").and_then(|t| t.get("tier")) else {
                    continue;
                };
                let tier = tier.as_str().map_or_else(|| format!("{tier:?}"), str::to_owned);
                tiers.insert((method.as_str().unwrap().to_uppercase(), route.to_owned()), tier);
            }
        }
    }
    tiers
}

#[test]
fn every_operation_has_its_specs_tier() {
    let specs = spec_tiers();
    assert!(specs.len() > 40, "the specs were read: {}", specs.len());
    let ours = sim::operation_tiers();
    for (method, path, tier) in &ours {
        let key = (method.to_string(), path.to_string());
        let Some(spec) = specs.get(&key) else {
            panic!("{method} {path} is in no spec");
        };
        assert_eq!(spec, &tier.to_string(), "{method} {path}");
    }
    // The tenant-configuration operations are all there.
    for (method, path) in [
        ("GET", "/api/v1/groups/settings"),
        ("PATCH", "/api/v1/groups/settings"),
        ("GET", "/api/v1/licenses/settings"),
        ("PUT", "/api/v1/licenses/settings"),
        ("GET", "/api/v1/roles"),
        ("GET", "/api/v1/roles/{id}"),
        ("POST", "/api/v1/groups"),
        ("PATCH", "/api/v1/groups/{groupId}"),
        ("GET", "/api/v1/users/me"),
        ("GET", "/api/v1/spaces/types"),
        ("PATCH", "/api/v1/spaces/{spaceId}"),
        ("DELETE", "/api/v1/spaces/{spaceId}"),
        ("DELETE", "/api/v1/groups/{groupId}"),
    ] {
        assert!(
            ours.iter().any(|(m, p, _)| *m == method && *p == path),
            "{method} {path}"
        );
    }
}
