//! `roster demo`: a whole run against a simulated tenant on loopback, nothing leaves the machine.

pub mod roster;
