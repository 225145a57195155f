//! Shared ground for roster's vendor clients.
//!
//! This crate owns what every target has in common: the HTTP client setup, credentials and secrets,
//! rate limiting, the retry policy, the error model, pagination helpers, and the [`target`] traits
//! through which the engine drives a tenant. It never prints: progress reaches the engine through
//! observer hooks.

pub mod target;
