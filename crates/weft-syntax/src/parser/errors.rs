//! Parse errors in words.
//!
//! lalrpop reports the unexpected token and the set of terminal names it
//! would have accepted. Users never see either raw: the found token is
//! described ("`)`", "a newline", "end of file"), the expected set is
//! summarised ("an expression", "the end of the statement", "`,` or `)`"),
//! and when the closer of the innermost open bracket is among the expected
//! tokens the message says which bracket it would close and where it was
//! opened ("expected `,` or `)` to close the call opened at 3:10").

use std::collections::BTreeSet;

use lalrpop_util::ParseError;

use crate::diagnostic::Diagnostic;
use crate::lexer::{BracketInfo, Kind, Mode, Tok};
use crate::span::Span;

/// What the converter needs to know about the parse that failed.
pub(crate) struct ErrorContext<'s> {
    pub src: &'s str,
    pub mode: Mode,
    /// End of the parsed range (end of file, or the `}` of a `${...}`).
    pub end: usize,
    /// The last token cannot end a statement (more input could follow).
    pub ends_open: bool,
    pub last_end: usize,
    pub brackets: &'s [BracketInfo],
}

impl ErrorContext<'_> {
    /// The innermost bracket open at byte `offset`.
    fn open_at(&self, offset: usize) -> Option<&BracketInfo> {
        self.brackets
            .iter()
            .filter(|b| (b.open.start as usize) < offset && b.close.is_none_or(|c| c >= offset))
            .max_by_key(|b| b.open.start)
    }
}

pub(crate) fn convert(e: ParseError<usize, Tok<'_>, Diagnostic>, cx: &ErrorContext) -> Diagnostic {
    match e {
        ParseError::User { error } => error,
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => unexpected(
            cx,
            &expected,
            Found::Token(&tok, &cx.src[l..r]),
            Span::new(l, r),
        ),
        ParseError::UnrecognizedEof { expected, .. } => {
            let span = match cx.mode {
                Mode::Module => Span::new(cx.last_end, cx.last_end),
                Mode::Expr => Span::new(cx.end, cx.end + 1),
            };
            let d = unexpected(cx, &expected, Found::End, span);
            if cx.mode == Mode::Module && cx.ends_open {
                d.incomplete()
            } else {
                d
            }
        }
        ParseError::ExtraToken { token: (l, tok, r) } => Diagnostic::new(
            "syntax_error",
            format!(
                "unexpected {}",
                describe_found(cx, Found::Token(&tok, &cx.src[l..r]))
            ),
            Span::new(l, r),
        ),
        ParseError::InvalidToken { location } => Diagnostic::new(
            "syntax_error",
            "unexpected character",
            Span::new(location, location + 1),
        ),
    }
}

#[derive(Clone, Copy)]
enum Found<'t, 'a> {
    Token(&'t Tok<'a>, &'t str),
    End,
}

fn describe_found(cx: &ErrorContext, found: Found) -> String {
    match found {
        Found::End => match cx.mode {
            Mode::Module => "end of file".to_string(),
            Mode::Expr => "the end of the `${...}`".to_string(),
        },
        Found::Token(Tok::Newline, _) => "a newline".to_string(),
        Found::Token(Tok::Str(_) | Tok::Template(_), _) => "a string".to_string(),
        Found::Token(_, text) => {
            let text: String = text.chars().take(30).collect();
            format!("`{text}`")
        }
    }
}

const EXPR_START: &[&str] = &[
    "Ident", "Int", "Float", "Str", "Template", "_", "(", "[", "{", "-", "!", "...", "fn", "if",
    "match", "while", "for", "try", "spawn", "true", "false", "nil", "return", "throw", "break",
    "continue",
];
const STMT_START: &[&str] = &["let", "var", "pub", "import"];
const PATTERN_START: &[&str] = &[
    "Ident", "Int", "Float", "Str", "_", "[", "{", "-", "true", "false", "nil",
];
const KEY_START: &[&str] = &["Ident", "Str", "_", "[", "..."];
/// Tokens that would continue a complete expression; listed only when
/// nothing else was possible.
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "**", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "??", "|>", "..",
    "..=", "in", "not", "(", "[", ".", "?.", "?[", "=", "+=", "-=", "*=", "/=", "%=", "|",
];

fn is_keyword(name: &str) -> bool {
    crate::lexer::KEYWORDS.contains(&name)
}

fn describe_expected(name: &str) -> String {
    match name {
        "Ident" => "an identifier".to_string(),
        "Int" | "Float" => "a number".to_string(),
        "Str" | "Template" => "a string".to_string(),
        "NL" => "a newline".to_string(),
        other => format!("`{other}`"),
    }
}

fn unexpected(cx: &ErrorContext, expected: &[String], found: Found, span: Span) -> Diagnostic {
    let mut set: BTreeSet<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    if set.contains("Ident") {
        // `as` is accepted wherever a name is: "an identifier" covers it.
        set.remove("as");
    }
    let set = set;
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let mut items: Vec<String> = Vec::new();
    let has = |n: &str| set.contains(n);

    if has("Ident") && has("Int") && has("(") {
        if has("let") {
            items.push("a statement".into());
            covered.extend(STMT_START);
        } else {
            items.push("an expression".into());
        }
        covered.extend(EXPR_START);
    } else if has("Ident") && has("finally") {
        // Keywords are accepted as names here: a dict key or member name.
        if has("Str") {
            items.push("a dict entry (`key: value`)".into());
            covered.extend(KEY_START);
        } else {
            items.push("a name".into());
            covered.insert("Ident");
        }
        covered.extend(set.iter().copied().filter(|n| is_keyword(n)));
    } else if has("Ident") && has("Int") && has("[") {
        items.push("a pattern".into());
        covered.extend(PATTERN_START);
    } else if has("Ident") && has("[") && has("{") {
        items.push("a name or a destructuring pattern".into());
        covered.extend(PATTERN_START);
    }

    if has("NL") && has(";") {
        // At the start of a statement the separators are just noise.
        if !items.iter().any(|i| i == "a statement") {
            items.push("the end of the statement".into());
            covered.insert("}");
        }
        covered.extend(["NL", ";"]);
    }

    let rest: Vec<&str> = set
        .iter()
        .copied()
        .filter(|n| !covered.contains(n))
        .collect();
    let non_ops: Vec<&str> = rest
        .iter()
        .copied()
        .filter(|n| !OPERATORS.contains(n))
        .collect();
    let (listed, ops_only) = if non_ops.is_empty() && items.is_empty() {
        (rest, true)
    } else {
        (non_ops, false)
    };

    let open = match found {
        Found::Token(..) => cx.open_at(span.start as usize),
        Found::End => cx.open_at(usize::MAX),
    };
    // `->` after a dict entry is only possible in theory (a closure whose
    // parameter list turns out to be invalid): don't suggest it.
    let mut listed = listed;
    if open.is_some_and(|b| b.kind == Kind::Dict) && !set.contains(":") {
        listed.retain(|n| *n != "->");
    }
    let closes = open.filter(|b| listed.contains(&b.closer));
    // Closers last, so "to close the ..." follows its closer.
    let mut ordered: Vec<&str> = listed
        .iter()
        .copied()
        .filter(|n| !matches!(*n, ")" | "]" | "}"))
        .collect();
    ordered.extend(
        listed
            .iter()
            .copied()
            .filter(|n| matches!(*n, ")" | "]" | "}")),
    );
    if ops_only && ordered.len() > 4 {
        items.push("an operator".into());
        if cx.mode == Mode::Expr {
            items.push("`}`".into());
        }
    } else {
        items.extend(ordered.iter().map(|n| describe_expected(n)));
    }

    let mut message = String::from("expected ");
    if items.is_empty() {
        message.push_str("something else");
    } else {
        message.push_str(&join_or(&items));
    }
    if let Some(b) = closes {
        message.push_str(" to close ");
        message.push_str(&b.describe(cx.src));
    }
    message.push_str(", found ");
    message.push_str(&describe_found(cx, found));

    let d = Diagnostic::new("syntax_error", message, span);
    match found {
        Found::Token(tok, _) => match hint(tok, &set, &items, open) {
            Some(h) => d.with_note(h),
            None => d,
        },
        Found::End => d,
    }
}

/// A `help:` line for common mistakes.
fn hint(
    tok: &Tok,
    set: &BTreeSet<&str>,
    items: &[String],
    open: Option<&BracketInfo>,
) -> Option<&'static str> {
    let has = |n: &str| set.contains(n);
    let ends_stmt = items.iter().any(|i| i == "the end of the statement");
    Some(match tok {
        Tok::Assign if has("->") && open.is_some_and(|b| b.kind == Kind::Closure) => {
            "help: parameters of a `{ a, b -> ... }` closure cannot have defaults; write `fn(a, b = 10) { ... }`"
        }
        Tok::Assign if has("->") => "help: match arms are written `pattern -> value`",
        Tok::Assign if has("==") || (has("{") && set.len() <= 2) => "help: use `==` to compare values",
        Tok::Newline if has("{") => "help: the `{` must be on the same line as what it belongs to",
        Tok::Newline if open.is_some_and(|b| b.closer == "}") && (has(",") || has("}")) => {
            "help: separate entries with `,`"
        }
        Tok::Colon if open.is_some_and(|b| b.kind == Kind::Block) => {
            "help: this `{` starts a block; to write a dict here, wrap it in parentheses: `({key: value})`"
        }
        Tok::Else => "help: `else` must come right after the `}` of an `if` block",
        Tok::Catch | Tok::Finally => "help: `catch` and `finally` must come right after the `}` of a `try` block",
        Tok::Not => "help: use `!` for logical not (`not` is only used in `not in`)",
        t if ends_stmt && !OPERATORS.iter().any(|o| token_text(t) == Some(o)) => {
            "help: separate statements with a newline or `;`"
        }
        _ => return None,
    })
}

/// The source spelling of a punctuation or keyword token.
fn token_text(tok: &Tok) -> Option<&'static str> {
    use Tok::*;
    Some(match tok {
        Plus => "+",
        Minus => "-",
        Star => "*",
        Slash => "/",
        Percent => "%",
        StarStar => "**",
        EqEq => "==",
        NotEq => "!=",
        Lt => "<",
        Le => "<=",
        Gt => ">",
        Ge => ">=",
        AndAnd => "&&",
        OrOr => "||",
        QQ => "??",
        PipeGt => "|>",
        DotDot => "..",
        DotDotEq => "..=",
        In => "in",
        Not => "not",
        LParen => "(",
        LBracket => "[",
        Dot => ".",
        QDot => "?.",
        QBracket => "?[",
        Assign => "=",
        PlusEq => "+=",
        MinusEq => "-=",
        StarEq => "*=",
        SlashEq => "/=",
        PercentEq => "%=",
        Bar => "|",
        _ => return None,
    })
}

/// "a", "a or b", "a, b or c"
fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
