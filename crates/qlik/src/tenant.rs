//! [`core_api::tenant::TenantConfig`] for Qlik Cloud: group settings, license settings, roles,
//! groups with roles, space descriptions and `users/me`, with the paths, payloads and rate tiers
//! of Qlik's specs (reads Tier 1, writes Tier 2).

use async_trait::async_trait;
use core_api::target::{GroupInfo, SpaceInfo};
use core_api::tenant::{
    GroupSettings, GroupSettingsPatch, GroupWithRoles, LicenseSettings, Me, RoleInfo, TenantConfig,
};
use core_api::{Error, Method, Request, Tier};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::Client;
use crate::models::Space;

/// `GET /api/v1/groups/settings`, the fields the tool manages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSettingsBody {
    /// Create groups when users log in.
    #[serde(default)]
    pub auto_create_groups: Option<bool>,
    /// Synchronise the identity provider's groups (deprecated).
    #[serde(default)]
    pub sync_idp_groups: Option<bool>,
}

/// `GET`/`PUT /api/v1/licenses/settings`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LicenseSettingsBody {
    /// Assign professional licenses automatically.
    #[serde(default)]
    pub auto_assign_professional: Option<bool>,
    /// Assign analyzer licenses automatically.
    #[serde(default)]
    pub auto_assign_analyzer: Option<bool>,
}

/// A role as `GET /api/v1/roles` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Role {
    /// Id.
    pub id: String,
    /// Unique name.
    #[serde(default)]
    pub name: String,
    /// `default` or `custom`.
    #[serde(rename = "type", default)]
    pub role_type: Option<String>,
    /// `admin` or `user`.
    #[serde(default)]
    pub level: Option<String>,
}

/// A role reference inside a group or user (`assignedRoles`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AssignedRole {
    /// Id.
    #[serde(default)]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// A group with its roles, as `GET /api/v1/groups` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupWithAssignedRoles {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `idp` or `custom`.
    #[serde(default)]
    pub provider_type: Option<String>,
    /// Tenant roles held.
    #[serde(default)]
    pub assigned_roles: Option<Vec<AssignedRole>>,
}

/// `GET /api/v1/users/me`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeBody {
    /// Id.
    pub id: String,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Tenant.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Tenant roles held.
    #[serde(default)]
    pub assigned_roles: Option<Vec<AssignedRole>>,
}

fn role_names(roles: Option<Vec<AssignedRole>>) -> Vec<String> {
    let mut names: Vec<String> = roles
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.name.or(r.id))
        .collect();
    names.sort();
    names.dedup();
    names
}

fn name_refs(roles: &[String]) -> Vec<Value> {
    roles.iter().map(|name| json!({ "name": name })).collect()
}

impl Client {
    async fn send(&self, method: Method, segments: &[&str], body: &impl Serialize) -> Result<(), Error> {
        let url = self.api_url(segments)?;
        let request = Request::new(method, url, Tier::Tier2).json(body)?;
        self.http().execute(&request).await?;
        Ok(())
    }

    async fn find_group_with_roles(&self, name: &str) -> Result<Option<GroupWithAssignedRoles>, Error> {
        let url = self.list_url(&["groups"], &[("filter", &crate::filter::eq("name", name))])?;
        let found: Vec<GroupWithAssignedRoles> = self.list_all(url).await?;
        Ok(found.into_iter().find(|g| g.name == name))
    }
}

#[async_trait]
impl TenantConfig for Client {
    async fn group_settings(&self) -> Result<GroupSettings, Error> {
        let url = self.api_url(&["groups", "settings"])?;
        let body: GroupSettingsBody = self.http().get_json(url, Tier::Tier1).await?;
        Ok(GroupSettings {
            auto_create_groups: body.auto_create_groups.unwrap_or(false),
            sync_idp_groups: body.sync_idp_groups.unwrap_or(false),
        })
    }

    /// One `PATCH /groups/settings` with a `replace` operation per changed value.
    async fn patch_group_settings(&self, patch: &GroupSettingsPatch) -> Result<(), Error> {
        let mut ops = Vec::new();
        if let Some(value) = patch.auto_create_groups {
            ops.push(json!({ "op": "replace", "path": "/autoCreateGroups", "value": value }));
        }
        if let Some(value) = patch.sync_idp_groups {
            ops.push(json!({ "op": "replace", "path": "/syncIdpGroups", "value": value }));
        }
        if ops.is_empty() {
            return Ok(());
        }
        self.send(Method::PATCH, &["groups", "settings"], &ops).await
    }

    async fn license_settings(&self) -> Result<LicenseSettings, Error> {
        let url = self.api_url(&["licenses", "settings"])?;
        let body: LicenseSettingsBody = self.http().get_json(url, Tier::Tier1).await?;
        Ok(LicenseSettings {
            auto_assign_professional: body.auto_assign_professional.unwrap_or(false),
            auto_assign_analyzer: body.auto_assign_analyzer.unwrap_or(false),
        })
    }

    async fn put_license_settings(&self, settings: &LicenseSettings) -> Result<LicenseSettings, Error> {
        let url = self.api_url(&["licenses", "settings"])?;
        let body = LicenseSettingsBody {
            auto_assign_professional: Some(settings.auto_assign_professional),
            auto_assign_analyzer: Some(settings.auto_assign_analyzer),
        };
        let request = Request::new(Method::PUT, url, Tier::Tier2).json(&body)?;
        let response = self.http().execute(&request).await?;
        // The spec answers with the object; a body-less answer means what was sent holds.
        if response.body.is_empty() {
            return Ok(*settings);
        }
        let written: LicenseSettingsBody = response.json()?;
        Ok(LicenseSettings {
            auto_assign_professional: written
                .auto_assign_professional
                .unwrap_or(settings.auto_assign_professional),
            auto_assign_analyzer: written
                .auto_assign_analyzer
                .unwrap_or(settings.auto_assign_analyzer),
        })
    }

    async fn list_roles(&self) -> Result<Vec<RoleInfo>, Error> {
        let roles: Vec<Role> = self.list_all(self.list_url(&["roles"], &[])?).await?;
        Ok(roles
            .into_iter()
            .map(|role| RoleInfo {
                id: role.id,
                name: role.name,
                role_type: role.role_type.unwrap_or_default(),
                level: role.level.unwrap_or_default(),
            })
            .collect())
    }

    async fn list_groups_with_roles(&self) -> Result<Vec<GroupWithRoles>, Error> {
        let groups: Vec<GroupWithAssignedRoles> = self.list_all(self.list_url(&["groups"], &[])?).await?;
        Ok(groups
            .into_iter()
            .map(|group| GroupWithRoles {
                group: GroupInfo {
                    id: group.id,
                    name: group.name,
                },
                roles: role_names(group.assigned_roles),
                provider_type: group.provider_type,
            })
            .collect())
    }

    async fn create_group_with_roles(&self, name: &str, roles: &[String]) -> Result<GroupInfo, Error> {
        let url = self.api_url(&["groups"])?;
        let mut body = json!({ "name": name, "status": "active", "providerType": "custom" });
        if !roles.is_empty() {
            body["assignedRoles"] = Value::Array(name_refs(roles));
        }
        let request = Request::new(Method::POST, url, Tier::Tier2).json(&body)?;
        match self.http().execute(&request).await {
            Ok(response) => {
                let created: GroupWithAssignedRoles = response.json()?;
                Ok(GroupInfo {
                    id: created.id,
                    name: created.name,
                })
            }
            // A retried create whose first response was lost: the group is ours; make sure
            // its roles are the ones asked for.
            Err(error) if error.is_conflict() && error.attempts() > 1 => {
                let Some(found) = self.find_group_with_roles(name).await? else {
                    return Err(error);
                };
                let mut wanted = roles.to_vec();
                wanted.sort();
                wanted.dedup();
                if role_names(found.assigned_roles) != wanted {
                    self.set_group_roles(&found.id, roles).await?;
                }
                Ok(GroupInfo {
                    id: found.id,
                    name: found.name,
                })
            }
            Err(error) => Err(error),
        }
    }

    /// `PATCH /groups/{id}` replacing `/assignedRoles` with the whole list, by name.
    async fn set_group_roles(&self, group_id: &str, roles: &[String]) -> Result<(), Error> {
        let ops = [json!({ "op": "replace", "path": "/assignedRoles", "value": name_refs(roles) })];
        self.send(Method::PATCH, &["groups", group_id], &ops).await
    }

    async fn create_space_described(
        &self,
        name: &str,
        space_type: &str,
        description: Option<&str>,
    ) -> Result<SpaceInfo, Error> {
        core_api::target::Target::create_space(self, name, space_type, description).await
    }

    /// `PATCH /spaces/{id}` replacing `/description`.
    async fn set_space_description(&self, space_id: &str, description: &str) -> Result<(), Error> {
        let ops = [json!({ "op": "replace", "path": "/description", "value": description })];
        let url = self.api_url(&["spaces", space_id])?;
        let request = Request::new(Method::PATCH, url, Tier::Tier2).json(&ops)?;
        let response = self.http().execute(&request).await?;
        // 200 with the space; its body is not needed, but a body that is not a space is news.
        if !response.body.is_empty() {
            let _: Space = response.json()?;
        }
        Ok(())
    }

    /// `DELETE /groups/{id}`: 204.
    async fn delete_group(&self, group_id: &str) -> Result<(), Error> {
        let url = self.api_url(&["groups", group_id])?;
        self.http()
            .execute(&Request::new(Method::DELETE, url, Tier::Tier2))
            .await
            .map(drop)
    }

    /// `DELETE /spaces/{id}`: 204; 412 while the space holds content.
    async fn delete_space(&self, space_id: &str) -> Result<(), Error> {
        let url = self.api_url(&["spaces", space_id])?;
        self.http()
            .execute(&Request::new(Method::DELETE, url, Tier::Tier2))
            .await
            .map(drop)
    }

    async fn me(&self) -> Result<Me, Error> {
        let url = self.api_url(&["users", "me"])?;
        let body: MeBody = self.http().get_json(url, Tier::Tier1).await?;
        Ok(Me {
            id: body.id,
            email: body.email,
            name: body.name,
            tenant_id: body.tenant_id,
            roles: role_names(body.assigned_roles),
        })
    }
}
