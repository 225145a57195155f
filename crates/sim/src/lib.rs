//! Simulated Qlik Cloud and Alumio tenants on loopback, with latency, rate limits and injected
//! faults, for the demo, the tests and the benchmarks.
//!
//! The models are written from the vendors' OpenAPI specs and API notes, independently of the
//! client crates, so that the simulator checks the clients rather than echoing them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), sim::Error> {
//! let tenant = sim::Tenant::load(std::path::Path::new("data/tenant-small.json"))?;
//! let mut config = sim::SimConfig::new(tenant);
//! config.tier2_per_min = Some(6000);
//! let sim = sim::Sim::start(config).await?;
//! let base = sim.base_url(); // Qlik: {base}/api/v1, Alumio: {base}/alumio/api/v1
//! # let _ = base;
//! sim.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! Besides the APIs, `GET /_sim/stats` answers the counters as JSON (no authentication).

mod alumio;
mod config;
mod connection;
mod delay;
mod error;
mod error_body;
pub mod fleet;
pub mod generate;
mod limiter;
mod qlik;
mod record;
mod routes;
mod scim;
mod server;
mod state;
mod tenant;

pub use config::{
    AlumioBatchMode, AlumioConfig, AlumioExistingMember, AlumioUnknownEmail, Faults, SimConfig,
};
pub use error::{Error, ErrorKind};
pub use qlik::operation_tiers;
pub use record::{
    AlumioEntryOutcome, AlumioMemberRecord, AlumioWriteRecord, Api, AssignmentRecord, FaultKind,
    RequestRecord, Stats, TierStats, WriteOp, WriteRecord, WriteResource,
};
pub use routes::ALUMIO_PREFIX;
pub use server::{Sim, SimHandle};
pub use tenant::{
    ALUMIO_ROLES, AlumioApiKey, AlumioMember, AlumioSpace, AlumioTenant, AlumioUser, ApiKey, AssigneeType,
    Assignment, DEFAULT_USER_ROLE, Group, GroupsSettings, LicenseSettings, OAuthClient, Role,
    SPACE_NAME_FORBIDDEN, Space, SpaceType, TENANT_FORMAT_VERSION, Tenant, User, default_roles,
    is_alumio_identifier, space_name_problem,
};
