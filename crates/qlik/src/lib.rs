//! The Qlik Cloud client: spaces, assignments, users, groups and OAuth, implementing
//! [`core_api::target::Target`] for the engine.
