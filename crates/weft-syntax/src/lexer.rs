//! Tokens and lexing (language.md §1).
//!
//! This file owns the token type [`Tok`] (a `logos` lexer), number literals,
//! comments and the raw lexing driver. String literals are scanned by
//! `lexer/strings.rs`; the newline/continuation rules, bracket matching and
//! the nesting limits are applied afterwards by `lexer/layout.rs`.
//!
//! The public entry for tools (REPL completion, highlighting) is [`tokenize`],
//! which returns the tokens exactly as the parser sees them.

mod layout;
mod strings;
#[cfg(test)]
mod tests;

use logos::{Lexer, Logos, Skip};

use crate::diagnostic::Diagnostic;
use crate::span::Span;

pub use layout::Budget;
pub(crate) use layout::{layout, BracketInfo, Kind, Mode};

/// Every reserved word of the language (`as` is contextual and not listed).
pub const KEYWORDS: &[&str] = &[
    "let", "var", "fn", "return", "if", "else", "while", "for", "in", "not", "break", "continue",
    "match", "try", "catch", "finally", "throw", "import", "from", "pub", "true", "false", "nil",
    "spawn",
];

/// A lexing error raised inside a `logos` callback. Spans are byte offsets
/// into the text handed to the lexer. The default value (no message) means
/// "no token matches here".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LexError {
    pub message: String,
    pub start: usize,
    pub end: usize,
    /// The input ended inside an open construct (string, comment, `${`).
    pub incomplete: bool,
}

impl LexError {
    pub(crate) fn new(message: impl Into<String>, start: usize, end: usize) -> LexError {
        LexError {
            message: message.into(),
            start,
            end,
            incomplete: false,
        }
    }

    pub(crate) fn incomplete(mut self) -> LexError {
        self.incomplete = true;
        self
    }
}

/// A string literal with `${...}` interpolation, as lexed: literal pieces
/// (escapes processed, triple-quote indentation stripped) and the source
/// ranges of the embedded expressions, which the parser parses on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateTok {
    pub parts: Vec<RawPart>,
    /// Filled in by the layout pass: how deeply the string is nested, so the
    /// sub-parses keep counting towards the same limits.
    pub budget: Budget,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RawPart {
    Lit(String),
    /// The expression source is `start..end`; `open` is the offset of `${`.
    Expr {
        start: usize,
        end: usize,
        open: usize,
    },
}

/// One token. Variants without a pattern are synthesised by the layout pass.
#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\f]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Tok<'a> {
    /// Marks a whole-module parse (first token; synthetic).
    StartModule,
    /// Marks a single-expression parse (first token; synthetic).
    StartExpr,
    #[token("\n")]
    Newline,

    #[regex("[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Ident(&'a str),
    #[token("_", priority = 3)]
    Underscore,
    #[regex("[0-9][0-9_]*", |lex| int(lex, 10, 0), priority = 5)]
    #[regex("0x[0-9a-fA-F][0-9a-fA-F_]*", |lex| int(lex, 16, 2), priority = 5)]
    #[regex("0b[01][01_]*", |lex| int(lex, 2, 2), priority = 5)]
    Int(i64),
    #[regex(
        r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9][0-9_]*)?",
        float,
        priority = 5
    )]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9][0-9_]*", float, priority = 5)]
    Float(f64),
    /// `123abc`, `0x`, `1.5x`: a number run into letters (always an error;
    /// never produced).
    #[regex(
        r"[0-9][0-9_]*(\.[0-9][0-9_]*)?[A-Za-z_][A-Za-z0-9_]*",
        bad_number,
        priority = 1
    )]
    BadNumber,
    Str(String),
    Template(Box<TemplateTok>),
    /// Opening quote: its callback produces `Str` or `Template` instead.
    #[token("\"", |lex| strings::lex_quoted(lex, false))]
    #[token("\"\"\"", |lex| strings::lex_quoted(lex, true))]
    #[token("r\"", strings::lex_raw)]
    StringStart,
    /// `/* ... */` (nested) is skipped; never produced.
    #[token("/*", block_comment)]
    BlockComment,

    #[token("let")]
    Let,
    #[token("var")]
    Var,
    #[token("fn")]
    Fn,
    #[token("return")]
    Return,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("while")]
    While,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("not")]
    Not,
    #[token("break")]
    Break,
    #[token("continue")]
    Continue,
    #[token("match")]
    Match,
    #[token("try")]
    Try,
    #[token("catch")]
    Catch,
    #[token("finally")]
    Finally,
    #[token("throw")]
    Throw,
    #[token("import")]
    Import,
    #[token("from")]
    From,
    #[token("pub")]
    Pub,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("nil")]
    Nil,
    #[token("spawn")]
    Spawn,
    /// `as` is only special in import lists; everywhere else it is a name.
    #[token("as")]
    As,

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("?.")]
    QDot,
    #[token("?[")]
    QBracket,
    #[token("?")]
    Question,
    #[token("..")]
    DotDot,
    #[token("..=")]
    DotDotEq,
    #[token("...")]
    Ellipsis,
    #[token("->")]
    Arrow,
    #[token("|")]
    Bar,
    #[token("|>")]
    PipeGt,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("**")]
    StarStar,
    #[token("=")]
    Assign,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("??")]
    QQ,
    #[token("!")]
    Bang,
    #[token("+=")]
    PlusEq,
    #[token("-=")]
    MinusEq,
    #[token("*=")]
    StarEq,
    #[token("/=")]
    SlashEq,
    #[token("%=")]
    PercentEq,
}

fn int<'a>(lex: &mut Lexer<'a, Tok<'a>>, radix: u32, prefix: usize) -> Result<i64, LexError> {
    let digits: String = lex.slice()[prefix..]
        .chars()
        .filter(|&c| c != '_')
        .collect();
    i64::from_str_radix(&digits, radix).map_err(|_| {
        let span = lex.span();
        LexError::new(
            "integer literal too large (the maximum is 9223372036854775807)",
            span.start,
            span.end,
        )
    })
}

fn float<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<f64, LexError> {
    let text: String = lex.slice().chars().filter(|&c| c != '_').collect();
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => {
            let span = lex.span();
            Err(LexError::new(
                "float literal too large",
                span.start,
                span.end,
            ))
        }
    }
}

fn bad_number<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<Skip, LexError> {
    let span = lex.span();
    Err(LexError::new(
        format!("invalid number literal `{}`", lex.slice()),
        span.start,
        span.end,
    ))
}

/// Skips a (nested) block comment.
fn block_comment<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<Skip, LexError> {
    let open = lex.span().start;
    let bytes = lex.source().as_bytes();
    let mut i = lex.span().end;
    let mut depth = 1usize;
    while i < bytes.len() {
        if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                lex.bump(i - lex.span().end);
                return Ok(Skip);
            }
        } else if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    Err(LexError::new("unterminated block comment", open, open + 2).incomplete())
}

/// The raw token stream of `src[start..end]` with absolute spans. It ends
/// after the first error.
pub(crate) struct RawTokens<'a> {
    lexer: Lexer<'a, Tok<'a>>,
    text: &'a str,
    base: usize,
    failed: bool,
}

impl<'a> RawTokens<'a> {
    pub(crate) fn new(src: &'a str, start: usize, end: usize) -> RawTokens<'a> {
        let text = &src[start..end];
        RawTokens {
            lexer: Tok::lexer(text),
            text,
            base: start,
            failed: false,
        }
    }
}

impl<'a> Iterator for RawTokens<'a> {
    type Item = Result<(usize, Tok<'a>, usize), Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.lexer.next()?;
        let span = self.lexer.span();
        let base = self.base;
        Some(match item {
            Ok(mut tok) => {
                if let Tok::Template(t) = &mut tok {
                    for part in &mut t.parts {
                        if let RawPart::Expr { start, end, open } = part {
                            *start += base;
                            *end += base;
                            *open += base;
                        }
                    }
                }
                Ok((span.start + base, tok, span.end + base))
            }
            Err(err) => {
                self.failed = true;
                Err(if err.message.is_empty() {
                    unexpected_char(self.text, span.start, base)
                } else {
                    let d = Diagnostic::new(
                        "syntax_error",
                        err.message,
                        Span::new(err.start + base, err.end + base),
                    );
                    if err.incomplete {
                        d.incomplete()
                    } else {
                        d
                    }
                })
            }
        })
    }
}

fn unexpected_char(text: &str, at: usize, base: usize) -> Diagnostic {
    let c = text[at..].chars().next().unwrap_or('?');
    let span = Span::new(base + at, base + at + c.len_utf8());
    let shown = if c.is_control() || c.is_whitespace() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("`{c}`")
    };
    let d = Diagnostic::new(
        "syntax_error",
        format!("unexpected character {shown}"),
        span,
    );
    match c {
        '\'' => d.with_note("help: strings use double quotes: \"text\""),
        '#' => d.with_note("help: comments start with `//`"),
        '&' => d.with_note("help: the logical and operator is `&&`"),
        '\\' => d.with_note("help: `\\` escapes are only allowed inside strings"),
        _ => d,
    }
}

/// A token with its byte span, as produced by [`tokenize`].
#[derive(Debug, Clone, PartialEq)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    pub span: Span,
}

/// Lexes a whole module the way the parser sees it: newlines only where
/// they end a statement, brackets checked. Interpolated strings are
/// returned as [`Tok::Template`] with the expression source ranges.
pub fn tokenize(src: &str) -> Result<Vec<Token<'_>>, Diagnostic> {
    let lexed = layout(src, 0, src.len(), Mode::Module, Budget::default());
    let mut out = Vec::with_capacity(lexed.tokens.len());
    for (s, tok, e) in lexed.tokens {
        if tok != Tok::StartModule {
            out.push(Token {
                tok,
                span: Span::new(s, e),
            });
        }
    }
    match lexed.error {
        Some(d) => Err(d),
        None => Ok(out),
    }
}
