//! The simulator's mutable state, shared by the connection tasks and the handle.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::{AlumioConfig, Faults, SimConfig};
use crate::limiter::{Bucket, Limiter};
use crate::record::{
    AlumioEntryOutcome, AlumioWriteRecord, Api, FaultKind, RequestRecord, Stats, TierStats, WriteOp,
    WriteRecord, WriteResource,
};
use crate::tenant::{Assignment, Group, Space, Tenant, User};

/// The time stamp given to everything loaded from the tenant file.
pub(crate) const EPOCH: &str = "2025-01-01T00:00:00Z";

/// An assignment with the bookkeeping the API shows.
#[derive(Debug, Clone)]
pub(crate) struct StoredAssignment {
    pub(crate) a: Assignment,
    pub(crate) created_at: String,
    pub(crate) created_by: String,
    pub(crate) updated_at: String,
    pub(crate) updated_by: String,
}

/// The data: the tenant, with indexes so that lookups stay cheap on big tenants and long runs.
pub(crate) struct World {
    pub(crate) tenant: Tenant,
    /// Space id -> its assignments in creation order.
    pub(crate) assignments: HashMap<String, Vec<StoredAssignment>>,
    users_by_id: HashMap<String, usize>,
    users_by_email: HashMap<String, usize>,
    users_by_subject: HashMap<String, usize>,
    groups_by_id: HashMap<String, usize>,
    groups_by_name: HashMap<String, usize>,
    spaces_by_id: HashMap<String, usize>,
    /// Group id -> the ids of its member users (Qlik's `assignedGroups` on each user).
    pub(crate) group_members: HashMap<String, Vec<String>>,
}

impl World {
    fn new(mut tenant: Tenant) -> Self {
        let mut assignments: HashMap<String, Vec<StoredAssignment>> = HashMap::new();
        for a in std::mem::take(&mut tenant.assignments) {
            let owner = tenant
                .space_by_id(&a.space_id)
                .map(|s| s.owner_id.clone())
                .unwrap_or_default();
            assignments
                .entry(a.space_id.clone())
                .or_default()
                .push(StoredAssignment {
                    a,
                    created_at: EPOCH.to_owned(),
                    created_by: owner.clone(),
                    updated_at: EPOCH.to_owned(),
                    updated_by: owner,
                });
        }
        let index = |keys: Vec<String>| -> HashMap<String, usize> {
            keys.into_iter().enumerate().map(|(i, k)| (k, i)).collect()
        };
        let users = &tenant.users;
        let users_by_email = users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.email.as_ref().map(|e| (e.to_ascii_lowercase(), i)))
            .collect();
        Self {
            users_by_id: index(users.iter().map(|u| u.id.clone()).collect()),
            users_by_email,
            users_by_subject: index(users.iter().map(|u| u.subject.clone()).collect()),
            groups_by_id: index(tenant.groups.iter().map(|g| g.id.clone()).collect()),
            groups_by_name: index(tenant.groups.iter().map(|g| g.name.clone()).collect()),
            spaces_by_id: index(tenant.spaces.iter().map(|s| s.id.clone()).collect()),
            tenant,
            assignments,
            group_members: HashMap::new(),
        }
    }

    /// Indexes of the users in any of `group_ids`, in tenant order.
    pub(crate) fn members_of(&self, group_ids: &[&str]) -> Vec<usize> {
        let mut found: Vec<usize> = group_ids
            .iter()
            .filter_map(|g| self.group_members.get(*g))
            .flatten()
            .filter_map(|id| self.users_by_id.get(id).copied())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    pub(crate) fn space(&self, id: &str) -> Option<&Space> {
        self.spaces_by_id.get(id).and_then(|i| self.tenant.spaces.get(*i))
    }

    pub(crate) fn user(&self, id: &str) -> Option<&User> {
        self.users_by_id.get(id).and_then(|i| self.tenant.users.get(*i))
    }

    pub(crate) fn group(&self, id: &str) -> Option<&Group> {
        self.groups_by_id.get(id).and_then(|i| self.tenant.groups.get(*i))
    }

    pub(crate) fn group_named(&self, name: &str) -> Option<&Group> {
        self.groups_by_name
            .get(name)
            .and_then(|i| self.tenant.groups.get(*i))
    }

    /// The user's index for an `eq` comparison on `id`, `email` (ignoring case) or `subject`;
    /// `None` for attributes without an index.
    pub(crate) fn user_lookup(&self, attr: &str, value: &str) -> Option<Option<usize>> {
        match attr {
            "id" => Some(self.users_by_id.get(value).copied()),
            "email" => Some(self.users_by_email.get(&value.to_ascii_lowercase()).copied()),
            "subject" => Some(self.users_by_subject.get(value).copied()),
            _ => None,
        }
    }

    /// The group's index for an `eq` comparison on `id` or `name`; `None` for other attributes.
    pub(crate) fn group_lookup(&self, attr: &str, value: &str) -> Option<Option<usize>> {
        match attr {
            "id" => Some(self.groups_by_id.get(value).copied()),
            "name" => Some(self.groups_by_name.get(value).copied()),
            _ => None,
        }
    }

    pub(crate) fn add_space(&mut self, space: Space) {
        self.spaces_by_id
            .insert(space.id.clone(), self.tenant.spaces.len());
        self.tenant.spaces.push(space);
    }

    pub(crate) fn add_group(&mut self, group: Group) {
        self.groups_by_id
            .insert(group.id.clone(), self.tenant.groups.len());
        self.groups_by_name
            .insert(group.name.clone(), self.tenant.groups.len());
        self.tenant.groups.push(group);
    }

    /// Replace a group with a changed copy of itself (same id), keeping the name index right.
    pub(crate) fn replace_group(&mut self, group: Group) {
        let Some(&i) = self.groups_by_id.get(&group.id) else {
            return;
        };
        if let Some(old) = self.tenant.groups.get_mut(i) {
            self.groups_by_name.remove(&old.name);
            self.groups_by_name.insert(group.name.clone(), i);
            *old = group;
        }
    }

    /// Remove a space and its assignments; the other spaces keep their order.
    /// Remove a group, its space assignments and its memberships (a deleted group holds nothing).
    pub(crate) fn remove_group(&mut self, id: &str) -> Option<Group> {
        let i = self.groups_by_id.remove(id)?;
        let group = self.tenant.groups.remove(i);
        self.groups_by_name.remove(&group.name);
        for index in self
            .groups_by_id
            .values_mut()
            .chain(self.groups_by_name.values_mut())
        {
            if *index > i {
                *index -= 1;
            }
        }
        for stored in self.assignments.values_mut() {
            stored.retain(|s| s.a.assignee_id != id);
        }
        self.group_members.remove(id);
        Some(group)
    }

    pub(crate) fn remove_space(&mut self, id: &str) -> Option<Space> {
        let i = self.spaces_by_id.remove(id)?;
        let space = self.tenant.spaces.remove(i);
        for index in self.spaces_by_id.values_mut() {
            if *index > i {
                *index -= 1;
            }
        }
        self.assignments.remove(id);
        Some(space)
    }

    /// The space with this id, to change in place (its id never changes).
    pub(crate) fn space_mut(&mut self, id: &str) -> Option<&mut Space> {
        let i = *self.spaces_by_id.get(id)?;
        self.tenant.spaces.get_mut(i)
    }

    /// The current state as a tenant file.
    pub(crate) fn snapshot(&self) -> Tenant {
        let mut tenant = self.tenant.clone();
        tenant.assignments = self.all_assignments();
        tenant
    }

    /// Every assignment, spaces in tenant order.
    pub(crate) fn all_assignments(&self) -> Vec<Assignment> {
        self.tenant
            .spaces
            .iter()
            .flat_map(|s| self.assignments.get(&s.id).into_iter().flatten())
            .map(|s| s.a.clone())
            .collect()
    }
}

/// An issued OAuth access token.
pub(crate) struct IssuedToken {
    pub(crate) client_id: String,
    pub(crate) user_id: String,
    pub(crate) expires: Instant,
}

/// Who is calling, as established by the bearer token.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The credential's id (never the secret).
    pub(crate) credential: String,
    /// The user the credential acts as; rate limits are per user.
    pub(crate) user_id: String,
}

#[derive(Default)]
pub(crate) struct Logs {
    pub(crate) requests: Vec<RequestRecord>,
    pub(crate) writes: Vec<WriteRecord>,
    pub(crate) alumio_writes: Vec<AlumioWriteRecord>,
}

/// Everything the tasks share.
pub(crate) struct Shared {
    pub(crate) started: Instant,
    pub(crate) base_url: String,
    pub(crate) world: Mutex<World>,
    pub(crate) logs: Mutex<Logs>,
    rng: Mutex<StdRng>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) limiter: Limiter,
    pub(crate) tokens: Mutex<HashMap<String, IssuedToken>>,
    pub(crate) latency: Duration,
    pub(crate) jitter: Duration,
    pub(crate) token_ttl: Duration,
    pub(crate) qlik_enabled: bool,
    pub(crate) alumio: Mutex<AlumioConfig>,
    counter: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: SimConfig, base_url: String) -> Self {
        let limiter = Limiter::new(
            config.burst_window,
            config.window,
            &[
                (Bucket::QlikTier1, config.tier1_per_min),
                (Bucket::QlikTier2, config.tier2_per_min),
                (Bucket::AlumioRead, config.alumio.reads_per_min),
                (Bucket::AlumioWrite, config.alumio.writes_per_min),
            ],
        );
        Self {
            started: Instant::now(),
            base_url,
            world: Mutex::new(World::new(config.tenant)),
            logs: Mutex::new(Logs::default()),
            rng: Mutex::new(StdRng::seed_from_u64(config.seed)),
            faults: Mutex::new(config.faults),
            limiter,
            tokens: Mutex::new(HashMap::new()),
            latency: config.latency,
            jitter: config.jitter,
            token_ttl: config.token_ttl,
            qlik_enabled: config.qlik_enabled,
            alumio: Mutex::new(config.alumio),
            counter: AtomicU64::new(1),
        }
    }

    /// A fresh number, for ids and trace ids.
    pub(crate) fn next_number(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    /// A new Qlik-looking 24-hex-digit id, distinct from the tenant file's.
    pub(crate) fn new_id(&self) -> String {
        format!("5151{:020x}", self.next_number())
    }

    /// A trace id for an error body.
    pub(crate) fn trace_id(&self) -> String {
        format!("{:032x}", self.next_number().wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Draw this request's fault and extra latency. One lock, fixed order of draws: the same
    /// seed and the same order of requests give the same faults.
    pub(crate) fn draw(&self) -> (Option<FaultKind>, Duration, Faults) {
        let faults = self.faults.lock().clone();
        let mut rng = self.rng.lock();
        let roll: f64 = rng.random();
        let jitter = if self.jitter.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos(
                rng.random_range(0..=u64::try_from(self.jitter.as_nanos()).unwrap_or(u64::MAX)),
            )
        };
        drop(rng);
        let mut edge = 0.0;
        let mut fault = None;
        for (p, kind) in [
            (faults.p500, FaultKind::Http500),
            (faults.p503, FaultKind::Http503),
            (faults.reset, FaultKind::Reset),
            (faults.slow, FaultKind::Slow),
        ] {
            edge += p;
            if roll < edge {
                fault = Some(kind);
                break;
            }
        }
        (fault, self.latency + jitter, faults)
    }

    /// A random token value for OAuth.
    pub(crate) fn random_token(&self) -> String {
        let mut rng = self.rng.lock();
        format!("sim-at-{:016x}{:016x}", rng.random::<u64>(), rng.random::<u64>())
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Log a request as it arrives (so the log is in arrival order); returns its index.
    pub(crate) fn log_start(&self, record: RequestRecord) -> usize {
        let mut logs = self.logs.lock();
        logs.requests.push(record);
        logs.requests.len() - 1
    }

    /// Fill in the status once the response is known.
    pub(crate) fn log_status(&self, index: usize, status: u16) {
        if let Some(record) = self.logs.lock().requests.get_mut(index) {
            record.status = status;
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        let logs = self.logs.lock();
        let mut stats = Stats::default();
        for r in &logs.requests {
            stats.requests += 1;
            let key = match (r.api, r.tier) {
                (Api::Qlik, Some(t)) => format!("qlik-tier{t}"),
                (Api::Alumio, Some(t)) => format!("alumio-tier{t}"),
                (Api::OAuth, _) => "oauth".to_owned(),
                _ => "other".to_owned(),
            };
            let tier: &mut TierStats = stats.by_tier.entry(key).or_default();
            tier.requests += 1;
            *tier.by_status.entry(r.status).or_default() += 1;
            if r.status == 429 {
                tier.rate_limited += 1;
                stats.rate_limited += 1;
            }
            if let Some(f) = r.fault {
                let name = serde_json::to_value(f)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                *stats.faults.entry(name).or_default() += 1;
            }
        }
        for w in logs
            .writes
            .iter()
            .filter(|w| w.resource == WriteResource::Assignment)
        {
            *stats
                .writes_applied
                .entry(w.space_id.clone())
                .or_default()
                .entry(w.assignee_id.clone())
                .or_default() += 1;
        }
        let mut alumio: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for w in &logs.alumio_writes {
            for (email, outcome) in &w.entries {
                if matches!(outcome, AlumioEntryOutcome::Added | AlumioEntryOutcome::Updated) {
                    *alumio
                        .entry(w.space.clone())
                        .or_default()
                        .entry(email.clone())
                        .or_default() += 1;
                }
            }
        }
        stats.alumio_writes_applied = alumio;
        drop(logs);
        for (key, bucket) in [
            ("qlik-tier1", Bucket::QlikTier1),
            ("qlik-tier2", Bucket::QlikTier2),
            ("alumio-tier1", Bucket::AlumioRead),
            ("alumio-tier2", Bucket::AlumioWrite),
        ] {
            if let (Some(tier), Some((window, most))) =
                (stats.by_tier.get_mut(key), self.limiter.most_in_window(bucket))
            {
                tier.window_ms = Some(u64::try_from(window.as_millis()).unwrap_or(u64::MAX));
                tier.max_in_window = Some(most);
            }
        }
        stats
    }
}

/// A write of something other than an assignment, for the write log.
pub(crate) struct ConfigWrite<'a> {
    pub(crate) op: WriteOp,
    pub(crate) resource: WriteResource,
    pub(crate) id: &'a str,
    pub(crate) roles: Vec<String>,
    pub(crate) changed: Vec<String>,
}

impl Shared {
    /// Whether the user holds this tenant role (a user the tenant does not know holds none).
    pub(crate) fn user_has_role(&self, user_id: &str, role: &str) -> bool {
        self.world
            .lock()
            .user(user_id)
            .is_some_and(|u| u.tenant_roles().iter().any(|r| r == role))
    }

    /// Record a space, group or settings write in the write log.
    pub(crate) fn log_config_write(&self, caller: &Caller, w: ConfigWrite<'_>) {
        let space_id = if w.resource == WriteResource::Space {
            w.id.to_owned()
        } else {
            String::new()
        };
        self.logs.lock().writes.push(WriteRecord {
            at: self.elapsed(),
            op: w.op,
            resource: w.resource,
            id: w.id.to_owned(),
            space_id,
            assignment_id: String::new(),
            kind: String::new(),
            assignee_id: String::new(),
            roles: w.roles,
            changed: w.changed,
            credential: caller.credential.clone(),
        });
    }
}

/// The current time as RFC 3339, for `createdAt` and friends.
pub(crate) fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
