//! Tab completion for the REPL: a rustyline [`Helper`] completing keywords,
//! builtins and the session's names by prefix, `:` commands at the start of
//! a line, and file names after `:load `.

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};

use super::commands::COMMANDS;

/// The REPL's rustyline helper. Only completion is customised; input is
/// validated by the parser in the REPL loop, not by the editor.
pub struct WeftHelper {
    /// Keywords, builtins and session names: sorted, without duplicates.
    words: Vec<String>,
    files: FilenameCompleter,
}

impl WeftHelper {
    pub fn new() -> WeftHelper {
        WeftHelper {
            words: Vec::new(),
            files: FilenameCompleter::new(),
        }
    }

    /// Replaces the completable names (after each input and on `:reset`).
    pub fn set_names<'a>(
        &mut self,
        builtins: impl IntoIterator<Item = &'a str>,
        session: impl IntoIterator<Item = String>,
    ) {
        let mut words: Vec<String> = weft::tooling::KEYWORDS
            .iter()
            .copied()
            .chain(builtins)
            .map(str::to_string)
            .chain(session)
            .collect();
        words.sort();
        words.dedup();
        self.words = words;
    }

    /// The completions of the text before the cursor: where the completed
    /// word starts, and the candidates.
    pub fn complete_before(&self, before: &str) -> (usize, Vec<String>) {
        let start = before
            .char_indices()
            .rev()
            .take_while(|&(_, c)| c.is_alphanumeric() || c == '_')
            .last()
            .map_or(before.len(), |(i, _)| i);
        let word = &before[start..];
        if start == 1 && before.starts_with(':') {
            let commands = COMMANDS
                .iter()
                .filter(|c| c[1..].starts_with(word))
                .map(|c| c[1..].to_string())
                .collect();
            return (start, commands);
        }
        let after_dot = before[..start].ends_with('.');
        if word.is_empty() || after_dot || word.starts_with(|c: char| c.is_ascii_digit()) {
            return (start, Vec::new());
        }
        let first = self.words.partition_point(|w| w.as_str() < word);
        let matches = self.words[first..]
            .iter()
            .take_while(|w| w.starts_with(word))
            .cloned()
            .collect();
        (start, matches)
    }
}

impl Completer for WeftHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line[..pos].starts_with(":load ") {
            return self.files.complete(line, pos, ctx);
        }
        let (start, words) = self.complete_before(&line[..pos]);
        let pairs = words
            .into_iter()
            .map(|w| Pair {
                display: w.clone(),
                replacement: w,
            })
            .collect();
        Ok((start, pairs))
    }
}

impl Hinter for WeftHelper {
    type Hint = String;
}

impl Highlighter for WeftHelper {}

impl Validator for WeftHelper {}

impl Helper for WeftHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    fn helper() -> WeftHelper {
        let mut h = WeftHelper::new();
        h.set_names(["print", "println", "len"], ["price".to_string()]);
        h
    }

    #[test]
    fn completes_keywords_builtins_and_session_names() {
        let h = helper();
        assert_eq!(
            h.complete_before("let y = pri"),
            (8, vec!["price".into(), "print".into(), "println".into()])
        );
        assert_eq!(h.complete_before("wh"), (0, vec!["while".into()]));
        assert_eq!(
            h.complete_before("f(le"),
            (2, vec!["len".into(), "let".into()])
        );
    }

    #[test]
    fn no_candidates_after_a_dot_a_digit_or_nothing() {
        let h = helper();
        assert!(h.complete_before("x.pri").1.is_empty());
        assert!(h.complete_before("1").1.is_empty());
        assert!(h.complete_before("f(").1.is_empty());
    }

    #[test]
    fn completes_commands_at_line_start() {
        let h = helper();
        assert_eq!(h.complete_before(":q"), (1, vec!["quit".into()]));
        assert_eq!(h.complete_before(":d"), (1, vec!["disasm".into()]));
    }
}
