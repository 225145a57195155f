//! Shared helpers for the end-to-end suite: start the simulator, run the `roster` binary, read
//! its outputs.
