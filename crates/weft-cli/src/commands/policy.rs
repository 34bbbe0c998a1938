//! The root capability ceiling of `weft run`: `--policy FILE.json` narrows
//! "allow everything", then every `--deny CAP` removes a capability
//! (workers.md §3).

use std::path::Path;

use weft::Policy;

use crate::capability::Capability;

/// Builds the root policy; errors are usage errors (exit 2).
pub fn root_policy(policy_file: Option<&Path>, deny: &[Capability]) -> Result<Policy, String> {
    let mut policy = match policy_file {
        None => Policy::unrestricted(),
        Some(path) => Policy::from_json_file(path).map_err(|e| e.message().to_string())?,
    };
    for cap in deny {
        policy = policy.deny(*cap);
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_removes_capabilities() {
        let p = root_policy(None, &[Capability::FsWrite, Capability::Network]).unwrap();
        assert!(p.allows(Capability::FsRead));
        assert!(!p.allows(Capability::FsWrite));
        assert!(!p.allows(Capability::Network));
    }

    #[test]
    fn policy_file_is_parsed_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.json");
        std::fs::write(
            &f,
            r#"{"tools": ["read"], "side_effect_level": "read_only"}"#,
        )
        .unwrap();
        let p = root_policy(Some(&f), &[]).unwrap();
        assert!(p.allows_tool("read") && !p.allows_tool("write"));
        std::fs::write(&f, r#"{"tols": []}"#).unwrap();
        assert!(root_policy(Some(&f), &[])
            .unwrap_err()
            .contains("did you mean 'tools'"));
        std::fs::write(&f, "{not json").unwrap();
        assert!(root_policy(Some(&f), &[])
            .unwrap_err()
            .contains("not valid JSON"));
    }
}
