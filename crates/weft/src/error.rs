//! [`Error`] and [`Result`]: what every fallible call of the facade returns.
//! An error has a category (language.md §7: `type_error`, `syntax_error`,
//! `limit_exceeded`, ...), a message, an optional source location, and
//! renders as the same diagnostic the `weft` command prints.

use std::fmt;

use weft_syntax::{Diagnostic, Span};

/// The result type of the facade: `Result<T, weft::Error>`.
///
/// Native functions registered with [`Engine::register_fn`](crate::Engine::register_fn)
/// return it too; an `Err` becomes a catchable runtime error in the script.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error: a compile error, an uncaught runtime error, a refused engine
/// setting, or an error raised by a native function.
///
/// ```
/// let mut engine = weft::Engine::builder().build()?;
/// let err = weft::block_on(engine.eval("1 + \"a\"")).unwrap_err();
/// assert_eq!(err.category(), "type_error");
/// assert_eq!(err.span().map(|s| (s.line, s.column)), Some((1, 1)));
/// assert!(err.to_string().starts_with("error[type_error]: "));
/// # Ok::<(), weft::Error>(())
/// ```
#[derive(Clone)]
pub struct Error {
    /// The first is the error itself; compiling a file can report several.
    diagnostics: Vec<Diagnostic>,
}

/// Where an error happened: file name as given, 1-based line and column
/// (in Unicode scalar values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpan {
    /// The file's name as it was given (`flows/triage.wf`; `<eval:1>` for the first `eval`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Error {
    /// A new error with a category and a message, e.g. for a native
    /// function to fail with:
    ///
    /// ```
    /// let e = weft::Error::new("not_found", "no user 42");
    /// assert_eq!((e.category(), e.message()), ("not_found", "no user 42"));
    /// assert_eq!(e.to_string(), "error[not_found]: no user 42");
    /// ```
    pub fn new(category: impl Into<String>, message: impl Into<String>) -> Error {
        Error {
            diagnostics: vec![Diagnostic::new(category, message, Span::default())],
        }
    }

    /// A `value_error` (a wrong setting or argument value).
    pub(crate) fn value(message: impl Into<String>) -> Error {
        Error::new("value_error", message)
    }

    /// From the compiler's or VM's diagnostics (at least one expected).
    pub(crate) fn from_diagnostics(mut diagnostics: Vec<Diagnostic>) -> Error {
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic::new(
                "runtime",
                "unknown error (no diagnostic)",
                Span::default(),
            ));
        }
        Error { diagnostics }
    }

    /// From a VM runtime error.
    pub(crate) fn from_rt(e: &weft_vm::RtError) -> Error {
        Error::from_diagnostics(vec![e.to_diagnostic()])
    }

    /// Into a VM runtime error (what a native function's `Err` becomes).
    pub(crate) fn into_rt(self) -> Box<weft_vm::RtError> {
        weft_vm::RtError::new(self.category(), self.message())
    }

    /// The category (`type_error`, `syntax_error`, `undefined`,
    /// `limit_exceeded`, `thrown` for a thrown non-error value, ...).
    pub fn category(&self) -> &str {
        &self.diagnostics[0].category
    }

    /// The message, without category or location.
    pub fn message(&self) -> &str {
        &self.diagnostics[0].message
    }

    /// Where the error happened, when it is tied to source code.
    pub fn span(&self) -> Option<SourceSpan> {
        let d = &self.diagnostics[0];
        let file = d.file.as_ref()?;
        let (line, column) = d.line_col()?;
        Some(SourceSpan {
            file: file.name.clone(),
            line,
            column,
        })
    }

    /// How many diagnostics this error carries (compiling a file can
    /// report several; [`Display`](fmt::Display) renders them all).
    pub fn count(&self) -> usize {
        self.diagnostics.len()
    }
}

impl fmt::Display for Error {
    /// The diagnostic(s) exactly as `weft run` prints them: `error[category]:
    /// message`, then a source excerpt with carets when the error has a
    /// location; several diagnostics are separated by a blank line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n\n")?;
            }
            f.write_str(&d.render())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("category", &self.category())
            .field("message", &self.message())
            .field("span", &self.span())
            .finish()
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_and_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }

    #[test]
    fn several_diagnostics_render_apart() {
        let e = Error::from_diagnostics(vec![
            Diagnostic::new("a", "one", Span::default()),
            Diagnostic::new("b", "two", Span::default()),
        ]);
        assert_eq!(e.to_string(), "error[a]: one\n\nerror[b]: two");
        assert_eq!(e.count(), 2);
        assert_eq!(e.category(), "a");
    }
}
