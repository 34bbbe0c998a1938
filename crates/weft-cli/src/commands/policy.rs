//! The root capability ceiling of `weft run`: `--policy FILE.json` narrows
//! "allow everything", then every `--deny CAP` removes a capability
//! (workers.md §3).

use std::path::Path;

use weft_vm::policy::{parse_policy_request, CapabilityPolicy};

use crate::capability::Capability;

/// Builds the root policy; errors are usage errors (exit 2).
pub fn root_policy(
    policy_file: Option<&Path>,
    deny: &[Capability],
) -> Result<CapabilityPolicy, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let mut policy = match policy_file {
        None => CapabilityPolicy::allow_all(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read policy file {}: {e}", path.display()))?;
            let value = weft_vm::value::parse_json(&text)
                .map_err(|e| format!("policy file {} is not valid JSON: {e}", path.display()))?;
            let request = parse_policy_request(&value, &format!("--policy {}", path.display()))?;
            CapabilityPolicy::root_from(&request, &cwd)
                .map_err(|e| format!("policy file {}: {e}", path.display()))?
        }
    };
    for cap in deny {
        policy.deny(cap.name())?;
    }
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_removes_capabilities() {
        let p = root_policy(None, &[Capability::FsWrite, Capability::Network]).unwrap();
        assert!(p.allows_op("fs", "read"));
        assert!(!p.allows_op("fs", "write"));
        assert!(!p.allows_op("network", "http"));
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
