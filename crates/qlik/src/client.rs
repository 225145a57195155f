//! The typed client: `client.spaces()`, `client.assignments(space_id)`, `client.users()`,
//! `client.groups()`, each a cheap borrowed handle with the calls of one API.

use std::collections::HashSet;

use core_api::{Error, HttpClient, Method, Request, Tier, Url, Vendor};
use futures::Stream;
use serde::de::DeserializeOwned;

use crate::Config;
use crate::filter;
use crate::models::{
    Assignment, CreateAssignment, CreateGroup, CreateSpace, Group, Space, UpdateAssignment, User,
};

/// The largest page the list endpoints accept.
pub const PAGE_SIZE: usize = 100;

const VENDOR: Vendor = Vendor {
    token_path: "/oauth/token",
    default_scope: "admin_classic",
    parse_problem: crate::models::parse_problem,
};

/// A Qlik Cloud tenant reached with one credential. Cheap to clone; clones share the connection
/// pool, the token cache and the rate limiters, so build one per (tenant, credential).
#[derive(Debug, Clone)]
pub struct Client {
    http: HttpClient,
}

impl Client {
    /// Builds the client; checks the settings, sends nothing. The server URL may name the API's
    /// root (`https://acme.eu.qlikcloud.com/api/v1`) or not: the client adds `/api/v1` itself.
    pub fn new(mut config: Config) -> Result<Self, Error> {
        config.server = core_api::strip_path_suffix(&config.server, &["api", "v1"]);
        Ok(Client {
            http: HttpClient::new(config, VENDOR)?,
        })
    }

    /// The HTTP layer, for endpoints the typed calls lack. Requests through it are rate-limited,
    /// retried and authenticated like every other.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The spaces API.
    pub fn spaces(&self) -> Spaces<'_> {
        Spaces { client: self }
    }

    /// The assignments of one space.
    pub fn assignments<'a>(&'a self, space_id: &'a str) -> Assignments<'a> {
        Assignments {
            client: self,
            space_id,
        }
    }

    /// The users API.
    pub fn users(&self) -> Users<'_> {
        Users { client: self }
    }

    /// The groups API.
    pub fn groups(&self) -> Groups<'_> {
        Groups { client: self }
    }

    /// `{server}/api/v1/{segments...}`, each segment percent-encoded.
    pub(crate) fn api_url(&self, segments: &[&str]) -> Result<Url, Error> {
        let mut url = self.http.base().clone();
        url.path_segments_mut()
            .map_err(|()| Error::config("use a server URL that can have a path"))?
            .pop_if_empty()
            .extend(["api", "v1"])
            .extend(segments);
        Ok(url)
    }

    pub(crate) fn list_url(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Url, Error> {
        let mut url = self.api_url(segments)?;
        {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in query {
                pairs.append_pair(key, value);
            }
            pairs.append_pair("limit", &PAGE_SIZE.to_string());
        }
        Ok(url)
    }

    pub(crate) async fn list_all<T: DeserializeOwned + Send + 'static>(
        &self,
        url: Url,
    ) -> Result<Vec<T>, Error> {
        self.http.list_all(url, Tier::Tier1).await
    }

    async fn send_json<T: DeserializeOwned, B: serde::Serialize>(
        &self,
        method: Method,
        url: Url,
        body: &B,
    ) -> Result<T, Error> {
        let request = Request::new(method, url, Tier::Tier2).json(body)?;
        self.http.execute(&request).await?.json()
    }
}

/// What a create found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created<T> {
    /// Made now.
    New(T),
    /// Already there (a 409, possibly to a retry of a create whose first response was lost);
    /// this is the existing resource as read back.
    Existing(T),
}

impl<T> Created<T> {
    /// The resource, new or existing.
    pub fn into_inner(self) -> T {
        match self {
            Created::New(t) | Created::Existing(t) => t,
        }
    }
}

/// `/api/v1/spaces`.
#[derive(Debug, Clone, Copy)]
pub struct Spaces<'a> {
    client: &'a Client,
}

impl<'a> Spaces<'a> {
    /// Every space, paging at the largest page size.
    pub async fn list_all(&self) -> Result<Vec<Space>, Error> {
        self.client
            .list_all(self.client.list_url(&["spaces"], &[])?)
            .await
    }

    /// The spaces page by page, fetched as the stream is polled.
    pub fn pages(&self) -> Result<impl Stream<Item = Result<Vec<Space>, Error>> + Send + 'a, Error> {
        let url = self.client.list_url(&["spaces"], &[])?;
        Ok(self.client.http.pages(url, Tier::Tier1))
    }

    /// The space with exactly this name (case-sensitive). The API's `name` parameter is a
    /// case-insensitive contains-search, so its results are filtered here.
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Space>, Error> {
        let url = self.client.list_url(&["spaces"], &[("name", name)])?;
        let found: Vec<Space> = self.client.list_all(url).await?;
        Ok(found.into_iter().find(|s| s.name == name))
    }

    /// One space; a 404 is an error with `kind_code() == "not_found"`.
    pub async fn get(&self, id: &str) -> Result<Space, Error> {
        let url = self.client.api_url(&["spaces", id])?;
        self.client.http.get_json(url, Tier::Tier1).await
    }

    /// Creates a space; a taken name is a 409 error.
    pub async fn create(&self, body: &CreateSpace) -> Result<Space, Error> {
        let url = self.client.api_url(&["spaces"])?;
        self.client.send_json(Method::POST, url, body).await
    }

    /// The assignments of one of the spaces.
    pub fn assignments(&self, space_id: &'a str) -> Assignments<'a> {
        self.client.assignments(space_id)
    }
}

/// `/api/v1/spaces/{id}/assignments`.
#[derive(Debug, Clone, Copy)]
pub struct Assignments<'a> {
    client: &'a Client,
    space_id: &'a str,
}

impl Assignments<'_> {
    /// Every assignment of the space (owners are not listed).
    pub async fn list_all(&self) -> Result<Vec<Assignment>, Error> {
        let url = self
            .client
            .list_url(&["spaces", self.space_id, "assignments"], &[])?;
        self.client.list_all(url).await
    }

    /// The assignment of one user or group, if any (one request, `assigneeId` filter).
    pub async fn find_by_assignee(&self, assignee_id: &str) -> Result<Option<Assignment>, Error> {
        let url = self.client.list_url(
            &["spaces", self.space_id, "assignments"],
            &[("assigneeId", assignee_id)],
        )?;
        let found: Vec<Assignment> = self.client.list_all(url).await?;
        Ok(found.into_iter().find(|a| a.assignee_id == assignee_id))
    }

    /// Creates an assignment; an existing one is a 409 error (see [`Self::create_or_existing`]).
    pub async fn create(&self, body: &CreateAssignment) -> Result<Assignment, Error> {
        if body.roles.is_empty() {
            return Err(Error::invalid(
                "create an assignment without roles: the API needs at least one",
            ));
        }
        let url = self.client.api_url(&["spaces", self.space_id, "assignments"])?;
        self.client.send_json(Method::POST, url, body).await
    }

    /// Creates an assignment, or, when the assignee already has one (409, including the retry
    /// of a create whose first response was lost after the server applied it), reads it back.
    pub async fn create_or_existing(&self, body: &CreateAssignment) -> Result<Created<Assignment>, Error> {
        match self.create(body).await {
            Ok(assignment) => Ok(Created::New(assignment)),
            Err(error) if error.is_conflict() => match self.find_by_assignee(&body.assignee_id).await? {
                Some(existing) => Ok(Created::Existing(existing)),
                // A 409 without a visible assignment: report the conflict as it came.
                None => Err(error),
            },
            Err(error) => Err(error),
        }
    }

    /// Replaces the roles of an assignment with `roles` (the full list).
    pub async fn update_roles(&self, assignment_id: &str, roles: &[String]) -> Result<Assignment, Error> {
        if roles.is_empty() {
            return Err(Error::invalid(
                "update an assignment to no roles: delete it instead",
            ));
        }
        let url = self
            .client
            .api_url(&["spaces", self.space_id, "assignments", assignment_id])?;
        self.client
            .send_json(
                Method::PUT,
                url,
                &UpdateAssignment {
                    roles: roles.to_vec(),
                },
            )
            .await
    }

    /// Deletes an assignment. Returns the number of attempts it took: a 404 after a retry means
    /// an earlier attempt deleted it, which the caller may count as success.
    pub async fn delete(&self, assignment_id: &str) -> Result<u32, Error> {
        let url = self
            .client
            .api_url(&["spaces", self.space_id, "assignments", assignment_id])?;
        let response = self
            .client
            .http
            .execute(&Request::new(Method::DELETE, url, Tier::Tier2))
            .await?;
        Ok(response.attempts)
    }
}

/// `/api/v1/users`.
#[derive(Debug, Clone, Copy)]
pub struct Users<'a> {
    client: &'a Client,
}

impl Users<'_> {
    /// Every user, paging at the largest page size.
    pub async fn list_all(&self) -> Result<Vec<User>, Error> {
        self.client.list_all(self.client.list_url(&["users"], &[])?).await
    }

    /// Users matching a SCIM filter (e.g. from [`filter::eq`]), every page.
    pub async fn list_filtered(&self, scim_filter: &str) -> Result<Vec<User>, Error> {
        self.client
            .list_all(self.client.list_url(&["users"], &[("filter", scim_filter)])?)
            .await
    }

    /// The user with this email (case-insensitive), if any.
    pub async fn find_by_email(&self, email: &str) -> Result<Option<User>, Error> {
        let found = self.list_filtered(&filter::eq("email", email)).await?;
        Ok(found
            .into_iter()
            .find(|u| u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email))))
    }

    /// How many requests [`Self::find_by_emails`] sends for these emails (at least, one per
    /// chunk): compare with the directory's page count to choose between the two.
    pub fn lookup_requests(emails: &[String]) -> usize {
        filter::or_chunks("email", &distinct_folded(emails)).len()
    }

    /// The users with any of these emails (case-insensitive), with `or` filters in chunks that
    /// keep URLs short. Emails without a user are simply absent.
    pub async fn find_by_emails(&self, emails: &[String]) -> Result<Vec<User>, Error> {
        let wanted = distinct_folded(emails);
        let mut found = Vec::new();
        for chunk in filter::or_chunks("email", &wanted) {
            found.extend(self.list_filtered(&chunk).await?);
        }
        let wanted: HashSet<&str> = wanted.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        found.retain(|u| {
            u.email
                .as_deref()
                .is_some_and(|e| wanted.contains(e.to_lowercase().as_str()))
                && seen.insert(u.id.clone())
        });
        Ok(found)
    }

    /// The members of a group (`assignedGroups.id eq "..."`).
    pub async fn list_by_group(&self, group_id: &str) -> Result<Vec<User>, Error> {
        self.list_filtered(&filter::eq("assignedGroups.id", group_id))
            .await
    }
}

/// Lowercased, deduplicated, in first-seen order.
fn distinct_folded(values: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .iter()
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty() && seen.insert(v.clone()))
        .collect()
}

/// `/api/v1/groups`.
#[derive(Debug, Clone, Copy)]
pub struct Groups<'a> {
    client: &'a Client,
}

impl Groups<'_> {
    /// Every group, paging at the largest page size.
    pub async fn list_all(&self) -> Result<Vec<Group>, Error> {
        self.client
            .list_all(self.client.list_url(&["groups"], &[])?)
            .await
    }

    /// Groups matching a SCIM filter, every page.
    pub async fn list_filtered(&self, scim_filter: &str) -> Result<Vec<Group>, Error> {
        self.client
            .list_all(self.client.list_url(&["groups"], &[("filter", scim_filter)])?)
            .await
    }

    /// The group with exactly this name (names are case-sensitive; the API's filter is not).
    pub async fn find_by_name(&self, name: &str) -> Result<Option<Group>, Error> {
        let found = self.list_filtered(&filter::eq("name", name)).await?;
        Ok(found.into_iter().find(|g| g.name == name))
    }

    /// How many requests [`Self::find_by_names`] sends for these names.
    pub fn lookup_requests(names: &[String]) -> usize {
        filter::or_chunks("name", &distinct_exact(names)).len()
    }

    /// The groups with any of these exact names, with `or` filters in chunks.
    pub async fn find_by_names(&self, names: &[String]) -> Result<Vec<Group>, Error> {
        let wanted = distinct_exact(names);
        let mut found = Vec::new();
        for chunk in filter::or_chunks("name", &wanted) {
            found.extend(self.list_filtered(&chunk).await?);
        }
        let wanted: HashSet<&str> = wanted.iter().map(String::as_str).collect();
        let mut seen = HashSet::new();
        found.retain(|g| wanted.contains(g.name.as_str()) && seen.insert(g.id.clone()));
        Ok(found)
    }

    /// Creates an active group made in the tenant (`providerType: custom`, not one the identity
    /// provider manages); a taken name is a 409 error.
    pub async fn create(&self, name: &str) -> Result<Group, Error> {
        let url = self.client.api_url(&["groups"])?;
        let body = CreateGroup {
            name: name.to_owned(),
            status: "active".to_owned(),
            provider_type: Some("custom".to_owned()),
        };
        self.client.send_json(Method::POST, url, &body).await
    }
}

/// Deduplicated, in first-seen order, case kept.
fn distinct_exact(values: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .iter()
        .filter(|v| !v.is_empty() && seen.insert(v.as_str()))
        .cloned()
        .collect()
}
