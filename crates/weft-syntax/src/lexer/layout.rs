//! The layout pass between the raw lexer and the parser (language.md §1).
//!
//! It owns three jobs:
//! - **Newlines**: a newline token is kept only where it ends a statement:
//!   not inside `( )`/`[ ]` (inside `{ }` newlines count again), not after a
//!   token that cannot end a statement (binary operator, `,`, `=`, `->`, an
//!   opening bracket, `.`...), not before a line that starts with `.`, `?.`,
//!   `|>`, `|`, `&&`, `||`, `??`, a closing bracket, `else`, `catch` or
//!   `finally`. Runs of newlines collapse into one.
//! - **Brackets**: every closer must match the innermost opener; each
//!   opener is classified (block, dict, call, ...) so errors can say what
//!   was left open and where.
//! - **Limits**: at most [`MAX_NESTING`] open brackets, and a bound on how
//!   deep the resulting AST can get ([`MAX_WEIGHT`]), so that neither this
//!   crate nor the compiler walking the AST can overflow the stack.

use super::{RawTokens, Tok};
use crate::diagnostic::Diagnostic;
use crate::span::Span;

/// Most brackets (and `${`) that may be open at once.
pub(crate) const MAX_NESTING: u32 = 256;
/// Bound on the nesting "weight" of one statement: operators, keywords
/// and `.` count 1, each bracket level what it adds to the AST (see
/// [`Kind::cost`]). The AST depth of any parsed module stays below roughly
/// this number, so recursive walkers (including derived `Clone`, `Drop`,
/// `PartialEq`, `Debug`) need well under 1 MiB of stack even unoptimised.
pub(crate) const MAX_WEIGHT: u32 = 600;

/// Whether the tokens form a module (statements) or one interpolated
/// expression (newlines are insignificant there, as inside parentheses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Module,
    Expr,
}

/// How deeply a sub-parse (an interpolated expression) already sits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    pub depth: u32,
    pub weight: u32,
}

/// What an opening bracket opened, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Block,
    MatchBody,
    Dict,
    Closure,
    ImportList,
    Pattern,
    List,
    Index,
    Call,
    Paren,
    Params,
}

impl Kind {
    /// AST levels a bracket of this kind adds (a parenthesis adds none; a
    /// block adds the block and its statements).
    fn cost(self) -> u32 {
        match self {
            Kind::Paren => 0,
            Kind::Block | Kind::MatchBody | Kind::Closure => 2,
            _ => 1,
        }
    }

    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Block => "block",
            Kind::MatchBody => "`match` body",
            Kind::Dict => "dict",
            Kind::Closure => "closure",
            Kind::ImportList => "import list",
            Kind::Pattern => "pattern",
            Kind::List => "list",
            Kind::Index => "index",
            Kind::Call => "call",
            Kind::Paren => "parenthesis",
            Kind::Params => "parameter list",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BracketInfo {
    pub open: Span,
    pub kind: Kind,
    pub closer: &'static str,
    /// Start of the matching closer, once seen.
    pub close: Option<usize>,
}

impl BracketInfo {
    /// "the call opened at 3:10"
    pub(crate) fn describe(&self, src: &str) -> String {
        let (line, col) = line_col(src, self.open.start as usize);
        format!("the {} opened at {line}:{col}", self.kind.noun())
    }
}

/// The layout pass's result: tokens for the parser (starting with the
/// synthetic start marker), then the first error, if any, which the parser
/// reaches after the tokens before it.
pub(crate) struct Lexed<'a> {
    pub tokens: Vec<(usize, Tok<'a>, usize)>,
    pub error: Option<Diagnostic>,
    pub brackets: Vec<BracketInfo>,
}

impl Lexed<'_> {
    /// True when the last token cannot end a statement (a dangling
    /// operator, `,`, `=`...): more input could complete it.
    pub(crate) fn ends_open(&self) -> bool {
        self.tokens.last().is_some_and(|t| line_end_continues(&t.1))
    }
}

/// 1-based line and column (in chars) of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let mut end = offset;
    while !src.is_char_boundary(end) {
        end -= 1;
    }
    (line, src[line_start..end].chars().count() + 1)
}

/// A line ending with this token continues on the next line.
pub(crate) fn line_end_continues(tok: &Tok) -> bool {
    use Tok::*;
    matches!(
        tok,
        Plus | Minus
            | Star
            | Slash
            | Percent
            | StarStar
            | EqEq
            | NotEq
            | Lt
            | Le
            | Gt
            | Ge
            | AndAnd
            | OrOr
            | QQ
            | PipeGt
            | DotDot
            | DotDotEq
            | In
            | Not
            | Bar
            | Colon
            | Comma
            | Assign
            | PlusEq
            | MinusEq
            | StarEq
            | SlashEq
            | PercentEq
            | Arrow
            | LParen
            | LBracket
            | LBrace
            | QBracket
            | Dot
            | QDot
            | Ellipsis
            | Bang
    )
}

/// A line starting with this token continues the previous line.
fn next_line_continues(tok: &Tok) -> bool {
    use Tok::*;
    matches!(
        tok,
        Dot | QDot
            | PipeGt
            | Bar
            | AndAnd
            | OrOr
            | QQ
            | RParen
            | RBracket
            | RBrace
            | Else
            | Catch
            | Finally
    )
}

/// A token that can end an operand (so `(` after it is a call, etc.).
fn ends_operand(tok: Option<&Tok>) -> bool {
    use Tok::*;
    matches!(
        tok,
        Some(
            Ident(_)
                | As
                | Int(_)
                | Float(_)
                | Str(_)
                | Template(_)
                | Underscore
                | True
                | False
                | Nil
                | RParen
                | RBracket
                | RBrace
        )
    )
}

/// A token that never adds a level to the AST on its own.
fn is_leaf(tok: &Tok) -> bool {
    use Tok::*;
    matches!(
        tok,
        Ident(_)
            | As
            | Int(_)
            | Float(_)
            | Str(_)
            | Template(_)
            | Underscore
            | True
            | False
            | Nil
            | Colon
    )
}

struct Frame {
    /// Index into `brackets`; `None` for the root.
    bracket: Option<usize>,
    opener: u8,
    kind: Option<Kind>,
    newlines_count: bool,
    /// Weight of the enclosing frames when this one opened.
    base: u32,
    /// Weight of the current item (statement, element) so far.
    cnt: u32,
    /// Heaviest bracket closed inside the current item.
    child_max: u32,
    /// Heaviest finished item.
    peak: u32,
    /// A header keyword (`if`, `fn`, `match`...) waiting for its block.
    pending: Option<Kind>,
}

impl Frame {
    fn weight(&self) -> u32 {
        self.base + self.cnt + self.child_max
    }

    fn end_item(&mut self) {
        self.peak = self.peak.max(self.cnt + self.child_max);
        self.cnt = 0;
        self.child_max = 0;
        self.pending = None;
    }
}

struct State<'s, 'a> {
    src: &'s str,
    budget: Budget,
    frames: Vec<Frame>,
    brackets: Vec<BracketInfo>,
    out: Vec<(usize, Tok<'a>, usize)>,
}

/// Lexes `src[start..end]` and applies the layout rules.
pub(crate) fn layout(src: &str, start: usize, end: usize, mode: Mode, budget: Budget) -> Lexed<'_> {
    let marker = match mode {
        Mode::Module => Tok::StartModule,
        Mode::Expr => Tok::StartExpr,
    };
    let mut out = Vec::with_capacity((end - start) / 2 + 1);
    out.push((start, marker, start));
    let mut st = State {
        src,
        budget,
        frames: vec![Frame {
            bracket: None,
            opener: 0,
            kind: None,
            newlines_count: mode == Mode::Module,
            base: budget.weight,
            cnt: 0,
            child_max: 0,
            peak: 0,
            pending: None,
        }],
        brackets: Vec::new(),
        out,
    };
    let mut error = None;
    let mut iter = RawTokens::new(src, start, end).peekable();
    while let Some(item) = iter.next() {
        let (s, tok, e) = match item {
            Ok(t) => t,
            Err(d) => {
                error = Some(d);
                break;
            }
        };
        let result = if matches!(tok, Tok::Newline) {
            while matches!(iter.peek(), Some(Ok((_, Tok::Newline, _)))) {
                iter.next();
            }
            let next = match iter.peek() {
                Some(Ok(t)) => Some(&t.1),
                _ => None,
            };
            if st.newline_ends_statement(next) {
                st.frame().end_item();
                st.out.push((s, tok, e));
            }
            Ok(())
        } else {
            st.push(s, tok, e)
        };
        if let Err(d) = result {
            error = Some(d);
            break;
        }
    }
    if error.is_none() {
        error = st.unclosed(mode);
    }
    Lexed {
        tokens: st.out,
        error,
        brackets: st.brackets,
    }
}

impl<'a> State<'_, 'a> {
    fn frame(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("the root frame is never popped")
    }

    fn prev(&self, back: usize) -> Option<&Tok<'a>> {
        self.out.len().checked_sub(back + 1).map(|i| &self.out[i].1)
    }

    fn newline_ends_statement(&self, next: Option<&Tok>) -> bool {
        let counts = self.frames.last().is_some_and(|f| f.newlines_count);
        let prev_ok = match self.prev(0) {
            None | Some(Tok::StartModule | Tok::StartExpr | Tok::Newline | Tok::Semi) => false,
            Some(t) => !line_end_continues(t),
        };
        counts && prev_ok && next.is_some_and(|t| !next_line_continues(t))
    }

    fn push(&mut self, s: usize, mut tok: Tok<'a>, e: usize) -> Result<(), Diagnostic> {
        let span = Span::new(s, e);
        match &mut tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace | Tok::QBracket => self.open(&tok, span)?,
            Tok::RParen | Tok::RBracket | Tok::RBrace => self.close(&tok, span)?,
            Tok::Comma | Tok::Semi => self.frame().end_item(),
            Tok::Arrow if self.frames.last().is_some_and(|f| f.opener == b'{') => {
                let f = self.frame();
                f.end_item();
                if f.kind == Some(Kind::Dict) {
                    // A closure adds its body block on top of the dict's level.
                    f.kind = Some(Kind::Closure);
                    f.base += Kind::Closure.cost() - Kind::Dict.cost();
                    if let Some(b) = f.bracket {
                        self.brackets[b].kind = Kind::Closure;
                    }
                }
            }
            Tok::Template(t) => {
                let f = self.frames.last().expect("root frame");
                t.budget = Budget {
                    depth: self.budget.depth + self.frames.len() as u32,
                    weight: f.base + f.cnt + 1,
                };
            }
            Tok::If | Tok::While | Tok::For | Tok::Fn | Tok::Catch => {
                self.frame().pending = Some(Kind::Block);
                self.bump(span)?;
            }
            Tok::Match => {
                self.frame().pending = Some(Kind::MatchBody);
                self.bump(span)?;
            }
            t if is_leaf(t) => {}
            _ => self.bump(span)?,
        }
        self.out.push((s, tok, e));
        Ok(())
    }

    fn bump(&mut self, span: Span) -> Result<(), Diagnostic> {
        let f = self.frame();
        f.cnt += 1;
        if f.weight() > MAX_WEIGHT {
            return Err(too_complex(span));
        }
        Ok(())
    }

    fn classify(&mut self, tok: &Tok) -> Kind {
        use Tok::*;
        let prev = self.prev(0);
        let prev2 = self.prev(1);
        let top = self.frames.last().expect("root frame");
        let in_pattern = top.kind == Some(Kind::Pattern);
        let arm_start = top.kind == Some(Kind::MatchBody)
            && matches!(prev, Some(Newline | Comma | Bar | LBrace));
        let binds = matches!(prev, Some(Let | Var | For))
            || (matches!(prev, Some(LParen)) && matches!(prev2, Some(Catch)));
        let pattern = in_pattern || arm_start || binds;
        match tok {
            LParen
                if matches!(prev, Some(Fn))
                    || (matches!(prev, Some(Ident(_) | As)) && matches!(prev2, Some(Fn))) =>
            {
                Kind::Params
            }
            LParen if ends_operand(prev) => Kind::Call,
            LParen => Kind::Paren,
            QBracket => Kind::Index,
            LBracket if pattern => Kind::Pattern,
            LBracket if ends_operand(prev) => Kind::Index,
            LBracket => Kind::List,
            _ if matches!(prev, Some(Import)) => Kind::ImportList,
            _ if pattern => Kind::Pattern,
            _ if matches!(prev, Some(Else | Try | Finally | Spawn | Catch)) => Kind::Block,
            _ if matches!(prev, Some(Arrow)) && top.kind == Some(Kind::MatchBody) => Kind::Block,
            _ if top.pending.is_some() && ends_operand(prev) => {
                self.frame().pending.take().unwrap_or(Kind::Block)
            }
            _ => Kind::Dict,
        }
    }

    fn open(&mut self, tok: &Tok, span: Span) -> Result<(), Diagnostic> {
        let kind = self.classify(tok);
        if matches!(kind, Kind::Call | Kind::Index) {
            // Postfix operations chain (`f(1)(2)`, `x[0][1]`) like operators.
            self.bump(span)?;
        }
        let depth = self.budget.depth + self.frames.len() as u32;
        if depth > MAX_NESTING {
            return Err(Diagnostic::new(
                "syntax_error",
                format!("nesting too deep (more than {MAX_NESTING} levels)"),
                span,
            ));
        }
        let (opener, closer) = match tok {
            Tok::LParen => (b'(', ")"),
            Tok::LBrace => (b'{', "}"),
            _ => (b'[', "]"),
        };
        // Earlier siblings (`child_max`) are not on the path to this one.
        let parent = self.frames.last().expect("root frame");
        let base = parent.base + parent.cnt + kind.cost();
        self.brackets.push(BracketInfo {
            open: span,
            kind,
            closer,
            close: None,
        });
        self.frames.push(Frame {
            bracket: Some(self.brackets.len() - 1),
            opener,
            kind: Some(kind),
            newlines_count: opener == b'{',
            base,
            cnt: 0,
            child_max: 0,
            peak: 0,
            pending: None,
        });
        if base > MAX_WEIGHT {
            return Err(too_complex(span));
        }
        Ok(())
    }

    fn close(&mut self, tok: &Tok, span: Span) -> Result<(), Diagnostic> {
        let (want, text) = match tok {
            Tok::RParen => (b'(', ")"),
            Tok::RBrace => (b'{', "}"),
            _ => (b'[', "]"),
        };
        let top = self.frames.last().expect("root frame");
        let Some(b) = top.bracket else {
            let open = want as char;
            return Err(Diagnostic::new(
                "syntax_error",
                format!("unexpected `{text}`: there is no open `{open}` to close"),
                span,
            ));
        };
        if top.opener != want {
            let info = &self.brackets[b];
            return Err(Diagnostic::new(
                "syntax_error",
                format!(
                    "expected `{}` to close {}, found `{text}`",
                    info.closer,
                    info.describe(self.src)
                ),
                span,
            ));
        }
        let child = self.frames.pop().expect("non-root frame");
        self.brackets[b].close = Some(span.start as usize);
        let cost = child.kind.map_or(0, Kind::cost);
        let bound = child.peak.max(child.cnt + child.child_max) + cost;
        let parent = self.frame();
        parent.child_max = parent.child_max.max(bound);
        if parent.weight() > MAX_WEIGHT {
            return Err(too_complex(span));
        }
        Ok(())
    }

    /// The error for brackets still open at the end of the input.
    fn unclosed(&self, mode: Mode) -> Option<Diagnostic> {
        let b = self.frames.last()?.bracket?;
        let info = &self.brackets[b];
        let end = match mode {
            Mode::Module => "end of file",
            Mode::Expr => "the end of the `${...}`",
        };
        let d = Diagnostic::new(
            "syntax_error",
            format!(
                "expected `{}` to close {}, found {end}",
                info.closer,
                info.describe(self.src)
            ),
            info.open,
        );
        Some(if mode == Mode::Module {
            d.incomplete()
        } else {
            d
        })
    }
}

fn too_complex(span: Span) -> Diagnostic {
    Diagnostic::new(
        "syntax_error",
        format!("expression nests too deeply (more than {MAX_WEIGHT} levels)"),
        span,
    )
    .with_note("help: split it into smaller parts with `let`")
}
