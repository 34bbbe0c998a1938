//! The text `weft test` prints: a block per failure, then the summary
//! `N passed, N failed` alone on the last line.

use super::judge::Verdict;

/// One failure block: `FAIL path: headline`, then the details.
pub fn failure_block(path: &str, headline: &str, details: &str) -> String {
    let mut block = format!("FAIL {path}: {headline}\n");
    block.push_str(details);
    if !block.ends_with('\n') {
        block.push('\n');
    }
    block
}

/// The whole report for tests (`paths`, in order) and their verdicts.
pub fn render(paths: &[String], verdicts: &[Verdict]) -> String {
    let mut blocks = Vec::new();
    for (path, verdict) in paths.iter().zip(verdicts) {
        if let Verdict::Fail { headline, details } = verdict {
            blocks.push(failure_block(path, headline, details));
        }
    }
    let failed = blocks.len();
    let passed = verdicts.len() - failed;
    let mut out = blocks.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&summary(passed, failed));
    out
}

/// The closing line.
pub fn summary(passed: usize, failed: usize) -> String {
    format!("{passed} passed, {failed} failed\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_then_summary() {
        let paths = ["a.wf".to_string(), "b.wf".to_string(), "c.wf".to_string()];
        let verdicts = [
            Verdict::Fail {
                headline: "timed out after 30s".into(),
                details: String::new(),
            },
            Verdict::Pass,
            Verdict::Fail {
                headline: "stdout differs from c.expected".into(),
                details: "--- c.expected\n+++ actual stdout\n".into(),
            },
        ];
        assert_eq!(
            render(&paths, &verdicts),
            "FAIL a.wf: timed out after 30s\n\nFAIL c.wf: stdout differs from c.expected\n--- c.expected\n+++ actual stdout\n\n1 passed, 2 failed\n"
        );
        assert_eq!(
            render(&paths[..1], &[Verdict::Pass]),
            "1 passed, 0 failed\n"
        );
    }
}
