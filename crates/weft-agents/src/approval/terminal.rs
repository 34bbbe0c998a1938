//! The interactive answer source: a prompt on stderr, one line read from
//! stdin, when both are terminals.

use std::io::{BufRead, IsTerminal, Write};

use super::{ApprovalAnswer, PendingApproval};

/// Whether stdin and stderr are terminals.
pub fn available() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks on the terminal until the answer is valid; `None` at end of input.
pub async fn prompt(p: PendingApproval) -> Option<ApprovalAnswer> {
    tokio::task::spawn_blocking(move || ask_blocking(&p))
        .await
        .ok()
        .flatten()
}

fn ask_blocking(p: &PendingApproval) -> Option<ApprovalAnswer> {
    let req = &p.request;
    let mut err = std::io::stderr();
    let options = if req.choices.is_empty() {
        "y(es) / n(o)".to_string()
    } else {
        format!("{} / n(o) to reject", req.choices.join(" / "))
    };
    let _ = writeln!(err, "approval {}: {}", p.id, req.question);
    if !req.data.is_null() {
        let _ = writeln!(err, "  data: {}", req.data);
    }
    loop {
        let _ = write!(
            err,
            "  answer [{options}], optionally followed by ': comment': "
        );
        let _ = err.flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(a) = parse_line(&line, &req.choices) {
            return Some(a);
        }
        let _ = writeln!(err, "  not an answer; expected {options}");
    }
}

/// `y`, `yes`, `n`, `no` or a choice, then optionally `: comment`.
pub(crate) fn parse_line(line: &str, choices: &[String]) -> Option<ApprovalAnswer> {
    let (word, comment) = match line.split_once(':') {
        Some((w, c)) => (
            w.trim(),
            Some(c.trim().to_string()).filter(|c| !c.is_empty()),
        ),
        None => (line.trim(), None),
    };
    let lower = word.to_lowercase();
    let (approved, choice) = if lower == "n" || lower == "no" {
        (false, None)
    } else if choices.is_empty() && (lower == "y" || lower == "yes") {
        (true, None)
    } else if let Some(c) = choices.iter().find(|c| c.as_str() == word) {
        (true, Some(c.clone()))
    } else {
        return None;
    };
    Some(ApprovalAnswer {
        approved,
        choice,
        comment,
        by: "terminal".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_into_answers() {
        let none: Vec<String> = vec![];
        assert!(parse_line("y\n", &none).unwrap().approved);
        let a = parse_line("no: too risky\n", &none).unwrap();
        assert!(!a.approved);
        assert_eq!(a.comment.as_deref(), Some("too risky"));
        assert!(parse_line("maybe", &none).is_none());
        let choices = vec!["main".to_string(), "dev".to_string()];
        assert_eq!(
            parse_line("dev", &choices).unwrap().choice.as_deref(),
            Some("dev")
        );
        assert!(parse_line("y", &choices).is_none());
    }
}
