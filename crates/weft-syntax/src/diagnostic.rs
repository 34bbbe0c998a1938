//! Errors with a category, a message and a span, rendered with a source
//! excerpt and carets (language.md §7):
//!
//! ```text
//! error[type_error]: cannot add string and int
//!   --> script.wf:3:9
//!    |
//!  3 | let y = "a" + 1
//!    |         ^^^^^^^
//! ```

use std::fmt;
use std::sync::Arc;

use crate::span::{LineIndex, Span};

/// One source file: its display name (the path as given) and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    pub lines: LineIndex,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<SourceFile> {
        let text = text.into();
        let lines = LineIndex::new(&text);
        Arc::new(SourceFile {
            name: name.into(),
            text,
            lines,
        })
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        self.lines.line_col(&self.text, offset)
    }
}

/// An error (or a note-carrying message) tied to a span of a source file.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// `syntax_error`, `undefined`, `compile_error`, `import_error`, or a
    /// runtime category such as `type_error` (language.md §7).
    pub category: String,
    pub message: String,
    pub file: Option<Arc<SourceFile>>,
    pub span: Span,
    /// Extra lines printed after the excerpt as `= note` / `= help` lines.
    /// Each entry is the full text after `= `, e.g. `help: did you mean 'foo'?`.
    pub notes: Vec<String>,
    /// True when a parse failed only because the input ended inside an open
    /// construct (the REPL keeps reading more lines in that case).
    pub incomplete: bool,
}

impl Diagnostic {
    pub fn new(category: impl Into<String>, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            category: category.into(),
            message: message.into(),
            file: None,
            span,
            notes: Vec::new(),
            incomplete: false,
        }
    }

    pub fn with_file(mut self, file: &Arc<SourceFile>) -> Diagnostic {
        self.file = Some(file.clone());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn incomplete(mut self) -> Diagnostic {
        self.incomplete = true;
        self
    }

    /// 1-based (line, column) of the span start, when the file is known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        self.file.as_ref().map(|f| f.line_col(self.span.start))
    }

    /// The full multi-line rendering (no trailing newline).
    pub fn render(&self) -> String {
        let mut out = format!("error[{}]: {}", self.category, self.message);
        if let Some(file) = &self.file {
            render_excerpt(&mut out, file, self.span);
        }
        let width = self.gutter_width();
        for note in &self.notes {
            out.push('\n');
            out.push_str(&" ".repeat(width + 2));
            out.push_str("= ");
            out.push_str(note);
        }
        out
    }

    fn gutter_width(&self) -> usize {
        match &self.file {
            Some(f) => f.line_col(self.span.start).0.to_string().len(),
            None => 1,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostic {}

/// Longest excerpt line shown in full; a longer line (minified JSON, a
/// generated file) is shown as a window around the error.
const MAX_EXCERPT_CHARS: usize = 160;
/// How much of the line before the error such a window shows.
const WINDOW_LEAD_CHARS: usize = 60;

fn render_excerpt(out: &mut String, file: &SourceFile, span: Span) {
    let text = &file.text;
    let start = span.start.min(text.len() as u32);
    let (line, col) = file.line_col(start);
    let width = line.to_string().len();
    let pad = " ".repeat(width + 1);
    out.push_str(&format!("\n{pad}--> {}:{}:{}", file.name, line, col));
    out.push_str(&format!("\n{pad} |"));
    let line_text = file.lines.line_text(text, line - 1);
    // Carets from the start column to the span end (clipped to this line).
    let line_start = file.lines.line_start(line - 1) as usize;
    // A span starting at a line's terminator (the `\r` of a CRLF file)
    // starts past the line's text: keep the bounds ordered.
    let line_end = (line_start + line_text.len()).max(start as usize);
    let end = (span.end as usize).clamp(start as usize, line_end);
    let mut s = start as usize;
    while !text.is_char_boundary(s) {
        s -= 1;
    }
    let mut e = end;
    while !text.is_char_boundary(e) {
        e -= 1;
    }
    let mut carets = text[s..e].chars().count().max(1);
    let chars: Vec<char> = line_text.chars().collect();
    // The shown part of the line: all of it, or a window around the error.
    let (from, to) = if chars.len() > MAX_EXCERPT_CHARS {
        let from = (col - 1).saturating_sub(WINDOW_LEAD_CHARS);
        (from, (from + MAX_EXCERPT_CHARS).min(chars.len()))
    } else {
        (0, chars.len())
    };
    let head = if from > 0 { "..." } else { "" };
    let tail = if to < chars.len() { "..." } else { "" };
    let shown: String = chars[from..to].iter().collect();
    out.push_str(&format!("\n {line:>width$} | {head}{shown}{tail}"));
    carets = carets.min(to.saturating_sub(col - 1).max(1));
    let lead: String = head
        .chars()
        .chain(chars[from..(col - 1).min(to)].iter().copied())
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    out.push_str(&format!("\n{pad} | {lead}{}", "^".repeat(carets)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_the_spec() {
        let file = SourceFile::new("script.wf", "let x = 1\n\nlet y = \"a\" + 1\n");
        let d = Diagnostic::new("type_error", "cannot add string and int", Span::new(19, 26))
            .with_file(&file);
        assert_eq!(
            d.render(),
            "error[type_error]: cannot add string and int\n  --> script.wf:3:9\n   |\n 3 | let y = \"a\" + 1\n   |         ^^^^^^^"
        );
    }

    #[test]
    fn long_lines_are_shown_as_a_window_around_the_error() {
        let src = format!("let x = {}oops{}\n", "[".repeat(1000), "]".repeat(1000));
        let file = SourceFile::new("long.wf", &src);
        let at = 8 + 1000;
        let d = Diagnostic::new("syntax_error", "bad", Span::new(at, at + 4)).with_file(&file);
        let r = d.render();
        let lines: Vec<&str> = r.lines().collect();
        assert_eq!(lines[1], "  --> long.wf:1:1009");
        assert!(lines[3].starts_with(" 1 | ...[[[["), "{}", lines[3]);
        assert!(lines[3].ends_with("]]]..."), "{}", lines[3]);
        assert!(lines[3].chars().count() < 200);
        // The carets sit under `oops`.
        let caret_at = lines[4].find('^').unwrap();
        assert_eq!(&lines[3][caret_at..caret_at + 4], "oops");
        assert_eq!(lines[4].matches('^').count(), 4);
    }

    #[test]
    fn an_error_at_a_crlf_line_end_renders() {
        // `let\r\nx`: the error sits on the `\r`, past the line's text.
        let file = SourceFile::new("crlf.wf", "let\r\nx");
        let d =
            Diagnostic::new("syntax_error", "expected a name", Span::new(3, 5)).with_file(&file);
        let r = d.render();
        assert!(r.contains("--> crlf.wf:1:4"), "{r}");
        assert!(r.ends_with(" 1 | let\n   |    ^"), "{r}");
    }

    #[test]
    fn notes_follow_the_excerpt() {
        let file = SourceFile::new("a.wf", "prnt(1)");
        let d = Diagnostic::new("undefined", "undefined variable 'prnt'", Span::new(0, 4))
            .with_file(&file)
            .with_note("help: did you mean 'print'?");
        assert!(d
            .render()
            .ends_with("   |\n 1 | prnt(1)\n   | ^^^^\n   = help: did you mean 'print'?"));
    }
}
