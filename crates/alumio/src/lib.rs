//! The Alumio client: spaces and bulk `assign_users`, implementing
//! [`core_api::target::Target`] for the engine.
