//! Keeping API keys out of the state directory: the values of secret-looking
//! environment variables, and redaction of serialized bytes before they are
//! written (workers.md §6: "No secrets (API keys) are ever written").

use std::ffi::OsString;

/// Name suffixes (case-insensitive) of environment variables whose values
/// are treated as secrets.
const SECRET_SUFFIXES: &[&str] = &[
    "_API_KEY",
    "_TOKEN",
    "_SECRET",
    "_SECRET_KEY",
    "_ACCESS_KEY",
    "_PASSWORD",
];

/// Values shorter than this are not treated as secrets (too likely to occur
/// by chance, e.g. `1` or `true`).
const MIN_SECRET_LEN: usize = 9;

/// What replaces a secret in written bytes.
pub const REDACTED: &str = "[redacted]";

/// The values of this process's environment variables whose names look
/// like API keys (`*_API_KEY`, `*_TOKEN`, `*_SECRET`, …) and which are
/// longer than 8 characters; longest first, without duplicates.
pub fn secret_values() -> Vec<String> {
    secret_values_from(std::env::vars_os())
}

/// [`secret_values`] over an explicit list of variables (for tests and
/// hosts that pass their own environment).
pub fn secret_values_from(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<String> {
    let mut out: Vec<String> = vars
        .into_iter()
        .filter_map(|(name, value)| {
            let name = name.to_string_lossy().to_ascii_uppercase();
            if !SECRET_SUFFIXES.iter().any(|s| name.ends_with(s)) {
                return None;
            }
            let value = value.into_string().ok()?;
            (value.chars().count() >= MIN_SECRET_LEN).then_some(value)
        })
        .collect();
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// Replaces every occurrence of a secret in `text` (raw, or in its JSON
/// string-escaped form) with [`REDACTED`]; returns how many secrets were
/// found.
pub(crate) fn redact(text: &mut String, secrets: &[String]) -> usize {
    let mut found = 0;
    for secret in secrets {
        let mut forms = vec![secret.clone()];
        if let Ok(quoted) = serde_json::to_string(secret) {
            let escaped = quoted[1..quoted.len() - 1].to_string();
            if escaped != *secret {
                forms.push(escaped);
            }
        }
        let mut hit = false;
        for form in &forms {
            if !form.is_empty() && text.contains(form.as_str()) {
                *text = text.replace(form.as_str(), REDACTED);
                hit = true;
            }
        }
        found += usize::from(hit);
    }
    debug_assert!(
        secrets
            .iter()
            .all(|s| s.is_empty() || s.contains(REDACTED) || !text.contains(s.as_str())),
        "a secret survived redaction"
    );
    found
}
