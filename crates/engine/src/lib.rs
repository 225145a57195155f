//! The roster engine: what runs a job and never touches a terminal.
//!
//! A roster is read ([`roster`]) into [`model`] values, planned against a tenant ([`plan`]),
//! executed ([`exec`]), and every row's outcome is announced as a [`model::Event`]. The run
//! journal ([`journal`]) and the failed-rows CSV ([`failed`]) are two of the reporters that
//! consume those events; the command line adds its own displays. [`export`] reads a tenant back
//! into roster rows and [`migrate`] maps them onto another tenant. [`tenant`] reads a tenant file
//! and diffs and writes a tenant's settings, groups, roles and spaces. Tenants are known only
//! through [`core_api::target::Target`]; nothing here prints, parses a command line or decides
//! an exit code.

pub mod before;
pub mod exec;
pub mod export;
pub mod failed;
pub mod fleet;
pub mod history;
pub mod journal;
pub mod migrate;
pub mod model;
pub mod plan;
pub mod roster;
pub mod tenant;
pub mod undo;
