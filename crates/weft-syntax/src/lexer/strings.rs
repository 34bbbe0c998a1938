//! String literals: `"..."`, raw `r"..."` and triple-quoted `"""..."""`.
//!
//! A quoted string is scanned iteratively with an explicit mode stack, so
//! `${...}` interpolations may contain nested strings (with their own
//! interpolations), braces and comments at any depth without recursion. Only
//! the outermost string's pieces are kept: literal source ranges (escapes
//! are processed here, triple-quote indentation is stripped here) and the
//! source ranges of the interpolated expressions, which the parser lexes and
//! parses separately.

use logos::Lexer;

use super::{LexError, RawPart, TemplateTok, Tok};
use crate::lexer::Budget;

/// Deepest allowed nesting of strings inside interpolations inside strings.
pub(crate) const MAX_INTERPOLATION_NESTING: usize = 16;

/// A piece of the outermost string, as byte offsets into the lexer source.
#[derive(Debug, Clone, Copy)]
enum Seg {
    Lit(usize, usize),
    /// Expression source `start..end`; `open` is where its `${` is.
    Expr {
        start: usize,
        end: usize,
        open: usize,
    },
}

enum Mode {
    Str { triple: bool, open: usize },
    Expr { depth: u32, open: usize },
}

/// Callback for `"` and `"""`.
pub(super) fn lex_quoted<'a>(
    lex: &mut Lexer<'a, Tok<'a>>,
    triple: bool,
) -> Result<Tok<'a>, LexError> {
    let src = lex.source();
    let open = lex.span().start;
    let body = lex.span().end;
    let (segs, end) = scan(src, body, triple, open)?;
    lex.bump(end - body);
    let parts = if triple {
        dedent(src, &segs)?
    } else {
        let mut parts = Vec::new();
        for seg in segs {
            match seg {
                Seg::Lit(s, e) => {
                    let mut text = String::new();
                    unescape(src, s, e, &mut text)?;
                    push_lit(&mut parts, text);
                }
                Seg::Expr { start, end, open } => parts.push(RawPart::Expr { start, end, open }),
            }
        }
        parts
    };
    Ok(finish(parts))
}

fn finish<'a>(mut parts: Vec<RawPart>) -> Tok<'a> {
    let interpolated = parts.iter().any(|p| matches!(p, RawPart::Expr { .. }));
    if interpolated {
        Tok::Template(Box::new(TemplateTok {
            parts,
            budget: Budget::default(),
        }))
    } else {
        match parts.pop() {
            Some(RawPart::Lit(s)) => Tok::Str(s),
            _ => Tok::Str(String::new()),
        }
    }
}

fn push_lit(parts: &mut Vec<RawPart>, text: String) {
    if text.is_empty() {
        return;
    }
    if let Some(RawPart::Lit(prev)) = parts.last_mut() {
        prev.push_str(&text);
    } else {
        parts.push(RawPart::Lit(text));
    }
}

/// Callback for `r"`: no escapes, no interpolation, one line.
pub(super) fn lex_raw<'a>(lex: &mut Lexer<'a, Tok<'a>>) -> Result<Tok<'a>, LexError> {
    let src = lex.source();
    let open = lex.span().start;
    let body = lex.span().end;
    let end = skip_raw(src.as_bytes(), body, open)?;
    lex.bump(end - body);
    Ok(Tok::Str(src[body..end - 1].to_string()))
}

/// Returns the offset just after the closing quote of a raw string whose
/// body starts at `i`.
fn skip_raw(bytes: &[u8], mut i: usize, open: usize) -> Result<usize, LexError> {
    while i < bytes.len() {
        match bytes[i] {
            b'"' => return Ok(i + 1),
            b'\n' => break,
            _ => i += 1,
        }
    }
    Err(LexError::new(
        "unterminated raw string (raw strings end on the same line)",
        open,
        open + 2,
    ))
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Finds the end of the string whose body starts at `body`, returning the
/// outermost string's pieces and the offset after the closing quote(s).
fn scan(src: &str, body: usize, triple: bool, open: usize) -> Result<(Vec<Seg>, usize), LexError> {
    let bytes = src.as_bytes();
    let mut stack = vec![Mode::Str { triple, open }];
    let mut segs = Vec::new();
    let mut lit_start = body;
    let mut expr_start = 0;
    let mut i = body;
    loop {
        let Some(top) = stack.last_mut() else {
            unreachable!("the scan returns when the outermost string closes")
        };
        if i >= bytes.len() {
            return Err(match *top {
                Mode::Str {
                    triple: false,
                    open,
                } => unterminated(open, 1),
                Mode::Str { triple: true, open } => unterminated(open, 3).incomplete(),
                Mode::Expr { open, .. } => {
                    LexError::new("unterminated `${` in string", open, open + 2).incomplete()
                }
            });
        }
        match top {
            Mode::Str { triple, open } => match bytes[i] {
                b'\\' => {
                    // Skip the escaped character (validated later); a
                    // backslash before a newline is left for the newline check.
                    i += 1;
                    if i < bytes.len() && bytes[i] != b'\n' {
                        i += utf8_len(bytes[i]);
                    }
                }
                b'"' if !*triple || bytes[i..].starts_with(b"\"\"\"") => {
                    let close_len = if *triple { 3 } else { 1 };
                    stack.pop();
                    if stack.is_empty() {
                        segs.push(Seg::Lit(lit_start, i));
                        return Ok((segs, i + close_len));
                    }
                    i += close_len;
                }
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    if stack.len() == 1 {
                        segs.push(Seg::Lit(lit_start, i));
                        expr_start = i + 2;
                    }
                    stack.push(Mode::Expr { depth: 0, open: i });
                    i += 2;
                }
                b'\n' if !*triple => return Err(unterminated(*open, 1)),
                _ => i += 1,
            },
            Mode::Expr { depth, open } => match bytes[i] {
                b'{' => {
                    *depth += 1;
                    i += 1;
                }
                b'}' if *depth > 0 => {
                    *depth -= 1;
                    i += 1;
                }
                b'}' => {
                    let open = *open;
                    stack.pop();
                    if stack.len() == 1 {
                        segs.push(Seg::Expr {
                            start: expr_start,
                            end: i,
                            open,
                        });
                        lit_start = i + 1;
                    }
                    i += 1;
                }
                b'"' => {
                    let triple = bytes[i..].starts_with(b"\"\"\"");
                    if stack.len() / 2 >= MAX_INTERPOLATION_NESTING {
                        return Err(LexError::new(
                            format!(
                                "string interpolation nested too deeply (more than {MAX_INTERPOLATION_NESTING} levels)"
                            ),
                            i,
                            i + 1,
                        ));
                    }
                    stack.push(Mode::Str { triple, open: i });
                    i += if triple { 3 } else { 1 };
                }
                b'r' if bytes.get(i + 1) == Some(&b'"')
                    && (i == 0 || !is_ident_byte(bytes[i - 1])) =>
                {
                    i = skip_raw(bytes, i + 2, i)?;
                }
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_comment(bytes, i)?,
                _ => i += 1,
            },
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

fn unterminated(open: usize, quote_len: usize) -> LexError {
    let msg = if quote_len == 3 {
        "unterminated triple-quoted string"
    } else {
        "unterminated string (use \"\"\"...\"\"\" for text that spans lines)"
    };
    LexError::new(msg, open, open + quote_len)
}

fn skip_comment(bytes: &[u8], open: usize) -> Result<usize, LexError> {
    let mut i = open + 2;
    let mut depth = 1;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Ok(i);
            }
        } else if bytes[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    Err(LexError::new("unterminated block comment", open, open + 2).incomplete())
}

/// Appends the text of `src[start..end]` with escapes processed. A `\r`
/// directly before a newline is dropped (CRLF files).
fn unescape(src: &str, start: usize, end: usize, out: &mut String) -> Result<(), LexError> {
    let text = &src[start..end];
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' => {
                let pos = start + at;
                let Some((_, e)) = chars.next() else {
                    return Err(LexError::new(
                        "unknown escape sequence: `\\` at the end of a line",
                        pos,
                        pos + 1,
                    ));
                };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '\\' => out.push('\\'),
                    '"' => out.push('"'),
                    '$' => out.push('$'),
                    '0' => out.push('\0'),
                    'u' => out.push(unicode_escape(text, start, at, &mut chars)?),
                    '\n' => {
                        return Err(LexError::new(
                            "unknown escape sequence: `\\` at the end of a line",
                            pos,
                            pos + 1,
                        ))
                    }
                    other => {
                        return Err(LexError::new(
                            format!(
                                "unknown escape sequence `\\{other}` (valid escapes: \\n \\t \\r \\\\ \\\" \\$ \\0 \\u{{...}})"
                            ),
                            pos,
                            pos + 1 + other.len_utf8(),
                        ))
                    }
                }
            }
            '\r' if matches!(chars.peek(), Some((_, '\n'))) => {}
            c => out.push(c),
        }
    }
    Ok(())
}

fn unicode_escape(
    text: &str,
    base: usize,
    at: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<char, LexError> {
    let pos = base + at;
    let bad = |end: usize| {
        LexError::new(
            "invalid unicode escape (write it as \\u{1F600}: 1 to 6 hex digits in braces)",
            pos,
            base + end,
        )
    };
    if !matches!(chars.next(), Some((_, '{'))) {
        return Err(bad(at + 2));
    }
    let mut value: u32 = 0;
    let mut digits = 0;
    loop {
        match chars.next() {
            Some((_, '}')) if digits > 0 => break,
            Some((_, d)) if d.is_ascii_hexdigit() && digits < 6 => {
                value = value * 16 + d.to_digit(16).unwrap_or(0);
                digits += 1;
            }
            Some((i, _)) => return Err(bad(i + 1)),
            None => return Err(bad(text.len())),
        }
    }
    char::from_u32(value).ok_or_else(|| {
        LexError::new(
            format!("invalid unicode escape: U+{value:X} is not a unicode scalar value"),
            pos,
            pos + digits + 4,
        )
    })
}

/// One piece of a line of a triple-quoted string.
#[derive(Clone, Copy)]
enum Piece {
    Lit(usize, usize),
    Expr(usize, usize, usize),
}

/// Splits a triple-quoted string into lines, drops a blank first line and a
/// blank last line, strips the common indentation and processes escapes.
fn dedent(src: &str, segs: &[Seg]) -> Result<Vec<RawPart>, LexError> {
    let bytes = src.as_bytes();
    let mut lines: Vec<Vec<Piece>> = vec![Vec::new()];
    for seg in segs {
        match *seg {
            Seg::Lit(s, e) => {
                let mut from = s;
                for nl in memchr_all(&bytes[s..e]) {
                    let at = s + nl;
                    let line_end = if at > from && bytes[at - 1] == b'\r' {
                        at - 1
                    } else {
                        at
                    };
                    push_piece(&mut lines, Piece::Lit(from, line_end));
                    lines.push(Vec::new());
                    from = at + 1;
                }
                push_piece(&mut lines, Piece::Lit(from, e));
            }
            Seg::Expr { start, end, open } => push_piece(&mut lines, Piece::Expr(start, end, open)),
        }
    }
    let blank = |line: &Vec<Piece>| {
        line.iter().all(|p| match *p {
            Piece::Lit(s, e) => bytes[s..e].iter().all(|b| *b == b' ' || *b == b'\t'),
            Piece::Expr(..) => false,
        })
    };
    if lines.len() > 1 && blank(&lines[0]) {
        lines.remove(0);
    }
    if lines.len() > 1 && lines.last().is_some_and(blank) {
        lines.pop();
    }
    let leading = |line: &Vec<Piece>| match line.first() {
        Some(Piece::Lit(s, e)) => bytes[*s..*e]
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count(),
        _ => 0,
    };
    let indent = lines
        .iter()
        .filter(|l| !blank(l))
        .map(leading)
        .min()
        .unwrap_or(0);
    let mut parts = Vec::new();
    let mut text = String::new();
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            text.push('\n');
        }
        let strip = indent.min(leading(line));
        for (k, piece) in line.iter().enumerate() {
            match *piece {
                Piece::Lit(s, e) => {
                    let s = if k == 0 { s + strip } else { s };
                    unescape(src, s, e, &mut text)?;
                }
                Piece::Expr(start, end, open) => {
                    push_lit(&mut parts, std::mem::take(&mut text));
                    parts.push(RawPart::Expr { start, end, open });
                }
            }
        }
    }
    push_lit(&mut parts, text);
    Ok(parts)
}

fn push_piece(lines: &mut [Vec<Piece>], piece: Piece) {
    if let Piece::Lit(s, e) = piece {
        if s >= e {
            return;
        }
    }
    if let Some(line) = lines.last_mut() {
        line.push(piece);
    }
}

fn memchr_all(hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
    hay.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i)
}
