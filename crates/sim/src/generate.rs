//! Deterministic tenants: the small one committed as `data/tenant-small.json`, the large one
//! that `data/tenant-large.json` asks for by preset and seed, and the uniform grids the benchmarks
//! ask for by size.
//!
//! The generator uses its own SplitMix64 rather than `rand`'s `StdRng`, whose algorithm may change
//! between releases: a seed must give the same tenant forever, or committed files and tests that
//! name users drift.

use crate::tenant::{
    AlumioApiKey, AlumioMember, AlumioSpace, AlumioTenant, AlumioUser, ApiKey, AssigneeType, Assignment,
    Group, GroupsSettings, LicenseSettings, OAuthClient, Space, SpaceType, TENANT_FORMAT_VERSION, Tenant,
    User, default_roles,
};

/// SplitMix64: tiny, stable, good enough to spread names and ids. Also the demo roster's
/// generator, so that one seed gives the same sequence in every crate, forever.
#[derive(Debug, Clone)]
pub struct Mix(u64);

impl Mix {
    /// A sequence that starts from `seed`; the same seed always gives the same sequence.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Mix(seed)
    }

    /// The next number of the sequence.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        // The modulo bias is irrelevant for test data.
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A Qlik-looking 24-hex-digit id.
    fn id(&mut self) -> String {
        format!("{:016x}{:08x}", self.next_u64(), self.next_u64() as u32)
    }

    fn secret(&mut self, prefix: &str) -> String {
        format!("{prefix}-{:016x}{:016x}", self.next_u64(), self.next_u64())
    }
}

const FIRST: &[&str] = &[
    "Ada", "Bram", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jana", "Kofi", "Lena",
    "Mateo", "Nora", "Oskar", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wim", "Xena",
    "Yusuf", "Zoe",
];
const LAST: &[&str] = &[
    "Jansen",
    "de Vries",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Dijkstra",
    "Kok",
    "Jacobs",
    "Vermeulen",
    "van Dam",
    "Schouten",
    "Willems",
];
const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Sales",
    "Marketing",
    "Operations",
    "HR",
    "Legal",
    "IT",
    "Data",
    "Support",
    "Procurement",
];
const REGIONS: &[&str] = &["EMEA", "AMER", "APAC", "Benelux", "Nordics"];

fn email_local(first: &str, last: &str) -> String {
    format!(
        "{}.{}",
        first.to_lowercase(),
        last.to_lowercase().replace(' ', "")
    )
}

/// The small tenant of `data/tenant-small.json`: six spaces of all three types, twenty users (one
/// without an email, one disabled, one invited), five groups (one with quotes in its name), some
/// assignments, two API keys and one OAuth client, each acting as its own user, and a small
/// Alumio environment.
pub fn small_tenant() -> Tenant {
    let mut mix = Mix(0x5EED_0000_0000_0001);
    let tenant_id = "sim-small-Xq9Gk2vSR8f9G7J-vYtHZQ".to_owned();
    let people: &[(&str, &str, &str)] = &[
        ("Ada", "Admin", "active"),
        ("Olga", "Ops", "active"),
        ("Bram", "Jansen", "active"),
        ("Chloe", "de Vries", "active"),
        ("Dmitri", "Bakker", "active"),
        ("Elif", "Visser", "active"),
        ("Farah", "Smit", "active"),
        ("Goran", "Meijer", "active"),
        ("Hana", "Mulder", "active"),
        ("Ivo", "Bos", "active"),
        ("Jana", "Vos", "active"),
        ("Kofi", "Peters", "active"),
        ("Lena", "Hendriks", "active"),
        ("Mateo", "Dekker", "active"),
        ("Nora", "Brouwer", "disabled"),
        ("Oskar", "Dijkstra", "invited"),
        ("Priya", "Kok", "active"),
        ("Quinn", "O'Hara", "active"),
        ("Rosa", "Jacobs", "active"),
    ];
    let mut users: Vec<User> = people
        .iter()
        .map(|(first, last, status)| {
            let local = email_local(first, last).replace('\'', "");
            User {
                id: mix.id(),
                subject: format!("auth0|{local}"),
                name: format!("{first} {last}"),
                email: Some(format!("{local}@example.com")),
                status: (*status).to_owned(),
                roles: None,
            }
        })
        .collect();
    // A service account: no email, so it can only be matched by subject.
    users.push(User {
        id: mix.id(),
        subject: "svc-roster-automation".to_owned(),
        name: "Roster Automation".to_owned(),
        email: None,
        status: "active".to_owned(),
        roles: None,
    });
    // The "ops" key's user administers analytics but not the tenant: the 403s' fixture.
    users[1].roles = Some(vec!["AnalyticsAdmin".to_owned()]);
    let uid = |i: usize| users[i].id.clone();

    let group_names = [
        "Finance",
        "Sales EMEA",
        "Data Engineers",
        "R&D \"Core\"",
        "Analysts",
    ];
    let groups: Vec<Group> = group_names
        .iter()
        .enumerate()
        .map(|(i, name)| Group {
            id: mix.id(),
            name: (*name).to_owned(),
            status: "active".to_owned(),
            provider_type: if i % 2 == 0 { "idp" } else { "custom" }.to_owned(),
            description: String::new(),
            roles: match i {
                0 => vec!["AnalyticsAdmin".to_owned()],
                2 => vec!["DataAdmin".to_owned(), "Developer".to_owned()],
                _ => Vec::new(),
            },
        })
        .collect();
    let gid = |i: usize| groups[i].id.clone();

    let space_defs: &[(&str, SpaceType, usize, &str)] = &[
        (
            "Finance (dev)",
            SpaceType::Shared,
            0,
            "Development space for the Finance team.",
        ),
        ("Finance", SpaceType::Managed, 0, "Published Finance apps."),
        ("Sales Dashboards", SpaceType::Managed, 1, "Sales reporting."),
        ("Data Lake", SpaceType::Data, 0, "Pipelines and data integration."),
        ("Sandbox", SpaceType::Shared, 2, ""),
        ("Marketing & Brand", SpaceType::Shared, 0, "Campaign analytics."),
    ];
    let spaces: Vec<Space> = space_defs
        .iter()
        .map(|(name, space_type, owner, description)| Space {
            id: mix.id(),
            name: (*name).to_owned(),
            space_type: *space_type,
            owner_id: uid(*owner),
            description: (*description).to_owned(),
            assignable_roles: None,
        })
        .collect();
    let sid = |i: usize| spaces[i].id.clone();

    let assignment_defs: &[(usize, AssigneeType, String, &[&str])] = &[
        (0, AssigneeType::User, uid(2), &["producer"]),
        (0, AssigneeType::User, uid(3), &["consumer"]),
        (0, AssigneeType::Group, gid(0), &["consumer", "dataconsumer"]),
        (1, AssigneeType::User, uid(4), &["publisher"]),
        (1, AssigneeType::Group, gid(4), &["consumer"]),
        (2, AssigneeType::User, uid(5), &["contributor"]),
        (2, AssigneeType::Group, gid(1), &["consumer"]),
        (3, AssigneeType::User, uid(6), &["operator", "datapreview"]),
        (3, AssigneeType::Group, gid(2), &["producer"]),
        (4, AssigneeType::User, uid(7), &["facilitator"]),
    ];
    let assignments = assignment_defs
        .iter()
        .map(|(space, assignee_type, assignee_id, roles)| Assignment {
            id: mix.id(),
            space_id: sid(*space),
            assignee_type: *assignee_type,
            assignee_id: assignee_id.clone(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        })
        .collect();

    let api_keys = vec![
        ApiKey {
            id: "admin".to_owned(),
            key: mix.secret("sim-qlik-key"),
            user_id: uid(0),
        },
        ApiKey {
            id: "ops".to_owned(),
            key: mix.secret("sim-qlik-key"),
            user_id: uid(1),
        },
    ];
    let oauth_clients = vec![OAuthClient {
        client_id: "roster-m2m".to_owned(),
        client_secret: mix.secret("sim-oauth-secret"),
        user_id: uid(19),
    }];

    let alumio_users: Vec<AlumioUser> = users
        .iter()
        .take(12)
        .filter_map(|u| {
            u.email.clone().map(|email| AlumioUser {
                email,
                name: u.name.clone(),
            })
        })
        .collect();
    let alumio_member = |space: &str, i: usize, role: &str| AlumioMember {
        space: space.to_owned(),
        email: alumio_users[i].email.clone(),
        roles: vec![role.to_owned()],
    };
    let alumio = AlumioTenant {
        api_keys: vec![AlumioApiKey {
            id: "alumio-admin".to_owned(),
            key: mix.secret("sim-alumio-key"),
        }],
        spaces: vec![
            AlumioSpace {
                identifier: "sales-eu".to_owned(),
                name: "Sales EU".to_owned(),
                description: "Webshop and ERP integrations for EU sales.".to_owned(),
            },
            AlumioSpace {
                identifier: "finance".to_owned(),
                name: "Finance".to_owned(),
                description: String::new(),
            },
            AlumioSpace {
                identifier: "integrations-dev".to_owned(),
                name: "Integrations (dev)".to_owned(),
                description: "Development environment.".to_owned(),
            },
        ],
        members: vec![
            alumio_member("sales-eu", 0, "ROLE_ADMINISTRATOR"),
            alumio_member("sales-eu", 2, "ROLE_EDITOR"),
            alumio_member("sales-eu", 3, "ROLE_USER"),
            alumio_member("finance", 0, "ROLE_ADMINISTRATOR"),
            alumio_member("finance", 4, "ROLE_USER"),
            alumio_member("integrations-dev", 1, "ROLE_ADMINISTRATOR"),
        ],
        users: alumio_users,
    };

    Tenant {
        version: TENANT_FORMAT_VERSION,
        tenant_id,
        api_keys,
        oauth_clients,
        users,
        groups,
        spaces,
        assignments,
        alumio,
        roles: default_roles(),
        groups_settings: GroupsSettings {
            auto_create_groups: true,
            sync_idp_groups: false,
            everyone_roles: vec!["PrivateAnalyticsContentCreator".to_owned()],
        },
        license_settings: LicenseSettings {
            auto_assign_professional: false,
            auto_assign_analyzer: true,
        },
    }
}

/// A large tenant: 5,000 users, 500 groups, 200 spaces with a few thousand assignments, four API
/// keys and two OAuth clients (each its own user), and an Alumio environment of 20 spaces that
/// knows 3,000 of the users. The same seed always gives the same tenant.
pub fn large_tenant(seed: u64) -> Tenant {
    let mut mix = Mix(seed ^ 0x1A7E_0000_0000_0000);
    let tenant_id = format!("sim-large-{:016x}", mix.next_u64());

    let mut users = Vec::with_capacity(5000);
    for n in 0..5000usize {
        let first = FIRST[mix.below(FIRST.len())];
        let last = LAST[mix.below(LAST.len())];
        let local = format!("{}{n}", email_local(first, last));
        let roll = mix.below(100);
        // About 1% service accounts without email, 2% disabled, 2% invited.
        let email = (roll != 0).then(|| format!("{local}@corp.example"));
        let status = match roll {
            1 | 2 => "disabled",
            3 | 4 => "invited",
            _ => "active",
        };
        users.push(User {
            id: mix.id(),
            subject: format!("corp\\{local}"),
            name: format!("{first} {last}"),
            email,
            status: status.to_owned(),
            roles: None,
        });
    }
    // The credentials' users: always active, always with an email.
    for (i, user) in users.iter_mut().take(6).enumerate() {
        user.status = "active".to_owned();
        if user.email.is_none() {
            user.email = Some(format!("service{i}@corp.example"));
        }
    }

    let groups: Vec<Group> = (0..500usize)
        .map(|n| {
            let dept = DEPARTMENTS[n % DEPARTMENTS.len()];
            let region = REGIONS[(n / DEPARTMENTS.len()) % REGIONS.len()];
            Group {
                id: mix.id(),
                name: format!("{dept} {region} {:03}", n),
                status: "active".to_owned(),
                provider_type: if mix.below(4) == 0 { "custom" } else { "idp" }.to_owned(),
                description: String::new(),
                roles: Vec::new(),
            }
        })
        .collect();

    let types = [SpaceType::Shared, SpaceType::Managed, SpaceType::Data];
    let spaces: Vec<Space> = (0..200usize)
        .map(|n| {
            let dept = DEPARTMENTS[n % DEPARTMENTS.len()];
            let space_type = types[n % types.len()];
            Space {
                id: mix.id(),
                name: format!("{dept} {} {:03}", space_type.as_str(), n),
                space_type,
                owner_id: users[mix.below(50)].id.clone(),
                description: format!("{dept} apps and data."),
                assignable_roles: None,
            }
        })
        .collect();

    let mut assignments = Vec::new();
    for space in &spaces {
        let roles = space.space_type.assignable_roles();
        let count = 5 + mix.below(26);
        let mut taken = std::collections::HashSet::new();
        for _ in 0..count {
            let (assignee_type, assignee_id) = if mix.below(4) == 0 {
                (AssigneeType::Group, groups[mix.below(groups.len())].id.clone())
            } else {
                (AssigneeType::User, users[mix.below(users.len())].id.clone())
            };
            if assignee_id == space.owner_id || !taken.insert(assignee_id.clone()) {
                continue;
            }
            let mut assigned = vec![roles[mix.below(roles.len())].to_owned()];
            let extra = roles[mix.below(roles.len())];
            if mix.below(3) == 0 && !assigned.iter().any(|r| r == extra) {
                assigned.push(extra.to_owned());
            }
            assignments.push(Assignment {
                id: mix.id(),
                space_id: space.id.clone(),
                assignee_type,
                assignee_id,
                roles: assigned,
            });
        }
    }

    let api_keys = (0..4usize)
        .map(|i| ApiKey {
            id: format!("key-{}", i + 1),
            key: mix.secret("sim-qlik-key"),
            user_id: users[i].id.clone(),
        })
        .collect();
    let oauth_clients = (0..2usize)
        .map(|i| OAuthClient {
            client_id: format!("m2m-{}", i + 1),
            client_secret: mix.secret("sim-oauth-secret"),
            user_id: users[4 + i].id.clone(),
        })
        .collect();

    let alumio_users: Vec<AlumioUser> = users
        .iter()
        .take(3000)
        .filter_map(|u| {
            u.email.clone().map(|email| AlumioUser {
                email,
                name: u.name.clone(),
            })
        })
        .collect();
    let alumio_spaces: Vec<AlumioSpace> = (0..20usize)
        .map(|n| {
            let dept = DEPARTMENTS[n % DEPARTMENTS.len()];
            let env = if n < 10 { "prod" } else { "dev" };
            AlumioSpace {
                identifier: format!("{}-{env}", dept.to_lowercase()),
                name: format!("{dept} ({env})"),
                description: String::new(),
            }
        })
        .collect();
    let role_names = ["ROLE_USER", "ROLE_EDITOR", "ROLE_ADMINISTRATOR"];
    let mut members = Vec::new();
    for space in &alumio_spaces {
        let mut taken = std::collections::HashSet::new();
        for _ in 0..(10 + mix.below(41)) {
            let user = &alumio_users[mix.below(alumio_users.len())];
            if taken.insert(user.email.clone()) {
                members.push(AlumioMember {
                    space: space.identifier.clone(),
                    email: user.email.clone(),
                    roles: vec![role_names[mix.below(3)].to_owned()],
                });
            }
        }
    }
    let alumio = AlumioTenant {
        api_keys: (0..2usize)
            .map(|i| AlumioApiKey {
                id: format!("alumio-{}", i + 1),
                key: mix.secret("sim-alumio-key"),
            })
            .collect(),
        users: alumio_users,
        spaces: alumio_spaces,
        members,
    };

    Tenant {
        version: TENANT_FORMAT_VERSION,
        tenant_id,
        api_keys,
        oauth_clients,
        users,
        groups,
        spaces,
        assignments,
        alumio,
        roles: Vec::new(),
        groups_settings: GroupsSettings::default(),
        license_settings: LicenseSettings::default(),
    }
}

/// The shape of a [`grid_tenant`]: `spaces` shared spaces and `users` users, optionally with every
/// user assigned to every space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Spaces, named `Space 00000`, `Space 00001`, ...
    pub spaces: usize,
    /// Users, with emails `user0000000@grid.example`, ...
    pub users: usize,
    /// Assign every user to every space as `consumer`, so a roster of the whole grid plans as
    /// all unchanged.
    pub assigned: bool,
}

/// The grid user's email: what a roster names to reach user `n` of a [`grid_tenant`].
pub fn grid_email(n: usize) -> String {
    format!("user{n:07}@grid.example")
}

/// The grid space's name: what a roster names to reach space `n` of a [`grid_tenant`].
pub fn grid_space(n: usize) -> String {
    format!("Space {n:05}")
}

/// A uniform tenant for benchmarks and load tests: a grid of spaces and users (no groups, no
/// Alumio spaces), owned by the API key's own user `admin`, who is not one of the grid's users.
/// Ids are counters, so a tenant of a million assignments is built without a random draw each.
pub fn grid_tenant(grid: Grid) -> Tenant {
    let mut mix = Mix(0x6121_D000_0000_0001);
    let admin = User {
        id: format!("a{:023x}", 0),
        subject: "grid\\admin".to_owned(),
        name: "Grid Admin".to_owned(),
        email: Some("admin@grid.example".to_owned()),
        status: "active".to_owned(),
        roles: None,
    };
    let admin_id = admin.id.clone();
    let mut users = Vec::with_capacity(grid.users + 1);
    users.push(admin);
    users.extend((0..grid.users).map(|n| User {
        id: format!("u{n:023x}"),
        subject: format!("grid\\user{n:07}"),
        name: format!("User {n:07}"),
        email: Some(grid_email(n)),
        status: "active".to_owned(),
        roles: None,
    }));
    let spaces: Vec<Space> = (0..grid.spaces)
        .map(|n| Space {
            id: format!("s{n:023x}"),
            name: grid_space(n),
            space_type: SpaceType::Shared,
            owner_id: admin_id.clone(),
            description: String::new(),
            assignable_roles: None,
        })
        .collect();
    let mut assignments = Vec::new();
    if grid.assigned {
        assignments.reserve(grid.spaces.saturating_mul(grid.users));
        for space in &spaces {
            for user in &users[1..] {
                assignments.push(Assignment {
                    id: format!("g{:023x}", assignments.len()),
                    space_id: space.id.clone(),
                    assignee_type: AssigneeType::User,
                    assignee_id: user.id.clone(),
                    roles: vec!["consumer".to_owned()],
                });
            }
        }
    }
    Tenant {
        version: TENANT_FORMAT_VERSION,
        tenant_id: format!("sim-grid-{}x{}", grid.spaces, grid.users),
        api_keys: vec![ApiKey {
            id: "admin".to_owned(),
            key: mix.secret("sim-qlik-key"),
            user_id: admin_id,
        }],
        oauth_clients: Vec::new(),
        users,
        groups: Vec::new(),
        spaces,
        assignments,
        roles: Vec::new(),
        groups_settings: GroupsSettings::default(),
        license_settings: LicenseSettings::default(),
        alumio: AlumioTenant::default(),
    }
}

#[cfg(test)]
mod tests {
    /// Pinned facts of seed 1: tests and demos name these users, so the generator must not drift.
    #[test]
    fn large_tenant_seed_1_is_stable() {
        let t = super::large_tenant(1);
        assert_eq!(t.tenant_id, "sim-large-60f3b6d8204365c0");
        assert_eq!(t.users[7].email.as_deref(), Some("rosa.smit7@corp.example"));
        assert_eq!(t.spaces[3].name, "Operations shared 003");
        assert_eq!(t.assignments.len(), 3508);
    }

    #[test]
    fn grid_tenant_is_valid_and_complete() {
        let grid = super::Grid {
            spaces: 3,
            users: 4,
            assigned: true,
        };
        let t = super::grid_tenant(grid);
        t.validate().unwrap();
        assert_eq!((t.spaces.len(), t.users.len(), t.assignments.len()), (3, 5, 12));
        assert_eq!(t.spaces[2].name, super::grid_space(2));
        assert_eq!(t.users[4].email, Some(super::grid_email(3)));
        let empty = super::grid_tenant(super::Grid {
            assigned: false,
            ..grid
        });
        assert!(empty.assignments.is_empty());
    }
}
