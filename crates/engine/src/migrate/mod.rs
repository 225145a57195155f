//! `roster migrate`: assignments from one tenant to another, as export, map, plan and apply in one
//! run.
//!
//! The source is read like `roster export` reads it; [`mapping`] turns it into a roster for the
//! target (spaces by name with an optional rename, users by email then subject, groups by name,
//! roles through a role map, groups expanded for targets without groups); that roster is written
//! to the state directory and then goes through exactly the planner, executor, journal and
//! failed-rows CSV of `roster apply`.

pub mod mapping;
pub mod maps;

pub use mapping::{Mapped, MappedRow, Options, Source, TargetView, map};
pub use maps::{IdentityMap, RoleMap, RoleMapping, SpaceRename};
