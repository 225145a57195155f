//! The resume key of a row: a hash of what the row asks for, not of where it sits in the file;
//! and the key of a row the reader could not use, which has only its line to go by.

use sha2::{Digest, Sha256};

use crate::model::{AssigneeRef, RosterRow, RowKey, SpaceRef};

/// Version tag hashed first, so a future change of the encoding can never collide with keys in
/// an old journal.
const KEY_VERSION: &[u8] = b"roster-row-key/1";

impl RosterRow {
    /// The row's key for `target`: the first 16 bytes of a SHA-256 over a length-prefixed
    /// encoding of target, space, type, assignee and roles, in hex. Two rows get the same key
    /// exactly when they ask the same thing of the same target; the line does not matter.
    pub fn key(&self, target_name: &str) -> RowKey {
        let mut hash = Sha256::new();
        field(&mut hash, KEY_VERSION);
        field(&mut hash, target_name.as_bytes());
        let (tag, value) = match &self.space {
            SpaceRef::Name(v) => (b"space-name".as_slice(), v),
            SpaceRef::Id(v) => (b"space-id".as_slice(), v),
        };
        field(&mut hash, tag);
        field(&mut hash, value.as_bytes());
        field(&mut hash, self.assignee_kind.to_string().as_bytes());
        let (tag, value) = match &self.assignee {
            AssigneeRef::Email(v) => (b"email".as_slice(), v),
            AssigneeRef::Name(v) => (b"name".as_slice(), v),
            AssigneeRef::Id(v) => (b"id".as_slice(), v),
        };
        field(&mut hash, tag);
        field(&mut hash, value.as_bytes());
        hash.update((self.roles.len() as u64).to_le_bytes());
        for role in &self.roles {
            field(&mut hash, role.as_bytes());
        }
        let digest = hash.finalize();
        RowKey(hex::encode(&digest[..16]))
    }
}

/// The key of a row the reader could not use. Such rows can never be done; the key only has to be
/// stable so `--only-failed` finds them again.
pub fn invalid_row_key(target: &str, line: u64) -> RowKey {
    let mut hash = Sha256::new();
    hash.update(b"roster-invalid-row\x001\x00");
    hash.update(target.as_bytes());
    hash.update(b"\x00");
    hash.update(line.to_le_bytes());
    RowKey(hex::encode(&hash.finalize()[..16]))
}

/// Length first, so that no two different tuples encode to the same bytes.
fn field(hash: &mut Sha256, bytes: &[u8]) {
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

#[cfg(test)]
mod tests {
    use core_api::target::AssigneeKind;

    use super::*;

    fn row(line: u64, space: &str, email: &str, roles: &[&str]) -> RosterRow {
        RosterRow {
            line,
            space: SpaceRef::Name(space.to_owned()),
            assignee_kind: AssigneeKind::User,
            assignee: AssigneeRef::Email(email.to_owned()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    #[test]
    fn stable_and_independent_of_line() {
        let a = row(2, "Finance", "a@x.io", &["consumer"]);
        let b = row(900, "Finance", "a@x.io", &["consumer"]);
        assert_eq!(a.key("prod"), b.key("prod"));
        assert_eq!(a.key("prod").0.len(), 32);
        assert!(a.key("prod").0.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn every_part_counts() {
        let base = row(1, "Finance", "a@x.io", &["consumer"]);
        let key = base.key("prod");
        assert_ne!(key, base.key("test"));
        assert_ne!(key, row(1, "Finance2", "a@x.io", &["consumer"]).key("prod"));
        assert_ne!(key, row(1, "Finance", "b@x.io", &["consumer"]).key("prod"));
        assert_ne!(
            key,
            row(1, "Finance", "a@x.io", &["consumer", "producer"]).key("prod")
        );
        let mut by_id = base.clone();
        by_id.space = SpaceRef::Id("Finance".to_owned());
        assert_ne!(key, by_id.key("prod"));
        let mut group = base.clone();
        group.assignee_kind = AssigneeKind::Group;
        assert_ne!(key, group.key("prod"));
        // Boundaries are unambiguous: moving characters between fields changes the key.
        assert_ne!(
            row(1, "ab", "c@x.io", &["consumer"]).key("t"),
            row(1, "a", "bc@x.io", &["consumer"]).key("t")
        );
        assert_ne!(
            row(1, "s", "a@x.io", &["consumer", "producer"]).key("t"),
            row(1, "s", "a@x.io", &["consumerproducer"]).key("t")
        );
    }

    #[test]
    fn known_value() {
        // Pinned: journals on disk depend on this encoding staying the same.
        let key = row(1, "Finance Prod", "alice@example.com", &["consumer", "producer"]).key("prod");
        assert_eq!(key.0.len(), 32);
        assert_eq!(key.0, "5b50291e9fa5cf0ac75f55226d6941ec");
    }
}
