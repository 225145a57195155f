//! The typed client: `client.spaces()` and `client.members(space)`, each a cheap borrowed handle
//! with the calls of one part of the API.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use core_api::{Credentials, Error, HttpClient, Method, Request, Response, Tier, Url, Vendor};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;

use crate::Config;
use crate::models::{self, AssignUser, AssignUsers, ErrorBody, List, ListFilter, Object, Space, SpaceUser};

/// How many items a list request asks for.
pub const PAGE_SIZE: usize = 100;

/// The most pages one listing follows, so a server that ignores `skip` cannot keep the client
/// paging forever.
const MAX_PAGES: usize = 100_000;

const VENDOR: Vendor = Vendor {
    // Alumio takes API keys only; the client refuses OAuth credentials before this is used.
    token_path: "/oauth/token",
    default_scope: "",
    parse_problem: models::parse_problem,
};

/// Whether an Alumio space identifier is well-formed: `^[a-z0-9-]+$`, at most 255 characters.
pub fn is_identifier(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 255
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What the client has learned about an unknown of the API, once per run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Learned {
    /// Not seen yet.
    Unknown = 0,
    /// Seen to work.
    Works = 1,
    /// Seen not to work.
    No = 2,
}

/// A per-run memory of one [`Learned`] fact, shared by clones.
#[derive(Debug, Default)]
pub(crate) struct Fact(AtomicU8);

impl Fact {
    pub(crate) fn get(&self) -> Learned {
        match self.0.load(Ordering::Relaxed) {
            1 => Learned::Works,
            2 => Learned::No,
            _ => Learned::Unknown,
        }
    }

    pub(crate) fn set(&self, value: Learned) {
        self.0.store(value as u8, Ordering::Relaxed);
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    /// The largest batch `assign_users` is sent: the configured size, lowered for the rest of
    /// the run when the server says a batch is too large.
    pub(crate) batch_limit: AtomicUsize,
    /// Whether `GET /current_space/users` exists.
    pub(crate) member_list: Fact,
    /// Whether assigning an existing member again changes their roles (`Works`), is accepted
    /// and ignored or refused (`No`).
    pub(crate) reassign: Fact,
    /// `Works` when the server was seen to accept a re-assignment and keep the old roles.
    pub(crate) reassign_kept: Fact,
    /// Whether a rejected batch has its valid entries applied (`Works`); unknown until seen.
    pub(crate) partial: Fact,
    /// The spaces listing, read once per run for name lookups.
    spaces: OnceCell<Arc<Vec<Space>>>,
    /// Every email the planner looked up, so that memberships can be read user by user when
    /// the list endpoint is missing.
    pub(crate) looked_up: Mutex<BTreeSet<String>>,
}

/// An Alumio environment reached with one API key. Cheap to clone; clones share the connection
/// pool, the rate limiters and what the client learned about the server (its batch limit, which
/// endpoints exist), so build one per (environment, key).
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.http.base().as_str())
            .field("batch_size", &self.batch_size())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds the client; checks the settings, sends nothing.
    pub fn new(mut config: Config) -> Result<Self, Error> {
        // The base URL is the API's root; `https://env.alumio.com` means `.../api/v1` too.
        config.http.server = core_api::ensure_path_suffix(&config.http.server, &["api", "v1"]);
        if matches!(config.http.credentials, Credentials::OAuth { .. }) {
            return Err(Error::config(
                "use an API key for Alumio: it does not take OAuth client credentials",
            ));
        }
        if config.batch_size == 0 || config.batch_size > crate::MAX_BATCH_SIZE {
            return Err(Error::config(format!(
                "use a batch size from 1 to {} (got {})",
                crate::MAX_BATCH_SIZE,
                config.batch_size
            )));
        }
        Ok(Client {
            http: HttpClient::new(config.http, VENDOR)?,
            shared: Arc::new(Shared {
                batch_limit: AtomicUsize::new(config.batch_size),
                member_list: Fact::default(),
                reassign: Fact::default(),
                reassign_kept: Fact::default(),
                partial: Fact::default(),
                spaces: OnceCell::new(),
                looked_up: Mutex::new(BTreeSet::new()),
            }),
        })
    }

    /// The HTTP layer, for endpoints the typed calls lack. Requests through it are rate-limited,
    /// retried and authenticated like every other.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The largest batch sent now: the configured size, or less once the server refused a batch
    /// as too large.
    pub fn batch_size(&self) -> usize {
        self.shared.batch_limit.load(Ordering::Relaxed).max(1)
    }

    /// Never send batches larger than `limit` again in this run.
    pub(crate) fn lower_batch_size(&self, limit: usize) {
        let limit = limit.max(1);
        let before = self.shared.batch_limit.fetch_min(limit, Ordering::Relaxed);
        if limit < before {
            tracing::warn!(
                from = before,
                to = limit,
                "alumio refused a batch as too large; sending smaller batches from now on"
            );
        }
    }

    /// The spaces API.
    pub fn spaces(&self) -> Spaces<'_> {
        Spaces { client: self }
    }

    /// The members of one space.
    pub fn members<'a>(&'a self, space: &'a str) -> Members<'a> {
        Members { client: self, space }
    }

    /// `{base}/{segments...}`, each segment percent-encoded.
    pub(crate) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, Error> {
        let mut url = self.http.base().clone();
        url.path_segments_mut()
            .map_err(|()| Error::config("use a server URL that can have a path"))?
            .pop_if_empty()
            .extend(segments);
        if !query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }

    /// Every item of a list, paging with `filter={"limit":..,"skip":..}` until the total is
    /// reached or a page comes back empty.
    pub(crate) async fn list_all<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, Error> {
        let mut all = Vec::new();
        let mut skip = 0;
        for _ in 0..MAX_PAGES {
            let filter = serde_json::to_string(&ListFilter {
                limit: PAGE_SIZE,
                skip,
            })
            .map_err(|e| Error::invalid(format!("encode a list filter ({e})")))?;
            let mut pairs = query.to_vec();
            pairs.push(("filter", &filter));
            let url = self.url(segments, &pairs)?;
            let page: List<T> = self.http.get_json(url, Tier::Tier1).await?;
            let got = page.results.len();
            all.extend(page.results);
            skip += got;
            let total = page.metadata.and_then(|m| m.total_count);
            let done = match total {
                Some(total) => skip as u64 >= total,
                // Without a total, a short page is the last.
                None => got < PAGE_SIZE,
            };
            if got == 0 || done {
                break;
            }
        }
        Ok(all)
    }

    /// Remembers looked-up emails (lowercased) for reading memberships one by one.
    pub(crate) fn remember_emails<'a>(&self, emails: impl IntoIterator<Item = &'a str>) {
        let mut set = self
            .shared
            .looked_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        set.extend(emails.into_iter().map(str::to_lowercase));
    }

    pub(crate) fn remembered_emails(&self) -> Vec<String> {
        self.shared
            .looked_up
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }
}

/// Whether a status says the endpoint is not there at all.
pub(crate) fn is_missing_endpoint(error: &Error) -> bool {
    matches!(error.status(), Some(404 | 405 | 501))
}

/// `/spaces`.
#[derive(Debug, Clone, Copy)]
pub struct Spaces<'a> {
    client: &'a Client,
}

impl Spaces<'_> {
    /// Every space, paging.
    pub async fn list_all(&self) -> Result<Vec<Space>, Error> {
        self.client.list_all(&["spaces"], &[]).await
    }

    /// The spaces listing, read once per client and shared by every name lookup.
    pub async fn list_cached(&self) -> Result<Arc<Vec<Space>>, Error> {
        self.client
            .shared
            .spaces
            .get_or_try_init(|| async { self.list_all().await.map(Arc::new) })
            .await
            .cloned()
    }

    /// One space by identifier; `None` on a 404 or an identifier that cannot exist.
    pub async fn get(&self, identifier: &str) -> Result<Option<Space>, Error> {
        if !is_identifier(identifier) {
            return Ok(None);
        }
        let url = self.client.url(&["spaces", identifier], &[])?;
        match self.client.http.get_json::<Object<Space>>(url, Tier::Tier1).await {
            Ok(found) => {
                let mut space = found.object;
                if space.identifier.as_deref().is_none_or(str::is_empty) {
                    space.identifier = Some(identifier.to_owned());
                }
                Ok(Some(space))
            }
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The space a roster names: the one whose display name is exactly `name`, else the one
    /// whose identifier is `name`. Two spaces with that display name are an error (use the
    /// identifier). When the environment does not list spaces, only identifiers can be found.
    pub async fn find(&self, name: &str) -> Result<Option<Space>, Error> {
        let spaces = match self.list_cached().await {
            Ok(spaces) => spaces,
            Err(error) if is_missing_endpoint(&error) => {
                if is_identifier(name) {
                    return self.get(name).await;
                }
                return Err(Error::config(format!(
                    "find the Alumio space named {name:?}: the environment does not list spaces; \
                     name the space by its identifier"
                )));
            }
            Err(error) => return Err(error),
        };
        let named: Vec<&Space> = spaces
            .iter()
            .filter(|s| s.name.as_deref() == Some(name))
            .collect();
        match named.as_slice() {
            [one] => return Ok(Some((*one).clone())),
            [] => {}
            many => {
                return Err(Error::invalid(format!(
                    "find the Alumio space named {name:?}: {} spaces have this name; name the space \
                     by its identifier",
                    many.len()
                )));
            }
        }
        Ok(spaces
            .iter()
            .find(|s| s.identifier.as_deref() == Some(name))
            .cloned())
    }
}

/// The members of one space: `/current_space/users?space=..`, `/spaces/{space}/users/{email}`
/// and `/spaces/{space}/assign_users`.
#[derive(Debug, Clone, Copy)]
pub struct Members<'a> {
    client: &'a Client,
    space: &'a str,
}

impl Members<'_> {
    /// Every member, from the list endpoint; `None` when the environment has no such endpoint
    /// (remembered: later calls do not ask again).
    pub async fn list_all(&self) -> Result<Option<Vec<SpaceUser>>, Error> {
        let learned = &self.client.shared.member_list;
        if learned.get() == Learned::No {
            return Ok(None);
        }
        match self
            .client
            .list_all(&["current_space", "users"], &[("space", self.space)])
            .await
        {
            Ok(users) => {
                learned.set(Learned::Works);
                Ok(Some(users))
            }
            // Once the list has answered, a 404 is about this space, not the endpoint.
            Err(error) if is_missing_endpoint(&error) && learned.get() != Learned::Works => {
                tracing::info!(
                    status = error.status(),
                    "alumio has no member list; reading members one by one"
                );
                learned.set(Learned::No);
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }

    /// One member by email; `None` when the user is not a member (404).
    pub async fn get(&self, email: &str) -> Result<Option<SpaceUser>, Error> {
        let url = self.client.url(&["spaces", self.space, "users", email], &[])?;
        match self
            .client
            .http
            .get_json::<Object<SpaceUser>>(url, Tier::Tier1)
            .await
        {
            Ok(found) => Ok(Some(found.object)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// One `POST /spaces/{space}/assign_users`, retried per the policy on transient errors. On
    /// failure the decoded error body (with its violations) comes along.
    pub async fn assign(&self, users: &[AssignUser<'_>]) -> (Result<Response, Error>, Option<ErrorBody>) {
        let request = self
            .client
            .url(&["spaces", self.space, "assign_users"], &[])
            .and_then(|url| {
                Request::new(Method::POST, url, Tier::Tier2).json(&AssignUsers {
                    users: users.to_vec(),
                })
            });
        let request = match request {
            Ok(request) => request,
            Err(error) => return (Err(error), None),
        };
        let (result, body) = models::capturing(self.client.http.execute(&request)).await;
        match result {
            Ok(response) => (Ok(response), None),
            Err(error) => (Err(error), body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier("sales-eu-2"));
        assert!(!is_identifier("Sales"));
        assert!(!is_identifier("a b"));
        assert!(!is_identifier(""));
        assert!(!is_identifier(&"a".repeat(256)));
    }

    #[test]
    fn refuses_oauth_and_bad_batch_sizes() {
        let url: Url = "https://env.alumio.com/api/v1".parse().unwrap();
        let oauth = Config::new(url.clone(), Credentials::oauth("id", "secret"));
        assert_eq!(Client::new(oauth).unwrap_err().kind_code(), "config");
        let zero = Config::new(url.clone(), Credentials::api_key("k")).with_batch_size(0);
        assert_eq!(Client::new(zero).unwrap_err().kind_code(), "config");
        let ok = Config::new(url, Credentials::api_key("k")).with_batch_size(7);
        assert_eq!(Client::new(ok).unwrap().batch_size(), 7);
    }

    #[test]
    fn urls_go_below_the_base() {
        let url: Url = "https://env.alumio.com/api/v1".parse().unwrap();
        let client = Client::new(Config::new(url, Credentials::api_key("k"))).unwrap();
        let url = client
            .url(
                &["spaces", "finance", "users", "a+b@x.io"],
                &[("filter", "{\"limit\":1}")],
            )
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://env.alumio.com/api/v1/spaces/finance/users/a+b@x.io?filter=%7B%22limit%22%3A1%7D"
        );
        client.lower_batch_size(20);
        client.lower_batch_size(30);
        assert_eq!(client.batch_size(), 20);
    }
}
