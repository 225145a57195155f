//! The tenant file: the starting state of a simulated Qlik Cloud tenant and Alumio environment.
//!
//! The file is JSON with field names as the APIs spell them (camelCase). It carries a format
//! `version`. Instead of the full contents, a file may ask for a generated tenant,
//! `{"version": 1, "generate": {"preset": "large", "seed": 1}}` or
//! `{"version": 1, "generate": {"preset": "grid", "spaces": 100, "users": 3000, "assigned": false}}`,
//! which keeps large tenants out of the repository while staying reproducible (see
//! [`crate::generate`]).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::generate;

/// The tenant file format this crate reads and writes.
pub const TENANT_FORMAT_VERSION: u32 = 1;

/// A whole simulated tenant: Qlik Cloud users, groups, spaces, assignments and credentials, plus
/// the Alumio environment served next to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tenant {
    /// File format version, [`TENANT_FORMAT_VERSION`].
    pub version: u32,
    /// The Qlik tenant id, echoed in every resource's `tenantId`.
    pub tenant_id: String,
    /// Qlik API keys (used directly as bearer tokens).
    #[serde(default)]
    pub api_keys: Vec<ApiKey>,
    /// Qlik OAuth machine-to-machine clients.
    #[serde(default)]
    pub oauth_clients: Vec<OAuthClient>,
    /// Qlik users.
    #[serde(default)]
    pub users: Vec<User>,
    /// Qlik groups.
    #[serde(default)]
    pub groups: Vec<Group>,
    /// Qlik spaces.
    #[serde(default)]
    pub spaces: Vec<Space>,
    /// Qlik space assignments.
    #[serde(default)]
    pub assignments: Vec<Assignment>,
    /// The Alumio environment.
    #[serde(default)]
    pub alumio: AlumioTenant,
    /// The tenant roles (`/api/v1/roles`); an empty list means Qlik's built-in set,
    /// [`default_roles`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// `/api/v1/groups/settings`.
    #[serde(default)]
    pub groups_settings: GroupsSettings,
    /// `/api/v1/licenses/settings`.
    #[serde(default)]
    pub license_settings: LicenseSettings,
}

/// A tenant role, as `/api/v1/roles` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    /// The tenant's id for the role.
    pub id: String,
    /// The name, unique in the tenant (`TenantAdmin`, `AnalyticsAdmin`, ...).
    pub name: String,
    /// `default` (built in) or `custom`.
    #[serde(rename = "type", default = "default_role_type")]
    pub role_type: String,
    /// `admin` or `user`.
    #[serde(default = "default_role_level")]
    pub level: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

fn default_role_type() -> String {
    "default".to_owned()
}

fn default_role_level() -> String {
    "user".to_owned()
}

/// The role a credential's user holds when the tenant file gives the user no `roles`.
pub const DEFAULT_USER_ROLE: &str = "TenantAdmin";

/// Qlik's built-in roles, served when a tenant file lists none: name, level, description.
const BUILT_IN_ROLES: &[(&str, &str, &str)] = &[
    (
        "TenantAdmin",
        "admin",
        "Manages the tenant: users, groups, settings and licenses.",
    ),
    (
        "AnalyticsAdmin",
        "admin",
        "Manages spaces, apps and analytics content.",
    ),
    ("AuditAdmin", "admin", "Reads the audit log and events."),
    (
        "DataAdmin",
        "admin",
        "Manages data spaces, connections and data integration.",
    ),
    ("AutomationAdmin", "admin", "Manages automations."),
    ("Developer", "user", "Creates API keys."),
    ("Steward", "user", "Manages data products and glossaries."),
    ("SharedSpaceCreator", "user", "Creates shared spaces."),
    ("ManagedSpaceCreator", "user", "Creates managed spaces."),
    ("DataSpaceCreator", "user", "Creates data spaces."),
    (
        "PrivateAnalyticsContentCreator",
        "user",
        "Creates content in personal spaces.",
    ),
    (
        "DataServicesContributor",
        "user",
        "Contributes to data integration projects.",
    ),
    ("AutomationCreator", "user", "Creates automations."),
    ("EmbedAnalyticsUser", "user", "Uses embedded analytics."),
];

/// Qlik's built-in roles with fixed ids (`6080000000000000000000NN`), the set a tenant file
/// without `roles` serves.
pub fn default_roles() -> Vec<Role> {
    BUILT_IN_ROLES
        .iter()
        .enumerate()
        .map(|(i, (name, level, description))| Role {
            id: format!("608{:021x}", i + 1),
            name: (*name).to_owned(),
            role_type: "default".to_owned(),
            level: (*level).to_owned(),
            description: (*description).to_owned(),
        })
        .collect()
}

/// The tenant's group settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupsSettings {
    /// Whether groups from the identity provider are created on login.
    #[serde(default)]
    pub auto_create_groups: bool,
    /// Whether identity-provider groups are synchronized (deprecated by Qlik, still served).
    #[serde(default)]
    pub sync_idp_groups: bool,
    /// The tenant roles (names) of the system group Everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub everyone_roles: Vec<String>,
}

/// The tenant's license auto-assignment settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LicenseSettings {
    /// Whether new users get a professional license automatically.
    #[serde(default)]
    pub auto_assign_professional: bool,
    /// Whether new users get an analyzer license automatically.
    #[serde(default)]
    pub auto_assign_analyzer: bool,
}

/// A Qlik API key. The key acts as `user_id` (for ownership and rate limits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKey {
    /// A name for the key, shown in request logs instead of the secret.
    pub id: String,
    /// The secret bearer token.
    pub key: String,
    /// The user the key belongs to.
    pub user_id: String,
}

/// A Qlik OAuth client for the client-credentials grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthClient {
    /// The public client id.
    pub client_id: String,
    /// The secret.
    pub client_secret: String,
    /// The user the client acts as.
    pub user_id: String,
}

/// A Qlik user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    /// The tenant's id for the user.
    pub id: String,
    /// The identity provider's subject.
    pub subject: String,
    /// Display name.
    pub name: String,
    /// Email; some users (service accounts) have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// `active`, `invited`, `disabled`, `deleted` or `provisioned`.
    pub status: String,
    /// The user's tenant roles (names). `None`: [`DEFAULT_USER_ROLE`] alone, so that tenant files
    /// written before roles existed keep credentials that may do everything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

impl User {
    /// The user's tenant roles, with the default applied.
    pub fn tenant_roles(&self) -> Vec<String> {
        self.roles
            .clone()
            .unwrap_or_else(|| vec![DEFAULT_USER_ROLE.to_owned()])
    }
}

/// A Qlik group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Group {
    /// The tenant's id for the group.
    pub id: String,
    /// The name, unique and case-sensitive.
    pub name: String,
    /// `active` or `disabled`.
    pub status: String,
    /// `idp` or `custom`.
    pub provider_type: String,
    /// Free text (custom groups).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The group's tenant roles (names), `assignedRoles` in the API.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// The three kinds of Qlik space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpaceType {
    /// A shared space.
    Shared,
    /// A managed space.
    Managed,
    /// A data space.
    Data,
}

impl SpaceType {
    /// The roles the spaces API spec lists as assignable in this type of space.
    pub fn assignable_roles(self) -> &'static [&'static str] {
        match self {
            SpaceType::Shared => &[
                "codeveloper",
                "consumer",
                "dataconsumer",
                "facilitator",
                "producer",
            ],
            SpaceType::Managed => &[
                "basicconsumer",
                "consumer",
                "contributor",
                "dataconsumer",
                "facilitator",
                "publisher",
            ],
            SpaceType::Data => &[
                "consumer",
                "dataconsumer",
                "datapreview",
                "facilitator",
                "operator",
                "producer",
                "publisher",
            ],
        }
    }

    /// Parse the API's spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "shared" => Some(SpaceType::Shared),
            "managed" => Some(SpaceType::Managed),
            "data" => Some(SpaceType::Data),
            _ => None,
        }
    }

    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SpaceType::Shared => "shared",
            SpaceType::Managed => "managed",
            SpaceType::Data => "data",
        }
    }
}

impl fmt::Display for SpaceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Qlik space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Space {
    /// The tenant's id for the space.
    pub id: String,
    /// The name, unique in the tenant (compared case-insensitively).
    pub name: String,
    /// The type, which decides the assignable roles.
    #[serde(rename = "type")]
    pub space_type: SpaceType,
    /// The owner, who holds every role without an assignment.
    pub owner_id: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Overrides the type's assignable roles, to simulate tenants whose spaces differ from the spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignable_roles: Option<Vec<String>>,
}

impl Space {
    /// The roles this space accepts (`meta.assignableRoles`).
    pub fn assignable_roles(&self) -> Vec<String> {
        match &self.assignable_roles {
            Some(roles) => roles.clone(),
            None => self
                .space_type
                .assignable_roles()
                .iter()
                .map(|r| (*r).to_owned())
                .collect(),
        }
    }
}

/// Whether an assignment is for a user or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssigneeType {
    /// A user.
    User,
    /// A group.
    Group,
}

impl AssigneeType {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AssigneeType::User => "user",
            AssigneeType::Group => "group",
        }
    }
}

impl fmt::Display for AssigneeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Qlik space assignment: one user or group with roles in one space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Assignment {
    /// The tenant's id for the assignment.
    pub id: String,
    /// The space.
    pub space_id: String,
    /// User or group.
    #[serde(rename = "type")]
    pub assignee_type: AssigneeType,
    /// The user's or group's id.
    pub assignee_id: String,
    /// The roles, never empty.
    pub roles: Vec<String>,
}

/// The Alumio environment: spaces by identifier, the users it knows, members and API keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlumioTenant {
    /// Bearer API keys.
    #[serde(default)]
    pub api_keys: Vec<AlumioApiKey>,
    /// Users who have an account in the environment (an email outside this list is "unknown").
    #[serde(default)]
    pub users: Vec<AlumioUser>,
    /// Spaces.
    #[serde(default)]
    pub spaces: Vec<AlumioSpace>,
    /// Space memberships.
    #[serde(default)]
    pub members: Vec<AlumioMember>,
}

/// An Alumio API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlumioApiKey {
    /// A name for the key, shown in request logs instead of the secret.
    pub id: String,
    /// The secret bearer token.
    pub key: String,
}

/// A user known to the Alumio environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlumioUser {
    /// Email, the key Alumio uses.
    pub email: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// An Alumio space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlumioSpace {
    /// The identifier, `^[a-z0-9-]+$`.
    pub identifier: String,
    /// Display name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// One user's membership of one Alumio space.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AlumioMember {
    /// The space identifier.
    pub space: String,
    /// The user's email.
    pub email: String,
    /// `ROLE_USER`, `ROLE_EDITOR`, `ROLE_ADMINISTRATOR`.
    pub roles: Vec<String>,
}

/// The Alumio roles.
pub const ALUMIO_ROLES: [&str; 3] = ["ROLE_USER", "ROLE_EDITOR", "ROLE_ADMINISTRATOR"];

/// A file that asks for a generated tenant instead of listing one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GeneratedFile {
    version: u32,
    generate: GenerateSpec,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "preset", rename_all = "lowercase", deny_unknown_fields)]
enum GenerateSpec {
    Small,
    Large {
        seed: u64,
    },
    Grid {
        spaces: usize,
        users: usize,
        #[serde(default)]
        assigned: bool,
    },
}

impl Tenant {
    /// Read and check a tenant file.
    pub fn load(path: &Path) -> Result<Tenant, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| ErrorKind::Read {
            path: path.to_owned(),
            source,
        })?;
        Tenant::from_json(&text)
    }

    /// Parse and check a tenant from JSON (a full tenant or a `generate` request).
    pub fn from_json(text: &str) -> Result<Tenant, Error> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(ErrorKind::Parse)?;
        let tenant = if value.get("generate").is_some() {
            let file: GeneratedFile = serde_json::from_value(value).map_err(ErrorKind::Parse)?;
            check_version(file.version)?;
            match file.generate {
                GenerateSpec::Small => generate::small_tenant(),
                GenerateSpec::Large { seed } => generate::large_tenant(seed),
                GenerateSpec::Grid {
                    spaces,
                    users,
                    assigned,
                } => generate::grid_tenant(generate::Grid {
                    spaces,
                    users,
                    assigned,
                }),
            }
        } else {
            serde_json::from_value::<Tenant>(value).map_err(ErrorKind::Parse)?
        };
        check_version(tenant.version)?;
        tenant.validate()?;
        Ok(tenant)
    }

    /// The tenant as pretty JSON, the way the files in `data/` are written.
    pub fn to_json_pretty(&self) -> String {
        // Serializing plain structs with string keys cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Qlik users.
    pub fn users(&self) -> &[User] {
        &self.users
    }

    /// Qlik groups.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Qlik spaces.
    pub fn spaces(&self) -> &[Space] {
        &self.spaces
    }

    /// Qlik assignments.
    pub fn assignments(&self) -> &[Assignment] {
        &self.assignments
    }

    /// Qlik API keys.
    pub fn api_keys(&self) -> &[ApiKey] {
        &self.api_keys
    }

    /// Qlik OAuth clients.
    pub fn oauth_clients(&self) -> &[OAuthClient] {
        &self.oauth_clients
    }

    /// The Alumio environment.
    pub fn alumio(&self) -> &AlumioTenant {
        &self.alumio
    }

    /// The tenant roles served: the file's, or [`default_roles`] when it lists none.
    pub fn effective_roles(&self) -> Vec<Role> {
        if self.roles.is_empty() {
            default_roles()
        } else {
            self.roles.clone()
        }
    }

    /// The user with this email (compared case-insensitively, as email addresses are).
    pub fn user_by_email(&self, email: &str) -> Option<&User> {
        self.users
            .iter()
            .find(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email)))
    }

    /// The user with this id.
    pub fn user_by_id(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The user with this identity-provider subject.
    pub fn user_by_subject(&self, subject: &str) -> Option<&User> {
        self.users.iter().find(|u| u.subject == subject)
    }

    /// The space with exactly this name.
    pub fn space_by_name(&self, name: &str) -> Option<&Space> {
        self.spaces.iter().find(|s| s.name == name)
    }

    /// The space with this id.
    pub fn space_by_id(&self, id: &str) -> Option<&Space> {
        self.spaces.iter().find(|s| s.id == id)
    }

    /// The group with exactly this name (group names are case-sensitive).
    pub fn group_by_name(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name == name)
    }

    /// The group with this id.
    pub fn group_by_id(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The assignments of one space.
    pub fn assignments_of(&self, space_id: &str) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter().filter(move |a| a.space_id == space_id)
    }

    /// Check that the tenant is self-consistent, so the simulator never serves contradictions.
    pub fn validate(&self) -> Result<(), Error> {
        let mut ids = HashSet::new();
        for id in self
            .users
            .iter()
            .map(|u| &u.id)
            .chain(self.groups.iter().map(|g| &g.id))
            .chain(self.spaces.iter().map(|s| &s.id))
            .chain(self.assignments.iter().map(|a| &a.id))
        {
            if !ids.insert(id.as_str()) {
                return Err(Error::invalid_tenant(format!("duplicate id {id}")));
            }
        }
        let mut emails = HashSet::new();
        for user in &self.users {
            if let Some(email) = &user.email
                && !emails.insert(email.to_ascii_lowercase())
            {
                return Err(Error::invalid_tenant(format!("duplicate user email {email}")));
            }
        }
        let mut group_names = HashSet::new();
        for group in &self.groups {
            if !group_names.insert(group.name.as_str()) {
                return Err(Error::invalid_tenant(format!(
                    "duplicate group name {}",
                    group.name
                )));
            }
        }
        let mut space_names = HashSet::new();
        for space in &self.spaces {
            if let Some(reason) = space_name_problem(&space.name) {
                return Err(Error::invalid_tenant(format!("space {}: {reason}", space.id)));
            }
            if !space_names.insert(space.name.to_lowercase()) {
                return Err(Error::invalid_tenant(format!(
                    "duplicate space name {}",
                    space.name
                )));
            }
            if self.user_by_id(&space.owner_id).is_none() {
                return Err(Error::invalid_tenant(format!(
                    "space {} has an unknown owner",
                    space.id
                )));
            }
        }
        let spaces: HashMap<&str, &Space> = self.spaces.iter().map(|s| (s.id.as_str(), s)).collect();
        // Sets, not `user_by_id`: a generated tenant may hold a million assignments.
        let user_ids: HashSet<&str> = self.users.iter().map(|u| u.id.as_str()).collect();
        let group_ids: HashSet<&str> = self.groups.iter().map(|g| g.id.as_str()).collect();
        let mut pairs = HashSet::new();
        for a in &self.assignments {
            let Some(space) = spaces.get(a.space_id.as_str()) else {
                return Err(Error::invalid_tenant(format!(
                    "assignment {} has an unknown space",
                    a.id
                )));
            };
            let known = match a.assignee_type {
                AssigneeType::User => user_ids.contains(a.assignee_id.as_str()),
                AssigneeType::Group => group_ids.contains(a.assignee_id.as_str()),
            };
            if !known {
                return Err(Error::invalid_tenant(format!(
                    "assignment {} has an unknown assignee",
                    a.id
                )));
            }
            if a.assignee_id == space.owner_id {
                return Err(Error::invalid_tenant(format!(
                    "assignment {} is for the space owner",
                    a.id
                )));
            }
            let assignable = space.assignable_roles();
            if a.roles.is_empty() || a.roles.iter().any(|r| !assignable.contains(r)) {
                return Err(Error::invalid_tenant(format!(
                    "assignment {} has invalid roles",
                    a.id
                )));
            }
            if !pairs.insert((a.space_id.as_str(), a.assignee_id.as_str())) {
                return Err(Error::invalid_tenant(format!(
                    "assignment {} is a duplicate",
                    a.id
                )));
            }
        }
        self.validate_roles()?;
        let mut secrets = HashSet::new();
        for key in &self.api_keys {
            if self.user_by_id(&key.user_id).is_none() {
                return Err(Error::invalid_tenant(format!(
                    "api key {} has an unknown user",
                    key.id
                )));
            }
            if !secrets.insert(key.key.as_str()) {
                return Err(Error::invalid_tenant(format!("api key {} is not unique", key.id)));
            }
        }
        for client in &self.oauth_clients {
            if self.user_by_id(&client.user_id).is_none() {
                return Err(Error::invalid_tenant(format!(
                    "oauth client {} has an unknown user",
                    client.client_id
                )));
            }
        }
        self.validate_alumio()
    }

    fn validate_roles(&self) -> Result<(), Error> {
        let roles = self.effective_roles();
        let mut names = HashSet::new();
        let mut ids = HashSet::new();
        for role in &roles {
            if !names.insert(role.name.as_str()) || !ids.insert(role.id.as_str()) {
                return Err(Error::invalid_tenant(format!("duplicate role {}", role.name)));
            }
            if !matches!(role.role_type.as_str(), "default" | "custom")
                || !matches!(role.level.as_str(), "admin" | "user")
            {
                return Err(Error::invalid_tenant(format!(
                    "role {}: type must be default or custom, level admin or user",
                    role.name
                )));
            }
        }
        let unknown = |owner: String, list: &[String]| -> Result<(), Error> {
            match list.iter().find(|r| !names.contains(r.as_str())) {
                Some(r) => Err(Error::invalid_tenant(format!("{owner} has the unknown role {r}"))),
                None => Ok(()),
            }
        };
        for user in &self.users {
            unknown(
                format!("user {}", user.id),
                user.roles.as_deref().unwrap_or_default(),
            )?;
        }
        for group in &self.groups {
            unknown(format!("group {}", group.id), &group.roles)?;
        }
        unknown(
            "groupsSettings.everyoneRoles".to_owned(),
            &self.groups_settings.everyone_roles,
        )
    }

    fn validate_alumio(&self) -> Result<(), Error> {
        let alumio = &self.alumio;
        let mut identifiers = HashSet::new();
        for space in &alumio.spaces {
            if !is_alumio_identifier(&space.identifier) {
                return Err(Error::invalid_tenant(format!(
                    "alumio space identifier {:?} must match ^[a-z0-9-]+$",
                    space.identifier
                )));
            }
            if !identifiers.insert(space.identifier.as_str()) {
                return Err(Error::invalid_tenant(format!(
                    "duplicate alumio space {}",
                    space.identifier
                )));
            }
        }
        let mut pairs = HashSet::new();
        for m in &alumio.members {
            if !identifiers.contains(m.space.as_str()) {
                return Err(Error::invalid_tenant(format!(
                    "alumio member of unknown space {}",
                    m.space
                )));
            }
            if m.roles.is_empty() || m.roles.iter().any(|r| !ALUMIO_ROLES.contains(&r.as_str())) {
                return Err(Error::invalid_tenant(format!(
                    "alumio member {} has invalid roles",
                    m.email
                )));
            }
            if !pairs.insert((m.space.as_str(), m.email.to_ascii_lowercase())) {
                return Err(Error::invalid_tenant(format!(
                    "duplicate alumio member {}",
                    m.email
                )));
            }
        }
        Ok(())
    }
}

fn check_version(version: u32) -> Result<(), Error> {
    if version == TENANT_FORMAT_VERSION {
        Ok(())
    } else {
        Err(Error::invalid_tenant(format!(
            "tenant file version {version} is not supported (expected {TENANT_FORMAT_VERSION})"
        )))
    }
}

/// The characters a Qlik space name may not contain, from the spec's name pattern.
pub const SPACE_NAME_FORBIDDEN: &[char] = &['"', '*', '?', '<', '>', '/', '|', '\\', ':'];

/// Why a space name is not acceptable to Qlik, if it is not.
pub fn space_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("name must not be empty".to_owned());
    }
    if name.chars().count() > 256 {
        return Some("name must be at most 256 characters".to_owned());
    }
    if let Some(c) = name.chars().find(|c| SPACE_NAME_FORBIDDEN.contains(c)) {
        return Some(format!(
            "name must not contain {c:?} (none of \"*?<>/|\\: are allowed)"
        ));
    }
    None
}

/// Whether `s` is a valid Alumio space identifier (`^[a-z0-9-]+$`, at most 255 characters).
pub fn is_alumio_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}
