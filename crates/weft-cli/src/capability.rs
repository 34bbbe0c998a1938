//! The capability names accepted by `weft run --deny CAP` (embedding.md §1):
//! the facade's [`Capability`], parsed with a did-you-mean.

pub use weft::Capability;

/// Parses a `--deny` value; the error names the closest known capability
/// and lists them all.
pub fn parse_flag(text: &str) -> Result<Capability, String> {
    Capability::parse(text)
}

#[cfg(test)]
mod tests {
    use super::{parse_flag, Capability};

    #[test]
    fn every_name_round_trips() {
        for cap in Capability::ALL {
            assert_eq!(parse_flag(cap.name()), Ok(cap));
        }
    }

    #[test]
    fn typos_get_a_suggestion() {
        let err = parse_flag("llm.cal").unwrap_err();
        assert!(err.contains("did you mean 'llm.call'?"), "{err}");
        let err = parse_flag("everything").unwrap_err();
        assert!(!err.contains("did you mean"), "{err}");
        assert!(err.contains("fs.read, fs.write"), "{err}");
    }
}
