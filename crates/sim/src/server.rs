//! Starting, serving and stopping a simulator, and the handle tests hold. Each accepted
//! connection is served by [`crate::connection`].

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use parking_lot::Mutex;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{AlumioConfig, Faults, SimConfig};
use crate::connection::serve_connection;
use crate::error::{Error, ErrorKind};
use crate::limiter::Bucket;
use crate::record::{
    AlumioMemberRecord, AlumioWriteRecord, AssignmentRecord, RequestRecord, Stats, WriteRecord,
};
use crate::state::Shared;
use crate::tenant::Tenant;

/// Starts simulators.
pub struct Sim;

impl Sim {
    /// Bind the configured address (loopback, a free port by default) and serve in the background
    /// until the handle is shut down or dropped.
    pub async fn start(config: SimConfig) -> Result<SimHandle, Error> {
        let addr = config.addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ErrorKind::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| ErrorKind::Bind { addr, source })?;
        let base_url = format!("http://{local}");
        let shared = Arc::new(Shared::new(config, base_url.clone()));
        let app = crate::routes::router(shared.clone());
        let cancel = CancellationToken::new();
        let task = tokio::spawn(accept_loop(listener, app, cancel.clone()));
        Ok(SimHandle {
            inner: Arc::new(Inner {
                shared,
                base_url,
                cancel,
                task: Mutex::new(Some(task)),
            }),
        })
    }
}

impl Sim {
    /// Start a simulator on its own runtime thread, for synchronous tests (for example ones that
    /// run the `roster` command in-process, which blocks the calling thread). It stops when the
    /// last clone of the handle is dropped.
    pub fn start_blocking(config: SimConfig) -> Result<SimHandle, Error> {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("sim".to_owned()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(source) => {
                    let _ = tx.send(Err(Error::from(ErrorKind::Runtime(source))));
                    return;
                }
            };
            runtime.block_on(async move {
                match Sim::start(config).await {
                    Ok(handle) => {
                        let cancel = handle.inner.cancel.clone();
                        if tx.send(Ok(handle)).is_ok() {
                            cancel.cancelled().await;
                        }
                    }
                    Err(error) => {
                        let _ = tx.send(Err(error));
                    }
                }
            });
        });
        if let Err(source) = thread {
            return Err(ErrorKind::Runtime(source).into());
        }
        rx.recv()
            .map_err(|_| Error::from(ErrorKind::Runtime(io::Error::other("the simulator thread ended"))))?
    }
}

struct Inner {
    shared: Arc<Shared>,
    base_url: String,
    cancel: CancellationToken,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// A running simulator. Clones share it; it stops when shut down or when the last clone is dropped.
#[derive(Clone)]
pub struct SimHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`, without a trailing slash. The Qlik API is under `/api/v1`.
    pub fn base_url(&self) -> String {
        self.inner.base_url.clone()
    }

    /// The Alumio API's base URL: `{base_url}/alumio/api/v1`.
    pub fn alumio_base_url(&self) -> String {
        format!("{}/alumio/api/v1", self.inner.base_url)
    }

    /// The Qlik API keys (secrets), in tenant-file order.
    pub fn api_keys(&self) -> Vec<String> {
        self.inner
            .shared
            .world
            .lock()
            .tenant
            .api_keys
            .iter()
            .map(|k| k.key.clone())
            .collect()
    }

    /// The Qlik OAuth clients as `(client_id, client_secret)`.
    pub fn oauth_clients(&self) -> Vec<(String, String)> {
        let world = self.inner.shared.world.lock();
        world
            .tenant
            .oauth_clients
            .iter()
            .map(|c| (c.client_id.clone(), c.client_secret.clone()))
            .collect()
    }

    /// The Alumio API keys (secrets), in tenant-file order.
    pub fn alumio_api_keys(&self) -> Vec<String> {
        self.inner
            .shared
            .world
            .lock()
            .tenant
            .alumio
            .api_keys
            .iter()
            .map(|k| k.key.clone())
            .collect()
    }

    /// Every request so far, in arrival order (`/_sim` calls excluded).
    pub fn request_log(&self) -> Vec<RequestRecord> {
        self.inner.shared.logs.lock().requests.clone()
    }

    /// The counters.
    pub fn stats(&self) -> Stats {
        self.inner.shared.stats()
    }

    /// The current Qlik assignments.
    pub fn assignments(&self) -> Vec<AssignmentRecord> {
        self.inner
            .shared
            .world
            .lock()
            .all_assignments()
            .into_iter()
            .map(|a| AssignmentRecord {
                id: a.id,
                space_id: a.space_id,
                kind: a.assignee_type.as_str().to_owned(),
                assignee_id: a.assignee_id,
                roles: a.roles,
            })
            .collect()
    }

    /// Every Qlik assignment write applied, in order.
    pub fn write_log(&self) -> Vec<WriteRecord> {
        self.inner.shared.logs.lock().writes.clone()
    }

    /// The whole current state (spaces and groups created, assignments, Alumio members) as a
    /// tenant.
    pub fn tenant(&self) -> Tenant {
        self.inner.shared.world.lock().snapshot()
    }

    /// The current Alumio memberships.
    pub fn alumio_members(&self) -> Vec<AlumioMemberRecord> {
        self.inner
            .shared
            .world
            .lock()
            .tenant
            .alumio
            .members
            .iter()
            .map(|m| AlumioMemberRecord {
                space: m.space.clone(),
                email: m.email.clone(),
                roles: m.roles.clone(),
            })
            .collect()
    }

    /// Every `assign_users` call that reached validation, in order.
    pub fn alumio_write_log(&self) -> Vec<AlumioWriteRecord> {
        self.inner.shared.logs.lock().alumio_writes.clone()
    }

    /// Make `user_ids` the members of group `group_id`, as `GET /users?filter=assignedGroups.id
    /// eq "..."` answers. Memberships are not part of the tenant file.
    pub fn set_group_members(&self, group_id: &str, user_ids: &[&str]) {
        self.inner.shared.world.lock().group_members.insert(
            group_id.to_owned(),
            user_ids.iter().map(|u| (*u).to_owned()).collect(),
        );
    }

    /// Change the injected faults from now on.
    pub fn set_faults(&self, faults: Faults) {
        *self.inner.shared.faults.lock() = faults;
    }

    /// Change the Qlik per-minute limits (`None` = unlimited); the buckets start afresh.
    pub fn set_limits(&self, tier1: Option<u32>, tier2: Option<u32>) {
        self.inner.shared.limiter.set(Bucket::QlikTier1, tier1);
        self.inner.shared.limiter.set(Bucket::QlikTier2, tier2);
    }

    /// Change the Alumio behaviour from now on (its limits' buckets start afresh).
    pub fn set_alumio(&self, config: AlumioConfig) {
        self.inner
            .shared
            .limiter
            .set(Bucket::AlumioRead, config.reads_per_min);
        self.inner
            .shared
            .limiter
            .set(Bucket::AlumioWrite, config.writes_per_min);
        *self.inner.shared.alumio.lock() = config;
    }

    /// The Alumio behaviour in force.
    pub fn alumio_config(&self) -> AlumioConfig {
        self.inner.shared.alumio.lock().clone()
    }

    /// Stop accepting, drop every open connection and wait for the server task to end.
    pub async fn shutdown(self) {
        self.inner.cancel.cancel();
        let task = self.inner.task.lock().take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn accept_loop(listener: TcpListener, app: Router, cancel: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, app.clone(), cancel.clone()));
            }
            Err(error) => {
                // Out of file descriptors and the like: back off briefly instead of spinning.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}
