//! Many simulated tenants at once, for fleet runs: each a copy of one tenant with keys of its
//! own (so a key of one tenant is refused by the others), served by its own [`crate::Sim`] at
//! its own base URL, with its own data and rate budget; and the fleet files that reach them.

use std::io;
use std::path::{Path, PathBuf};

use crate::Tenant;

/// One served tenant, as a fleet file lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FleetMember {
    /// The tenant's name in the fleet (`tenant-07`).
    pub name: String,
    /// Its base URL.
    pub url: String,
    /// Its first Qlik API key (a test key, not a secret).
    pub api_key: String,
}

/// The name of tenant `index` of a fleet of `count`: `tenant-01` ... `tenant-20`.
pub fn tenant_name(index: usize, count: usize) -> String {
    let width = count.max(1).to_string().len().max(2);
    format!("tenant-{:0width$}", index + 1)
}

/// Tenant `index` of a fleet made from `base`: the same spaces, users and groups, and keys,
/// OAuth secrets and tenant id of its own.
pub fn tenant_copy(base: &Tenant, index: usize) -> Tenant {
    let mut tenant = base.clone();
    let suffix = format!("-t{}", index + 1);
    tenant.tenant_id.push_str(&suffix);
    for key in &mut tenant.api_keys {
        key.key.push_str(&suffix);
    }
    for client in &mut tenant.oauth_clients {
        client.client_secret.push_str(&suffix);
    }
    for key in &mut tenant.alumio.api_keys {
        key.key.push_str(&suffix);
    }
    tenant
}

/// Write a fleet named `fleet` for `members` into `dir`: `tenants.csv` (name,server), one key
/// file per tenant in `keys/` (readable by the owner only), and `roster.toml` with
/// `[fleets.FLEET]` reading them. `extra` is added to the fleet's table as is (limits, pace).
/// Returns the `roster.toml` path.
pub fn write_fleet(dir: &Path, fleet: &str, members: &[FleetMember], extra: &str) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir.join("keys"))?;
    let mut csv = String::from("name,server\n");
    for member in members {
        csv.push_str(&format!("{},{}\n", member.name, member.url));
        let key_path = dir.join("keys").join(format!("{}.key", member.name));
        std::fs::write(&key_path, format!("{}\n", member.api_key))?;
        restrict(&key_path)?;
    }
    std::fs::write(dir.join("tenants.csv"), csv)?;
    let config = format!(
        "# A fleet of {} simulated tenants, written by `roster sim --tenants`.\n\
         [fleets.{fleet}]\nkind = \"qlik\"\nservers_file = \"tenants.csv\"\n\
         api_key_file = \"keys/{{name}}.key\"\n{extra}",
        members.len()
    );
    let path = dir.join("roster.toml");
    std::fs::write(&path, config)?;
    Ok(path)
}

#[cfg(unix)]
fn restrict(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_have_keys_of_their_own_and_the_fleet_files_reach_them() {
        let base = crate::generate::small_tenant();
        let (a, b) = (tenant_copy(&base, 0), tenant_copy(&base, 1));
        assert_ne!(a.api_keys[0].key, b.api_keys[0].key);
        assert_ne!(a.api_keys[0].key, base.api_keys[0].key);
        assert_eq!(a.spaces, base.spaces);
        assert_eq!(tenant_name(0, 20), "tenant-01");
        assert_eq!(tenant_name(99, 100), "tenant-100");

        let dir = tempfile::tempdir().unwrap();
        let members = [FleetMember {
            name: "tenant-01".to_owned(),
            url: "http://127.0.0.1:1".to_owned(),
            api_key: "k1".to_owned(),
        }];
        let config = write_fleet(dir.path(), "sim", &members, "tier2_per_min = 60\n").unwrap();
        let text = std::fs::read_to_string(config).unwrap();
        assert!(
            text.contains("[fleets.sim]") && text.contains("tier2_per_min = 60"),
            "{text}"
        );
        let csv = std::fs::read_to_string(dir.path().join("tenants.csv")).unwrap();
        assert_eq!(csv, "name,server\ntenant-01,http://127.0.0.1:1\n");
        let key = std::fs::read_to_string(dir.path().join("keys/tenant-01.key")).unwrap();
        assert_eq!(key.trim(), "k1");
    }
}
