//! Configuring a whole tenant from one TOML file: settings, groups and their tenant roles,
//! spaces, and assignments (`roster tenant plan|apply|export`).
//!
//! [`file`] reads and checks the file; [`diff`] reads the tenant and decides the writes;
//! [`apply`] sends them in dependency order; [`export`] writes a tenant back as a file. No
//! terminal code lives here: the command in `commands::tenant` renders and prompts.

pub mod apply;
pub mod assign;
pub mod diff;
pub mod export;
pub mod file;
pub mod undo;
