//! A tenant as a tenant file: settings, every group with its roles, spaces with their type,
//! description and assignments written inline (users by email, groups by name).
//!
//! Inline, not a roster beside the file: one file describes the tenant and plans back to no
//! change. Assignments the file cannot name (a user without an email) are listed as comments.

use std::fmt::Write as _;

use core_api::target::AssigneeKind;
use core_api::tenant::{GroupSettings, GroupWithRoles, LicenseSettings};

use super::file::FORMAT_VERSION;
use crate::export::SpaceExport;

/// What an export read.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Group settings.
    pub group_settings: Option<GroupSettings>,
    /// License settings.
    pub license_settings: Option<LicenseSettings>,
    /// Groups and their roles, in the tenant's order.
    pub groups: Vec<GroupWithRoles>,
    /// Spaces with their assignments.
    pub spaces: Vec<SpaceExport>,
}

/// A TOML string literal.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

fn list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

/// Render a snapshot as a tenant file. `source` names the tenant in the opening comment.
pub fn render(snapshot: &Snapshot, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Tenant file exported by roster from {source}.");
    let _ = writeln!(
        out,
        "# `roster tenant plan` of this file against the same tenant shows no change."
    );
    let _ = writeln!(out, "version = {FORMAT_VERSION}");
    if snapshot.group_settings.is_some() || snapshot.license_settings.is_some() {
        let _ = writeln!(out, "\n[settings]");
        if let Some(g) = snapshot.group_settings {
            let _ = writeln!(out, "auto_create_groups = {}", g.auto_create_groups);
            let _ = writeln!(out, "sync_idp_groups = {}", g.sync_idp_groups);
        }
        if let Some(l) = snapshot.license_settings {
            let _ = writeln!(out, "auto_assign_professional = {}", l.auto_assign_professional);
            let _ = writeln!(out, "auto_assign_analyzer = {}", l.auto_assign_analyzer);
        }
    }
    for group in &snapshot.groups {
        let mut roles = group.roles.clone();
        roles.sort();
        roles.dedup();
        let _ = writeln!(
            out,
            "\n[[groups]]\nname = {}\nroles = {}",
            quote(&group.group.name),
            list(&roles)
        );
    }
    for export in &snapshot.spaces {
        let space = &export.space;
        if space.name.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n[[spaces]]\nname = {}", quote(&space.name));
        if !space.space_type.is_empty() {
            let _ = writeln!(out, "type = {}", quote(&space.space_type));
        }
        if let Some(description) = space.description.as_deref().filter(|d| !d.is_empty()) {
            let _ = writeln!(out, "description = {}", quote(description));
        }
        let mut lines = Vec::new();
        let mut skipped = Vec::new();
        for a in &export.assignments {
            match a.kind {
                AssigneeKind::Group => match &a.group_name {
                    Some(name) => lines.push(format!(
                        "  {{ group = {}, roles = {} }},",
                        quote(name),
                        list(&a.roles)
                    )),
                    None => skipped.push(format!("group {}", a.assignee_id)),
                },
                AssigneeKind::User => match &a.email {
                    Some(email) => lines.push(format!(
                        "  {{ user = {}, roles = {} }},",
                        quote(email),
                        list(&a.roles)
                    )),
                    None => skipped.push(format!("user {}", a.subject.as_deref().unwrap_or(&a.assignee_id))),
                },
            }
        }
        if !lines.is_empty() {
            let _ = writeln!(out, "assignments = [\n{}\n]", lines.join("\n"));
        }
        for s in skipped {
            let _ = writeln!(out, "# not exported (no email or name to write): {s}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use core_api::target::{GroupInfo, SpaceInfo};

    use super::*;
    use crate::export::Exported;

    #[test]
    fn an_export_reads_back_as_the_same_tenant() {
        let snapshot = Snapshot {
            group_settings: Some(GroupSettings {
                auto_create_groups: true,
                sync_idp_groups: false,
            }),
            license_settings: Some(LicenseSettings {
                auto_assign_professional: false,
                auto_assign_analyzer: true,
            }),
            groups: vec![GroupWithRoles {
                group: GroupInfo {
                    id: "g1".into(),
                    name: "Admins \"EU\"".into(),
                },
                roles: vec!["AuditAdmin".into(), "AnalyticsAdmin".into()],
                provider_type: None,
            }],
            spaces: vec![SpaceExport {
                space: Arc::new(SpaceInfo {
                    id: "s1".into(),
                    name: "Sales".into(),
                    space_type: "managed".into(),
                    owner_id: None,
                    assignable_roles: vec![],
                    description: Some("line one\nline two".into()),
                }),
                owner: None,
                assignments: vec![Exported {
                    kind: AssigneeKind::User,
                    assignee_id: "u1".into(),
                    email: Some("a@example.com".into()),
                    subject: None,
                    group_name: None,
                    roles: vec!["consumer".into()],
                }],
            }],
        };
        let text = render(&snapshot, "prod");
        let file =
            super::super::file::parse(Path::new("x.toml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(file.groups[0].name, "Admins \"EU\"");
        assert_eq!(
            file.groups[0].role_set(),
            Some(vec!["AnalyticsAdmin".into(), "AuditAdmin".into()])
        );
        assert_eq!(file.spaces[0].description.as_deref(), Some("line one\nline two"));
        assert_eq!(file.assignments[0].assignee, "a@example.com");
        assert_eq!(file.settings.auto_assign_analyzer.map(|s| s.value), Some(true));
    }
}
