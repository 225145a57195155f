//! Planning the reverse of a run.
