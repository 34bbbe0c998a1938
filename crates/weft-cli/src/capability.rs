//! The capability names accepted by `weft run --deny CAP` (embedding.md §1).

use std::fmt;

/// One capability a run can be denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    FsRead,
    FsWrite,
    ProcessExec,
    Network,
    LlmCall,
    WorkersSpawn,
}

impl Capability {
    pub const ALL: [Capability; 6] = [
        Capability::FsRead,
        Capability::FsWrite,
        Capability::ProcessExec,
        Capability::Network,
        Capability::LlmCall,
        Capability::WorkersSpawn,
    ];

    /// The name as written on the command line and in policies.
    pub fn name(self) -> &'static str {
        match self {
            Capability::FsRead => "fs.read",
            Capability::FsWrite => "fs.write",
            Capability::ProcessExec => "process.exec",
            Capability::Network => "network",
            Capability::LlmCall => "llm.call",
            Capability::WorkersSpawn => "workers.spawn",
        }
    }

    /// Parses a `--deny` value; the error names the closest known
    /// capability and lists them all.
    pub fn parse_flag(text: &str) -> Result<Capability, String> {
        if let Some(cap) = Capability::ALL.into_iter().find(|c| c.name() == text) {
            return Ok(cap);
        }
        let names = Capability::ALL.map(Capability::name);
        let hint = weft_syntax::suggest::did_you_mean(text, names)
            .map(|n| format!(" (did you mean '{n}'?)"))
            .unwrap_or_default();
        Err(format!(
            "unknown capability '{text}'{hint}; known capabilities: {}",
            names.join(", ")
        ))
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Capability;

    #[test]
    fn every_name_round_trips() {
        for cap in Capability::ALL {
            assert_eq!(Capability::parse_flag(cap.name()), Ok(cap));
        }
    }

    #[test]
    fn typos_get_a_suggestion() {
        let err = Capability::parse_flag("llm.cal").unwrap_err();
        assert!(err.contains("did you mean 'llm.call'?"), "{err}");
        let err = Capability::parse_flag("everything").unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
        assert!(err.contains("fs.read, fs.write"), "{err}");
    }
}
