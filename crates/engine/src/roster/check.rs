//! Checks on single values of a row: emails, space names and identifiers, group names.

use core_api::target::TargetKind;

/// Characters Qlik Cloud refuses in space names.
pub const QLIK_FORBIDDEN_SPACE_CHARS: &str = "\"*?<>/|\\:";

/// The longest space name Qlik Cloud accepts, in characters.
pub const MAX_SPACE_NAME_CHARS: usize = 256;

/// The longest Alumio space identifier.
pub const MAX_ALUMIO_SPACE_ID: usize = 255;

/// The longest email address (RFC 5321 path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// The longest group name or tenant id accepted in a roster.
pub const MAX_NAME_CHARS: usize = 256;

/// Shortens a value for an error message, so a 10 kB cell does not flood the terminal.
pub fn shown(value: &str) -> String {
    const KEEP: usize = 60;
    if value.chars().count() <= KEEP {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(KEEP).collect();
        format!("{head:?}...")
    }
}

fn control(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// Checks an email address and returns it lowercased.
///
/// Deliberately loose: one `@`, something on each side, no spaces, control characters or the
/// punctuation that never appears in a deliverable address. The tenant is the judge of
/// whether the user exists.
pub fn email(value: &str) -> Result<String, String> {
    let bad = || format!("invalid email {}", shown(value));
    if value.chars().count() > MAX_EMAIL_CHARS {
        return Err(format!("{} (longer than {MAX_EMAIL_CHARS} characters)", bad()));
    }
    let Some((local, domain)) = value.split_once('@') else {
        return Err(format!("{} (no \"@\")", bad()));
    };
    if local.is_empty() || domain.is_empty() {
        return Err(bad());
    }
    if domain.contains('@') {
        return Err(format!("{} (more than one \"@\")", bad()));
    }
    if value
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\",;<>()[]\\".contains(c))
    {
        return Err(bad());
    }
    if domain.starts_with('.') || domain.ends_with('.') || domain.contains("..") || domain.starts_with('-') {
        return Err(bad());
    }
    Ok(value.to_lowercase())
}

/// Checks a space name for what the vendor refuses.
pub fn space_name(value: &str, kind: TargetKind) -> Result<(), String> {
    let chars = value.chars().count();
    if chars > MAX_SPACE_NAME_CHARS {
        return Err(format!(
            "space name is {chars} characters long; the limit is {MAX_SPACE_NAME_CHARS}"
        ));
    }
    if control(value) {
        return Err(format!(
            "space name {} contains a control character",
            shown(value)
        ));
    }
    if kind == TargetKind::Qlik
        && let Some(c) = value.chars().find(|c| QLIK_FORBIDDEN_SPACE_CHARS.contains(*c))
    {
        return Err(format!(
            "space name {} contains {c:?}, which qlik does not allow in space names (none of {QLIK_FORBIDDEN_SPACE_CHARS})",
            shown(value)
        ));
    }
    Ok(())
}

/// Checks a space id.
pub fn space_id(value: &str, kind: TargetKind) -> Result<(), String> {
    match kind {
        TargetKind::Alumio => {
            let ok = value.len() <= MAX_ALUMIO_SPACE_ID
                && value
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "space identifier {} must be lowercase letters, digits and hyphens (at most {MAX_ALUMIO_SPACE_ID})",
                    shown(value)
                ))
            }
        }
        TargetKind::Qlik => id(value, "space id"),
    }
}

/// Checks a tenant id of a user, group or space.
pub fn id(value: &str, what: &str) -> Result<(), String> {
    if value.chars().count() > MAX_NAME_CHARS || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("invalid {what} {}", shown(value)));
    }
    Ok(())
}

/// Checks a group name.
pub fn group_name(value: &str) -> Result<(), String> {
    let chars = value.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(format!(
            "group name is {chars} characters long; the limit is {MAX_NAME_CHARS}"
        ));
    }
    if control(value) {
        return Err(format!(
            "group name {} contains a control character",
            shown(value)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(email("Alice@Example.COM").unwrap(), "alice@example.com");
        assert_eq!(email("a.b+c@sub.example.org").unwrap(), "a.b+c@sub.example.org");
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "a@b@c",
            "a b@c.d",
            "a@.c",
            "a@c.",
            "a@c..d",
            "<a@b.c>",
            "a;b@c.d",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        assert!(email(&long).unwrap_err().contains("longer than"));
    }

    #[test]
    fn space_names() {
        assert!(space_name("Finance Prod", TargetKind::Qlik).is_ok());
        for c in QLIK_FORBIDDEN_SPACE_CHARS.chars() {
            let name = format!("a{c}b");
            assert!(space_name(&name, TargetKind::Qlik).is_err(), "{name}");
        }
        assert!(space_name("a/b", TargetKind::Alumio).is_ok());
        assert!(space_name(&"x".repeat(256), TargetKind::Qlik).is_ok());
        assert!(
            space_name(&"x".repeat(257), TargetKind::Qlik)
                .unwrap_err()
                .contains("257")
        );
        assert!(space_name("tab\there", TargetKind::Qlik).is_err());
    }

    #[test]
    fn space_ids() {
        assert!(space_id("my-space-1", TargetKind::Alumio).is_ok());
        assert!(space_id("My Space", TargetKind::Alumio).is_err());
        assert!(space_id("5f0e0c0e0c0e0c0e0c0e0c0e", TargetKind::Qlik).is_ok());
        assert!(space_id("a b", TargetKind::Qlik).is_err());
    }

    #[test]
    fn long_values_are_shortened_in_messages() {
        let long = "y".repeat(10_000);
        let message = space_name(&long, TargetKind::Qlik).unwrap_err();
        assert!(message.len() < 200, "{message}");
        let message = email(&long).unwrap_err();
        assert!(message.len() < 200, "{message}");
    }
}
