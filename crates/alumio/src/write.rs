//! Bulk writes: the ops of one [`Target::write`] call become as few `assign_users` calls as the
//! server allows, and every op still gets its own outcome.
//!
//! The unknowns of the API are settled by what the server answers, not by assumption:
//! - a batch that is too large (413, or a violation about the list's size) lowers the batch size
//!   for the rest of the run and is sent again in smaller parts;
//! - a rejected batch whose violations name entries fails those entries and sends the rest
//!   again (the resend is a re-assignment with the same roles, so it is harmless where the
//!   server had applied the good entries of the rejected batch);
//! - a rejected batch whose violations name nobody is split in halves until the bad entries
//!   stand alone;
//! - "already a member" is read back: the same roles are success, other roles are reported to
//!   the engine as an existing assignment (for a create) or as a refusal to change roles (for
//!   an update), and updates are not sent again in the run;
//! - a re-assignment the server accepts but ignores is detected by reading one updated member
//!   back, once per run.
//!
//! [`Target::write`]: core_api::target::Target::write

use std::collections::{HashMap, HashSet};

use core_api::target::{AssigneeKind, AssignmentInfo, SpaceInfo, WriteOp, WriteOutcome};
use core_api::{Error, ErrorKind, Method, Problem, StatusCode};

use crate::client::{Client, Learned};
use crate::models::AssignUser;
use crate::verdict::{EntryProblem, Verdict, halves, judge};

/// One user to assign, with where its outcome goes.
#[derive(Debug, Clone)]
struct Entry {
    /// The op's position in the call.
    op: usize,
    /// The email as the engine resolved it (lowercased).
    email: String,
    /// The full role list.
    roles: Vec<String>,
    /// An update of an existing member rather than a new one.
    update: bool,
    /// Sent before in this call (in a rejected batch), so the server may have applied it.
    resent: bool,
}

type Outcome = Result<WriteOutcome, Error>;

impl Client {
    /// See [`core_api::target::Target::write`] and the module docs.
    pub(crate) async fn write_ops(&self, space: &SpaceInfo, ops: &[WriteOp]) -> Vec<Outcome> {
        let mut results: Vec<Option<Outcome>> = (0..ops.len()).map(|_| None).collect();
        let mut entries = Vec::with_capacity(ops.len());
        for (op, write) in ops.iter().enumerate() {
            match self.entry_for(op, write) {
                Ok(entry) => entries.push(entry),
                Err(error) => results[op] = Some(Err(error)),
            }
        }
        for round in rounds(entries) {
            self.assign_round(space, round, &mut results).await;
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::invalid("write the row: no outcome was recorded"))))
            .collect()
    }

    fn entry_for(&self, op: usize, write: &WriteOp) -> Result<Entry, Error> {
        let (kind, id, roles, update) = match write {
            WriteOp::Create {
                assignee_kind,
                assignee_id,
                roles,
            } => (*assignee_kind, assignee_id, roles, false),
            WriteOp::Update {
                assignee_kind,
                assignee_id,
                roles,
                ..
            } => (*assignee_kind, assignee_id, roles, true),
            WriteOp::Delete { .. } => {
                return Err(Error::invalid(
                    "remove a user from an Alumio space: the Alumio API has no call for it; \
                     remove the user in Alumio",
                ));
            }
        };
        if kind == AssigneeKind::Group {
            return Err(Error::invalid(
                "assign a group in Alumio: the Alumio API assigns users only; list the group's \
                 members as user rows",
            ));
        }
        if id.trim().is_empty() {
            return Err(Error::invalid("assign a user without an email"));
        }
        if roles.is_empty() {
            return Err(Error::invalid(
                "assign a user no roles: Alumio needs at least one",
            ));
        }
        if update && self.shared.reassign.get() == Learned::No {
            return Err(Error::invalid(self.reassign_failure()));
        }
        let mut unique = roles.clone();
        unique.sort_unstable();
        unique.dedup();
        Ok(Entry {
            op,
            email: id.clone(),
            roles: unique,
            update,
            resent: false,
        })
    }

    /// Sends a round (emails distinct) in batches, reacting to each rejection.
    async fn assign_round(&self, space: &SpaceInfo, round: Vec<Entry>, results: &mut [Option<Outcome>]) {
        // Last in, first out; parts are pushed in reverse so that they go in order.
        let mut stack: Vec<Pending> = vec![Pending::new(round)];
        // Halves of a split batch whose first half went through: the second holds the bad rows.
        let mut passed: HashSet<u64> = HashSet::new();
        let mut next_token: u64 = 0;
        while let Some(Pending {
            mut group,
            token,
            after,
        }) = stack.pop()
        {
            if self.shared.reassign.get() == Learned::No {
                // Learned while this call was under way (here or in a concurrent call): role
                // changes cannot succeed, and sending them would only get the batch refused.
                group.retain(|entry| {
                    if entry.update {
                        results[entry.op] = Some(Err(Error::invalid(self.reassign_failure())));
                    }
                    !entry.update
                });
            }
            if group.is_empty() {
                continue;
            }
            let limit = self.batch_size();
            if group.len() > limit {
                let parts: Vec<Pending> = group
                    .chunks(limit)
                    .map(|part| Pending::new(part.to_vec()))
                    .collect();
                stack.extend(parts.into_iter().rev());
                continue;
            }
            if group.len() > 1 && after.is_some_and(|t| passed.contains(&t)) {
                // Its parent was refused and its first half was not: no need to send it whole.
                next_token += 1;
                split(group, next_token, &mut stack);
                continue;
            }
            let users: Vec<AssignUser<'_>> = group
                .iter()
                .map(|e| AssignUser {
                    email: &e.email,
                    roles: &e.roles,
                })
                .collect();
            let (result, body) = self.members(&space.id).assign(&users).await;
            let error = match result {
                Ok(_) => {
                    if let Some(token) = token {
                        passed.insert(token);
                    }
                    self.settle_success(space, &group, results).await;
                    continue;
                }
                Err(error) => error,
            };
            let verdict = match error.status() {
                Some(status) if !error.is_retryable() => judge(status, body.as_ref(), group.len()),
                _ => Verdict::FailAll,
            };
            match verdict {
                Verdict::Shrink { limit } => {
                    self.lower_batch_size(limit);
                    stack.push(Pending::new(group));
                }
                Verdict::Split => {
                    let mut group = group;
                    for entry in &mut group {
                        entry.resent = true;
                    }
                    let (group, all_bad) = self.drop_applied(space, group, results).await;
                    if !all_bad {
                        next_token += 1;
                        split(group, next_token, &mut stack);
                        continue;
                    }
                    // The server applied every valid entry: what is left is bad. A lone entry
                    // owns the violations; several are sent one by one for their own.
                    if let [entry] = group.as_slice()
                        && let Some(Verdict::Entries(problems)) = body
                            .as_ref()
                            .filter(|b| !b.violations.is_empty())
                            .map(|b| judge(422, Some(b), 1))
                        && let Some(EntryProblem::Invalid { titles, fields }) = problems.get(&0)
                    {
                        results[entry.op] = Some(Err(entry_error(&error, titles, fields.join(", "))));
                        continue;
                    }
                    stack.extend(group.into_iter().rev().map(|e| Pending::new(vec![e])));
                }
                Verdict::FailAll => {
                    for entry in &group {
                        results[entry.op] = Some(Err(duplicate(&error)));
                    }
                }
                Verdict::Entries(problems) => {
                    let mut rest = Vec::with_capacity(group.len());
                    let mut members = Vec::new();
                    for (position, mut entry) in group.into_iter().enumerate() {
                        match problems.get(&position) {
                            None => {
                                entry.resent = true;
                                rest.push(entry);
                            }
                            Some(EntryProblem::Invalid { titles, fields }) => {
                                results[entry.op] = Some(Err(entry_error(&error, titles, fields.join(", "))));
                            }
                            Some(EntryProblem::AlreadyMember { title }) => {
                                members.push((entry, title.clone()));
                            }
                        }
                    }
                    self.settle_members(space, members, &error, results).await;
                    if self.shared.partial.get() == Learned::Works {
                        // The server applied the valid entries of the rejected batch.
                        settle_applied(&rest, results);
                    } else {
                        stack.push(Pending::new(rest));
                    }
                }
            }
        }
    }

    /// After a rejection that names no entries: where the server may apply the valid entries of
    /// a rejected batch and lists members, read the space back (one listing) and settle the
    /// entries that now hold what was sent. Returns the others, and whether they are known to be
    /// the bad ones (the server applied every valid entry). The first answer tells whether the
    /// server applies partially; an all-or-nothing server is not read back again.
    async fn drop_applied(
        &self,
        space: &SpaceInfo,
        group: Vec<Entry>,
        results: &mut [Option<Outcome>],
    ) -> (Vec<Entry>, bool) {
        if self.shared.partial.get() == Learned::No || self.shared.member_list.get() == Learned::No {
            return (group, false);
        }
        let Ok(Some(members)) = self.members(&space.id).list_all().await else {
            return (group, false);
        };
        let held: HashMap<String, Vec<String>> = members
            .into_iter()
            .filter_map(|m| Some((m.email()?.to_lowercase(), m.roles)))
            .collect();
        let (applied, rest): (Vec<Entry>, Vec<Entry>) = group.into_iter().partition(|e| {
            held.get(&e.email.to_lowercase())
                .is_some_and(|roles| same_roles(roles, &e.roles))
        });
        if !applied.is_empty() {
            self.learn_partial();
            settle_applied(&applied, results);
        } else if self.shared.partial.get() == Learned::Unknown {
            tracing::info!("alumio applies nothing of a rejected batch; splitting rejected batches");
            self.shared.partial.set(Learned::No);
        }
        let all_bad = self.shared.partial.get() == Learned::Works;
        (rest, all_bad)
    }

    /// A batch went through: every entry is done. The first time updates go through, one of
    /// them is read back to learn whether the server re-assigns or ignores existing members.
    async fn settle_success(&self, space: &SpaceInfo, group: &[Entry], results: &mut [Option<Outcome>]) {
        let mut ignored = false;
        if self.shared.reassign.get() == Learned::Unknown
            && let Some(probe) = group.iter().find(|e| e.update)
        {
            match self.members(&space.id).get(&probe.email).await {
                Ok(Some(member)) if same_roles(&member.roles, &probe.roles) => {
                    self.shared.reassign.set(Learned::Works);
                }
                Ok(Some(member)) => {
                    tracing::warn!(
                        space = %space.id,
                        "alumio accepted a re-assignment but kept the member's roles \
                         ({:?} instead of {:?}); roles of existing members will not be changed",
                        member.roles,
                        probe.roles
                    );
                    self.shared.reassign_kept.set(Learned::Works);
                    self.shared.reassign.set(Learned::No);
                    ignored = true;
                }
                // Not visible or not readable: nothing learned.
                Ok(None) | Err(_) => {}
            }
        }
        for entry in group {
            let info = assignment(&entry.email, entry.roles.clone());
            results[entry.op] = Some(if entry.update && ignored {
                Err(Error::invalid(REASSIGN_IGNORED))
            } else if entry.update {
                Ok(WriteOutcome::Updated(Some(info)))
            } else {
                Ok(WriteOutcome::Created(Some(info)))
            });
        }
    }

    /// The server says these users are members already: read what they hold (one listing, or
    /// one read each) and decide.
    async fn settle_members(
        &self,
        space: &SpaceInfo,
        entries: Vec<(Entry, Option<String>)>,
        batch: &Error,
        results: &mut [Option<Outcome>],
    ) {
        if entries.is_empty() {
            return;
        }
        // The server will not assign an existing member again, so it cannot change roles.
        self.shared.reassign.set(Learned::No);
        let emails: Vec<String> = entries.iter().map(|(e, _)| e.email.clone()).collect();
        let held: Result<HashMap<String, Vec<String>>, Error> = self
            .memberships(space, Some(&emails))
            .await
            .map(|list| list.into_iter().map(|a| (a.assignee_id, a.roles)).collect());
        for (entry, title) in entries {
            let title = title.unwrap_or_else(|| "already a member".to_owned());
            let roles = match &held {
                Ok(held) => held.get(&entry.email.to_lowercase()).cloned(),
                Err(read) => {
                    results[entry.op] = Some(Err(entry_error(
                        batch,
                        &[title],
                        format!("reading the member back failed: {read}"),
                    )));
                    continue;
                }
            };
            let Some(roles) = roles else {
                results[entry.op] = Some(Err(entry_error(
                    batch,
                    &[title],
                    "the member cannot be read back".to_owned(),
                )));
                continue;
            };
            let applied = same_roles(&roles, &entry.roles);
            // A new member that holds exactly what was sent, after only rejected batches: the
            // server applied the valid entries of a rejected batch.
            if applied && !entry.update && entry.resent && batch.attempts() == 1 {
                self.learn_partial();
            }
            let info = assignment(&entry.email, roles);
            results[entry.op] = Some(match (entry.update, applied) {
                (true, true) => Ok(WriteOutcome::Updated(Some(info))),
                (true, false) => Err(entry_error(batch, &[title], REASSIGN_REFUSED.to_owned())),
                // Sent before in this call: an earlier batch applied it.
                (false, true) if entry.resent || batch.attempts() > 1 => {
                    Ok(WriteOutcome::Created(Some(info)))
                }
                (false, _) => Ok(WriteOutcome::AlreadyExists(info)),
            });
        }
    }

    fn learn_partial(&self) {
        if self.shared.partial.get() != Learned::Works {
            tracing::info!("alumio applies the valid entries of a rejected batch; they are not sent again");
            self.shared.partial.set(Learned::Works);
        }
    }
}

/// A batch still to send. A split batch's halves share a token: the first half carries it,
/// the second waits for it.
struct Pending {
    group: Vec<Entry>,
    /// Recorded when this batch goes through.
    token: Option<u64>,
    /// The token of the first half, when this is a second half.
    after: Option<u64>,
}

impl Pending {
    fn new(group: Vec<Entry>) -> Self {
        Pending {
            group,
            token: None,
            after: None,
        }
    }
}

/// Pushes the halves of a batch, the first on top.
fn split(group: Vec<Entry>, token: u64, stack: &mut Vec<Pending>) {
    let (first, second) = halves(group.len());
    stack.push(Pending {
        group: group[second].to_vec(),
        token: None,
        after: Some(token),
    });
    stack.push(Pending {
        group: group[first].to_vec(),
        token: Some(token),
        after: None,
    });
}

/// Entries the server applied: each is done.
fn settle_applied(entries: &[Entry], results: &mut [Option<Outcome>]) {
    for entry in entries {
        let info = assignment(&entry.email, entry.roles.clone());
        results[entry.op] = Some(Ok(if entry.update {
            WriteOutcome::Updated(Some(info))
        } else {
            WriteOutcome::Created(Some(info))
        }));
    }
}

impl Client {
    /// Why a role change cannot be made, once the run has learned that it cannot.
    fn reassign_failure(&self) -> &'static str {
        if self.shared.reassign_kept.get() == Learned::Works {
            REASSIGN_IGNORED
        } else {
            REASSIGN_REFUSED
        }
    }
}

const REASSIGN_REFUSED: &str = "change the roles of an existing Alumio member: assign_users \
    does not re-assign members of a space; change the roles in Alumio";

const REASSIGN_IGNORED: &str = "change the roles of an existing Alumio member: assign_users \
    accepted the request but kept the old roles; change the roles in Alumio";

/// The engine's view of a membership: Alumio identifies members by email.
pub(crate) fn assignment(email: &str, roles: Vec<String>) -> AssignmentInfo {
    let email = email.to_lowercase();
    AssignmentInfo {
        id: email.clone(),
        assignee_kind: AssigneeKind::User,
        assignee_id: email,
        roles,
    }
}

fn same_roles(held: &[String], wanted: &[String]) -> bool {
    let held: HashSet<&str> = held.iter().map(String::as_str).collect();
    let wanted: HashSet<&str> = wanted.iter().map(String::as_str).collect();
    held == wanted
}

/// Splits entries into rounds in which every email appears once, keeping order: a batch that
/// names a user twice would leave it to the server which entry wins.
fn rounds(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut rounds: Vec<(HashSet<String>, Vec<Entry>)> = Vec::new();
    for entry in entries {
        let key = entry.email.to_lowercase();
        match rounds.iter_mut().find(|(seen, _)| !seen.contains(&key)) {
            Some((seen, list)) => {
                seen.insert(key);
                list.push(entry);
            }
            None => rounds.push((HashSet::from([key]), vec![entry])),
        }
    }
    rounds.into_iter().map(|(_, list)| list).collect()
}

/// One entry's failure, shaped like the batch's error (same call, status and attempts) but with
/// the entry's own violations as its message.
fn entry_error(batch: &Error, titles: &[String], detail: String) -> Error {
    let title = if titles.is_empty() {
        "rejected by Alumio".to_owned()
    } else {
        titles.join("; ")
    };
    let detail = (!detail.is_empty()).then_some(detail);
    let kind = match batch.kind() {
        ErrorKind::Api {
            method, path, status, ..
        } => ErrorKind::Api {
            method: method.clone(),
            path: path.clone(),
            status: *status,
            problem: Problem {
                code: None,
                title: Some(title),
                detail,
            },
            retry_after: None,
        },
        _ => ErrorKind::Api {
            method: Method::POST,
            path: String::from("assign_users"),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problem: Problem {
                code: None,
                title: Some(title),
                detail,
            },
            retry_after: None,
        },
    };
    Error::from(kind).with_attempts(batch.attempts(), batch.elapsed())
}

/// A copy of a batch's error for each of its rows ([`Error`] is not `Clone`: it may hold a
/// JSON error, which is kept as text here).
pub(crate) fn duplicate(error: &Error) -> Error {
    let kind = match error.kind() {
        ErrorKind::Api {
            method,
            path,
            status,
            problem,
            retry_after,
        } => ErrorKind::Api {
            method: method.clone(),
            path: path.clone(),
            status: *status,
            problem: problem.clone(),
            retry_after: *retry_after,
        },
        ErrorKind::Timeout { method, path, cause } => ErrorKind::Timeout {
            method: method.clone(),
            path: path.clone(),
            cause: cause.clone(),
        },
        ErrorKind::Connection { method, path, cause } => ErrorKind::Connection {
            method: method.clone(),
            path: path.clone(),
            cause: cause.clone(),
        },
        ErrorKind::Tls {
            method,
            path,
            problem,
            cause,
        } => ErrorKind::Tls {
            method: method.clone(),
            path: path.clone(),
            problem: *problem,
            cause: cause.clone(),
        },
        ErrorKind::Refused { method, path, cause } => ErrorKind::Refused {
            method: method.clone(),
            path: path.clone(),
            cause: cause.clone(),
        },
        ErrorKind::UnknownHost { method, path, cause } => ErrorKind::UnknownHost {
            method: method.clone(),
            path: path.clone(),
            cause: cause.clone(),
        },
        ErrorKind::Token { source } => ErrorKind::Token {
            source: duplicate(source),
        },
        ErrorKind::Config(message) => ErrorKind::Config(message.clone()),
        ErrorKind::Invalid(message) => ErrorKind::Invalid(message.clone()),
        ErrorKind::ForeignLink { href } => ErrorKind::ForeignLink { href: href.clone() },
        _ => ErrorKind::Invalid(error.to_string()),
    };
    Error::from(kind).with_attempts(error.attempts(), error.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(op: usize, email: &str) -> Entry {
        Entry {
            op,
            email: email.to_owned(),
            roles: vec!["ROLE_USER".to_owned()],
            update: false,
            resent: false,
        }
    }

    #[test]
    fn rounds_keep_each_email_once() {
        let r = rounds(vec![
            entry(0, "a@x"),
            entry(1, "b@x"),
            entry(2, "A@x"),
            entry(3, "c@x"),
            entry(4, "a@x"),
        ]);
        let ops: Vec<Vec<usize>> = r.iter().map(|l| l.iter().map(|e| e.op).collect()).collect();
        assert_eq!(ops, [vec![0, 1, 3], vec![2], vec![4]]);
    }

    #[test]
    fn entry_errors_keep_the_batch_call_and_status() {
        let batch: Error = ErrorKind::Api {
            method: Method::POST,
            path: "/api/v1/spaces/finance/assign_users".to_owned(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            problem: Problem::default(),
            retry_after: None,
        }
        .into();
        let batch = batch.with_attempts(2, std::time::Duration::from_millis(300));
        let err = entry_error(&batch, &["User not found.".to_owned()], "email".to_owned());
        assert_eq!(err.status(), Some(422));
        assert_eq!(err.kind_code(), "invalid");
        assert_eq!(err.title(), Some("User not found."));
        assert_eq!(err.attempts(), 2);
        assert!(err.to_string().contains("User not found. (email)"), "{err}");
        let copy = duplicate(&batch);
        assert_eq!(copy.to_string(), batch.to_string());
    }

    #[test]
    fn roles_compare_as_sets() {
        let a = vec!["ROLE_USER".to_owned(), "ROLE_EDITOR".to_owned()];
        let b = vec!["ROLE_EDITOR".to_owned(), "ROLE_USER".to_owned()];
        assert!(same_roles(&a, &b));
        assert!(!same_roles(&a, &b[..1]));
    }
}
