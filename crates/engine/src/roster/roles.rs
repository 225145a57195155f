//! Role vocabularies: which words a roster may use for a role, and the API name each stands for.

use core_api::target::TargetKind;

/// Qlik Cloud roles: (API name, UI name). The API name is what the tenant stores and compares
/// case-sensitively; the UI name is what admins see in the space's member dialog.
const QLIK: &[(&str, &str)] = &[
    ("basicconsumer", "Has restricted view"),
    ("codeveloper", "Can edit data in applications"),
    ("consumer", "Can view"),
    ("contributor", "Can contribute"),
    ("dataconsumer", "Can consume data"),
    ("datapreview", "Can view data"),
    ("facilitator", "Can manage"),
    ("operator", "Can operate"),
    ("producer", "Can edit"),
    ("publisher", "Can publish"),
];

/// Alumio roles: (API name, the other words for it). The UI titles are the short words.
const ALUMIO: &[(&str, &[&str])] = &[
    ("ROLE_ADMINISTRATOR", &["administrator"]),
    ("ROLE_EDITOR", &["editor"]),
    ("ROLE_USER", &["viewer"]),
];

/// Maps one role word of a roster to its API name, case-insensitively and ignoring repeated
/// inner whitespace (`Can  View`). `None` when the word is not a role of `kind`.
pub fn normalise(word: &str, kind: TargetKind) -> Option<&'static str> {
    let word = word.trim();
    if let Some(found) = lookup(word, kind) {
        return Some(found);
    }
    // Slow path only for words with odd spacing; most rosters never get here.
    if word.contains(char::is_whitespace) {
        let collapsed = word.split_whitespace().collect::<Vec<_>>().join(" ");
        return lookup(&collapsed, kind);
    }
    None
}

fn lookup(word: &str, kind: TargetKind) -> Option<&'static str> {
    match kind {
        TargetKind::Qlik => QLIK
            .iter()
            .find(|(api, ui)| api.eq_ignore_ascii_case(word) || ui.eq_ignore_ascii_case(word))
            .map(|(api, _)| *api),
        TargetKind::Alumio => ALUMIO
            .iter()
            .find(|(api, words)| {
                api.eq_ignore_ascii_case(word) || words.iter().any(|w| w.eq_ignore_ascii_case(word))
            })
            .map(|(api, _)| *api),
    }
}

/// The list shown after "expected one of:" when a role is unknown.
pub fn expected(kind: TargetKind) -> String {
    match kind {
        TargetKind::Qlik => {
            let api: Vec<&str> = QLIK.iter().map(|(api, _)| *api).collect();
            format!(
                "{}, or a ui name such as \"Can view\" or \"Can edit\"",
                api.join(", ")
            )
        }
        TargetKind::Alumio => {
            let api: Vec<&str> = ALUMIO.iter().map(|(api, _)| *api).collect();
            format!("{}, or viewer, editor, administrator", api.join(", "))
        }
    }
}

/// Every API role name of a vendor, for tests and generators.
pub fn api_names(kind: TargetKind) -> Vec<&'static str> {
    match kind {
        TargetKind::Qlik => QLIK.iter().map(|(api, _)| *api).collect(),
        TargetKind::Alumio => ALUMIO.iter().map(|(api, _)| *api).collect(),
    }
}

/// Every UI name of a vendor's roles, paired with its API name.
pub fn ui_names(kind: TargetKind) -> Vec<(&'static str, &'static str)> {
    match kind {
        TargetKind::Qlik => QLIK.iter().map(|(api, ui)| (*ui, *api)).collect(),
        TargetKind::Alumio => ALUMIO
            .iter()
            .flat_map(|(api, words)| words.iter().map(move |w| (*w, *api)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qlik_api_and_ui_names_case_insensitively() {
        assert_eq!(normalise("consumer", TargetKind::Qlik), Some("consumer"));
        assert_eq!(normalise("CONSUMER", TargetKind::Qlik), Some("consumer"));
        assert_eq!(normalise("Can view", TargetKind::Qlik), Some("consumer"));
        assert_eq!(normalise(" can  VIEW ", TargetKind::Qlik), Some("consumer"));
        assert_eq!(
            normalise("Can edit data in applications", TargetKind::Qlik),
            Some("codeveloper")
        );
        assert_eq!(
            normalise("has restricted view", TargetKind::Qlik),
            Some("basicconsumer")
        );
        assert_eq!(normalise("Can view data", TargetKind::Qlik), Some("datapreview"));
        assert_eq!(normalise("Can fly", TargetKind::Qlik), None);
        assert_eq!(normalise("ROLE_USER", TargetKind::Qlik), None);
        for (ui, api) in ui_names(TargetKind::Qlik) {
            assert_eq!(normalise(ui, TargetKind::Qlik), Some(api));
            assert_eq!(normalise(&ui.to_uppercase(), TargetKind::Qlik), Some(api));
        }
    }

    #[test]
    fn alumio_names() {
        assert_eq!(normalise("ROLE_USER", TargetKind::Alumio), Some("ROLE_USER"));
        assert_eq!(normalise("role_editor", TargetKind::Alumio), Some("ROLE_EDITOR"));
        assert_eq!(normalise("Viewer", TargetKind::Alumio), Some("ROLE_USER"));
        assert_eq!(normalise("EDITOR", TargetKind::Alumio), Some("ROLE_EDITOR"));
        assert_eq!(
            normalise("administrator", TargetKind::Alumio),
            Some("ROLE_ADMINISTRATOR")
        );
        assert_eq!(normalise("consumer", TargetKind::Alumio), None);
    }

    #[test]
    fn expected_lists_every_api_name() {
        for kind in [TargetKind::Qlik, TargetKind::Alumio] {
            let text = expected(kind);
            for api in api_names(kind) {
                assert!(text.contains(api), "{text}");
            }
        }
    }
}
