//! SCIM `filter` parameters of the users and groups lists: which comparisons a list allows, and
//! answering an `or` of `eq` from an index.

use axum::response::Response;

use super::paging::Params;
use super::reply::bad_request;
use crate::scim::{self, Op};
use crate::state::Shared;

/// Parse `filter`, allowing only the given `eq` and `co` attributes.
pub(super) fn parse_filter(
    s: &Shared,
    params: &Params,
    eq_attrs: &[&str],
    co_attrs: &[&str],
) -> Result<Option<scim::Filter>, Response> {
    let Some(raw) = params.get("filter").filter(|f| !f.trim().is_empty()) else {
        return Ok(None);
    };
    let filter = scim::parse(raw).map_err(|e| bad_request(s, &format!("invalid filter: {e}")))?;
    for (attr, op) in filter.comparisons() {
        let allowed = match op {
            Op::Eq => eq_attrs.contains(&attr),
            Op::Co => co_attrs.contains(&attr),
        };
        if !allowed {
            return Err(bad_request(
                s,
                &format!("invalid filter: unsupported comparison on {attr:?}"),
            ));
        }
    }
    Ok(Some(filter))
}

/// Answer an `or` of `eq` lookups from an index: the matching positions in tenant order, or
/// `None` when some comparison has no index (then the caller scans).
pub(super) fn lookup(
    filter: &scim::Filter,
    find: impl Fn(&str, &str) -> Option<Option<usize>>,
) -> Option<Vec<usize>> {
    let mut found = Vec::new();
    for (attr, value) in filter.or_of_eq()? {
        found.extend(find(attr, value)?);
    }
    found.sort_unstable();
    found.dedup();
    Some(found)
}
