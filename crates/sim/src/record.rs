//! What the simulator lets tests observe: the request log, the write log, the current
//! assignments and the counters.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// Which API a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// Qlik Cloud `/api/v1/...`.
    Qlik,
    /// Qlik `POST /oauth/token`.
    OAuth,
    /// Alumio `/alumio/api/v1/...`.
    Alumio,
    /// Anything else (answered 404).
    Other,
}

/// An injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// 500 Internal Server Error.
    Http500,
    /// 503 Service Unavailable.
    Http503,
    /// Connection dropped without a response.
    Reset,
    /// Response delayed by `slow_delay`.
    Slow,
}

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    /// When it arrived, since the simulator started.
    pub at: Duration,
    /// The API.
    pub api: Api,
    /// HTTP method.
    pub method: String,
    /// Path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The rate-limit tier (1 reads, 2 writes); `None` for token and unknown endpoints.
    pub tier: Option<u8>,
    /// The status sent; 0 when no response was sent (a reset, or a client that hung up while
    /// waiting for a slow response).
    pub status: u16,
    /// The credential's id (API key id or OAuth client id), never its secret.
    pub credential: Option<String>,
    /// The fault injected into this request, if any.
    pub fault: Option<FaultKind>,
}

/// A kind of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteOp {
    /// An assignment was created.
    Create,
    /// An assignment's roles were replaced.
    Update,
    /// An assignment was deleted.
    Delete,
}

/// What a Qlik write changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum WriteResource {
    /// A space assignment (`/spaces/{id}/assignments`).
    Assignment,
    /// A space (`POST`, `PATCH`, `DELETE /spaces`).
    Space,
    /// A group (`POST /groups`, `PATCH /groups/{id}`).
    Group,
    /// `PATCH /groups/settings`.
    GroupsSettings,
    /// `PUT /licenses/settings`.
    LicenseSettings,
}

/// One applied Qlik write: an assignment's, or (with `resource` saying which) a space's, a
/// group's or the tenant settings'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WriteRecord {
    /// When it was applied, since the simulator started.
    pub at: Duration,
    /// What was done.
    pub op: WriteOp,
    /// What was written.
    pub resource: WriteResource,
    /// The written resource's id: the assignment's, space's or group's; empty for settings.
    pub id: String,
    /// The space (assignment and space writes; empty otherwise).
    pub space_id: String,
    /// The assignment (assignment writes; empty otherwise).
    pub assignment_id: String,
    /// `user` or `group` (assignment writes; empty otherwise).
    pub kind: String,
    /// The user or group (assignment writes; empty otherwise).
    pub assignee_id: String,
    /// The roles after the write (before it, for a delete): an assignment's space roles, or a
    /// group's tenant role names; empty otherwise.
    pub roles: Vec<String>,
    /// The fields the write set, as the API names them (`name`, `description`,
    /// `assignedRoles`, `autoCreateGroups`, ...); empty for assignment writes and deletes.
    pub changed: Vec<String>,
    /// The credential that wrote.
    pub credential: String,
}

/// A current Qlik assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentRecord {
    /// The assignment's id.
    pub id: String,
    /// The space.
    pub space_id: String,
    /// `user` or `group`.
    pub kind: String,
    /// The user or group.
    pub assignee_id: String,
    /// The roles.
    pub roles: Vec<String>,
}

/// What happened to one entry of an `assign_users` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlumioEntryOutcome {
    /// The user became a member.
    Added,
    /// The member's roles were replaced.
    Updated,
    /// Already a member; left as it was.
    Unchanged,
    /// Rejected by validation.
    Rejected,
    /// Valid, but not applied because the batch was all-or-nothing and something else failed.
    NotApplied,
}

/// One `assign_users` call that reached validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlumioWriteRecord {
    /// When it was handled, since the simulator started.
    pub at: Duration,
    /// The space identifier.
    pub space: String,
    /// How many entries the batch had.
    pub batch_size: usize,
    /// The HTTP status answered (before any injected fault).
    pub status: u16,
    /// Each entry's email and outcome, in batch order.
    pub entries: Vec<(String, AlumioEntryOutcome)>,
    /// The API key's id.
    pub credential: String,
}

/// A current Alumio membership.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlumioMemberRecord {
    /// The space identifier.
    pub space: String,
    /// The member's email.
    pub email: String,
    /// The roles.
    pub roles: Vec<String>,
}

/// Counters for one rate-limit tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TierStats {
    /// Requests seen.
    pub requests: u64,
    /// Requests by status sent (0 = reset).
    pub by_status: BTreeMap<u16, u64>,
    /// 429s sent.
    pub rate_limited: u64,
    /// The window the tier's limit counts over, in milliseconds (limited tiers only): the
    /// configured window, or a minute under strict pacing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<u64>,
    /// The most requests of one user the tier admitted within any one window (limited tiers
    /// only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_in_window: Option<u64>,
}

/// The counters, served as JSON by `GET /_sim/stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// All logged requests.
    pub requests: u64,
    /// Per API and tier: keys `qlik-tier1`, `qlik-tier2`, `alumio-tier1`, `alumio-tier2`, `oauth`, `other`.
    pub by_tier: BTreeMap<String, TierStats>,
    /// All 429s sent.
    pub rate_limited: u64,
    /// Faults injected, by kind.
    pub faults: BTreeMap<String, u64>,
    /// Qlik assignment writes applied, per space id and assignee id (other writes are only in
    /// the write log).
    pub writes_applied: BTreeMap<String, BTreeMap<String, u64>>,
    /// Alumio entries applied (added or updated), per space identifier and email.
    pub alumio_writes_applied: BTreeMap<String, BTreeMap<String, u64>>,
}
