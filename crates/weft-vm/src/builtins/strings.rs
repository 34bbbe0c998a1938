//! String builtins (stdlib.md "Strings"). Lengths and indices count
//! Unicode scalars. Searching and picking by position live in
//! `strings_position.rs`.
//!
//! Builtins that return their input unchanged hand back the same string
//! (no copy); ASCII case changes and trims work in place when the argument
//! is uniquely owned (`s = s.trim()`).

use std::rc::Rc;

use super::{sync, Args, BuiltinDef};
use crate::error::{value_error, RtResult};
use crate::value::limits::string_too_long;
use crate::value::{dict_get, write_display_capped, SizeLimits, Value};
use crate::vm::Vm;

/// Largest string (in bytes) `repeat` and the padding builtins will build.
const MAX_STRING_BYTES: usize = 1 << 30;
/// Largest list `repeat` will build.
const MAX_LIST_ITEMS: usize = 100_000_000;

pub(super) fn defs() -> Vec<BuiltinDef> {
    vec![
        sync("join", &["list", "separator"], 1, 2, "strings", "The display strings of the items joined by the separator (default \"\").", join),
        sync("upper", &["string"], 1, 1, "strings", "The string in upper case.", upper),
        sync("lower", &["string"], 1, 1, "strings", "The string in lower case.", lower),
        sync("trim", &["string"], 1, 1, "strings", "The string without leading and trailing whitespace.", trim),
        sync("trim_start", &["string"], 1, 1, "strings", "The string without leading whitespace.", trim_start),
        sync("trim_end", &["string"], 1, 1, "strings", "The string without trailing whitespace.", trim_end),
        sync("split", &["string", "separator"], 1, 2, "strings", "The parts between occurrences of the separator; without one, the words between runs of whitespace.", split),
        sync("lines", &["string"], 1, 1, "strings", "The lines of the string (`\\n` or `\\r\\n` endings; no empty last line for a trailing newline).", lines),
        sync("chars", &["string"], 1, 1, "strings", "The Unicode scalars of the string, as one-character strings.", chars),
        sync("replace", &["string", "from", "to"], 3, 3, "strings", "The string with every occurrence of `from` replaced by `to`.", replace),
        sync("starts_with", &["string", "prefix"], 2, 2, "strings", "True when the string starts with the prefix.", starts_with),
        sync("ends_with", &["string", "suffix"], 2, 2, "strings", "True when the string ends with the suffix.", ends_with),
        sync("repeat", &["value", "count"], 2, 2, "strings", "The string (or list, or range as a list) repeated `count` times; empty when `count` is 0 or less.", repeat),
        sync("pad_start", &["string", "width", "fill"], 2, 3, "strings", "The string padded on the left to `width` scalars with `fill` (default \" \") repeated.", pad_start),
        sync("pad_end", &["string", "width", "fill"], 2, 3, "strings", "The string padded on the right to `width` scalars with `fill` (default \" \") repeated.", pad_end),
        sync("format", &["template", "args", "..."], 1, u8::MAX, "strings", "Fills `{}` with the arguments in order, `{0}` by position and `{name}` from a dict argument; `{{` and `}}` are literal braces.", format),
        sync("truncate", &["string", "max", "suffix"], 2, 3, "strings", "The string cut to at most `max` scalars, ending with `suffix` (default \"...\") when cut.", truncate),
    ]
}

fn join(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let limits = vm.program.limits;
    let cap_len = limits.string_cap();
    let items = args.list(0)?;
    let sep = match args.opt(1) {
        Some(_) => args.str(1)?,
        None => "",
    };
    // Exact size when every item is a string; a lower bound otherwise.
    let mut cap = sep.len() * items.len().saturating_sub(1);
    for v in items.iter() {
        if let Value::Str(s) = v {
            cap += s.len();
        }
    }
    limits.check_string_len(cap)?;
    let mut out = String::with_capacity(cap);
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        if write_display_capped(&mut out, v, cap_len).is_err() {
            return Err(string_too_long(out.len(), cap_len));
        }
    }
    Ok(Value::str(out))
}

/// Moves the (validated) string argument `i` out.
fn take_str(args: &mut Args, i: usize) -> Rc<String> {
    match args.take(i).into_str() {
        Ok(s) => s,
        Err(_) => unreachable!("argument validated as a string"),
    }
}

fn upper(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    change_case(args, true)
}

fn lower(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    change_case(args, false)
}

fn change_case(args: &mut Args, up: bool) -> RtResult<Value> {
    let s = args.str(0)?;
    if !s.is_ascii() {
        let out = if up {
            s.to_uppercase()
        } else {
            s.to_lowercase()
        };
        return Ok(Value::str(out));
    }
    let changes = if up {
        s.bytes().any(|b| b.is_ascii_lowercase())
    } else {
        s.bytes().any(|b| b.is_ascii_uppercase())
    };
    let mut rc = take_str(args, 0);
    if changes {
        let buf = Rc::make_mut(&mut rc);
        if up {
            buf.make_ascii_uppercase();
        } else {
            buf.make_ascii_lowercase();
        }
    }
    Ok(Value::Str(rc))
}

fn trim(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    trim_with(args, |s| s.trim())
}

fn trim_start(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    trim_with(args, |s| s.trim_start())
}

fn trim_end(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    trim_with(args, |s| s.trim_end())
}

/// Keeps the substring `f` selects, in place when possible.
fn trim_with(args: &mut Args, f: fn(&str) -> &str) -> RtResult<Value> {
    let s = args.str(0)?;
    let kept = f(s);
    if kept.len() == s.len() {
        return Ok(args.take(0));
    }
    let start = kept.as_ptr() as usize - s.as_ptr() as usize;
    let end = start + kept.len();
    let mut rc = take_str(args, 0);
    match Rc::get_mut(&mut rc) {
        Some(buf) => {
            buf.truncate(end);
            buf.drain(..start);
            Ok(Value::Str(rc))
        }
        None => Ok(Value::str(&rc[start..end])),
    }
}

fn split(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    let out: Vec<Value> = match args.opt(1) {
        None => s.split_whitespace().map(Value::str).collect(),
        Some(_) => {
            let sep = args.str(1)?;
            if sep.is_empty() {
                return Err(value_error(
                    "split: the separator must not be empty (use chars(s) for the characters)",
                ));
            }
            if sep.len() == 1 {
                // A char pattern searches faster than a one-byte string.
                let c = sep.as_bytes()[0] as char;
                s.split(c).map(Value::str).collect()
            } else {
                s.split(sep).map(Value::str).collect()
            }
        }
    };
    Ok(Value::list(out))
}

fn lines(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    Ok(Value::list(s.lines().map(Value::str).collect()))
}

thread_local! {
    /// Shared one-character strings for ASCII, so `chars` of ASCII text
    /// does not allocate per character.
    static ASCII_CHARS: Vec<Value> = (0u8..128).map(|b| Value::str((b as char).to_string())).collect();
}

fn chars(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    let out = ASCII_CHARS.with(|table| {
        let mut out = Vec::with_capacity(s.len());
        for c in s.chars() {
            if c.is_ascii() {
                out.push(table[c as usize].clone());
            } else {
                out.push(Value::str(c.to_string()));
            }
        }
        out
    });
    Ok(Value::list(out))
}

fn replace(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    let from = args.str(1)?;
    let to = args.str(2)?;
    if !from.is_empty() && !s.contains(from) {
        return Ok(args.take(0));
    }
    if vm.program.limits.max_string_len.is_some() && to.len() > from.len() {
        // An empty `from` matches before every scalar and at the end.
        let n = if from.is_empty() {
            s.chars().count() + 1
        } else {
            s.matches(from).count()
        };
        let len = (to.len() - from.len())
            .saturating_mul(n)
            .saturating_add(s.len());
        vm.program.limits.check_string_len(len)?;
    }
    Ok(Value::str(s.replace(from, to)))
}

fn starts_with(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    Ok(Value::Bool(s.starts_with(args.str(1)?)))
}

fn ends_with(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    Ok(Value::Bool(s.ends_with(args.str(1)?)))
}

/// Number of Unicode scalars in `s` (counts non-continuation bytes).
pub(super) fn scalar_count(s: &str) -> usize {
    s.bytes().filter(|b| (*b as i8) >= -0x40).count()
}

fn repeat(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let limits = vm.program.limits;
    // A count of zero or less gives an empty result (as in Python and Lua).
    let n = args.int(1)?.max(0);
    if let Value::Range(r) = &args.vals[0] {
        limits.check_list_len(r.len())?;
        args.vals[0] = Value::list(super::convert::iter_items(&args.vals[0], "repeat")?);
    }
    match &args.vals[0] {
        Value::Str(s) => {
            if n == 1 {
                return Ok(args.take(0));
            }
            match s.len().checked_mul(n as usize) {
                Some(total) if total <= MAX_STRING_BYTES => {
                    limits.check_string_len(total)?;
                    Ok(Value::str(s.repeat(n as usize)))
                }
                Some(total) if limits.max_string_len.is_some() => {
                    Err(string_too_long(total, limits.string_cap()))
                }
                _ => Err(value_error(format!(
                    "repeat: the result would be too large ({} bytes x {n}; the limit is 1 GiB)",
                    s.len()
                ))),
            }
        }
        Value::List(items) => {
            if n == 1 {
                return Ok(args.take(0));
            }
            match items.len().checked_mul(n as usize) {
                Some(total) if limits.max_collection_len.is_some_and(|m| total > m) => {
                    limits.check_list_len(total).map(|_| Value::Nil)
                }
                Some(total) if total <= MAX_LIST_ITEMS => {
                    let mut out = Vec::with_capacity(total);
                    for _ in 0..n {
                        out.extend(items.iter().cloned());
                    }
                    Ok(Value::list(out))
                }
                _ => Err(value_error(format!(
                    "repeat: the result would be too large ({} items x {n}; the limit is {MAX_LIST_ITEMS} items)",
                    items.len()
                ))),
            }
        }
        _ => Err(args.type_err(0, "a string or list")),
    }
}

fn pad_start(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    pad(args, true, vm.program.limits)
}

fn pad_end(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    pad(args, false, vm.program.limits)
}

fn pad(args: &mut Args, at_start: bool, limits: SizeLimits) -> RtResult<Value> {
    let s = args.str(0)?;
    let width = args.int(1)?;
    if width > 0 {
        // Every scalar is at least one byte.
        limits.check_string_len(width as usize)?;
    }
    let fill = match args.opt(2) {
        Some(_) => args.str(2)?,
        None => " ",
    };
    if fill.is_empty() {
        return Err(value_error(format!(
            "{}: fill must not be empty",
            args.name
        )));
    }
    if width > MAX_STRING_BYTES as i64 {
        return Err(value_error(format!(
            "{}: width {width} is too large (the limit is {MAX_STRING_BYTES})",
            args.name
        )));
    }
    let have = scalar_count(s);
    if width <= have as i64 {
        return Ok(args.take(0));
    }
    let missing = width as usize - have;
    limits.check_string_len(s.len().saturating_add(missing.saturating_mul(fill.len())))?;
    let mut padding = String::with_capacity(missing * fill.len().min(4));
    padding.extend(fill.chars().cycle().take(missing));
    if padding.len().saturating_add(s.len()) > MAX_STRING_BYTES {
        return Err(value_error(format!(
            "{}: the result would be too large (the limit is 1 GiB)",
            args.name
        )));
    }
    let mut out = String::with_capacity(padding.len() + s.len());
    if at_start {
        out.push_str(&padding);
        out.push_str(s);
    } else {
        out.push_str(s);
        out.push_str(&padding);
    }
    Ok(Value::str(out))
}

fn format(vm: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let template = args.str(0)?;
    let cap = vm.program.limits.string_cap();
    match format_template(template, &args.vals[1..], cap) {
        Ok(s) => Ok(Value::str(s)),
        Err(FormatError::TooLong(len)) => Err(string_too_long(len, cap)),
        Err(FormatError::Template(msg)) => Err(value_error(format!("format: {msg}"))),
    }
}

/// Why [`format_template`] failed.
enum FormatError {
    /// A malformed template or a missing argument (message without the
    /// `format:` prefix).
    Template(String),
    /// The output passed the `max_string_len` cap at this length.
    TooLong(usize),
}

impl From<String> for FormatError {
    fn from(msg: String) -> Self {
        FormatError::Template(msg)
    }
}

/// Expands `template`: `{}` takes the next argument, `{N}` argument N
/// (0-based), `{name}` key `name` of the first dict argument that has it;
/// `{{` and `}}` are literal braces. Values show as `println` shows them.
/// Extra arguments are ignored. The error is a message without the
/// `format:` prefix. Output longer than `cap` bytes stops the expansion.
fn format_template(template: &str, args: &[Value], cap: usize) -> Result<String, FormatError> {
    let mut out = String::with_capacity(template.len() + 8 * args.len());
    let mut rest = template;
    let mut next = 0usize;
    loop {
        let Some(i) = rest.bytes().position(|b| b == b'{' || b == b'}') else {
            out.push_str(rest);
            return Ok(out);
        };
        out.push_str(&rest[..i]);
        let brace = rest.as_bytes()[i];
        let after = &rest[i + 1..];
        if after.as_bytes().first() == Some(&brace) {
            out.push(brace as char);
            rest = &after[1..];
            continue;
        }
        if brace == b'}' {
            return Err(FormatError::Template(
                "unmatched '}' in the template (write '}}' for a literal brace)".to_string(),
            ));
        }
        let close = match after.bytes().position(|b| b == b'}' || b == b'{') {
            Some(c) if after.as_bytes()[c] == b'}' => c,
            _ => {
                return Err(FormatError::Template(
                    "unclosed '{' in the template (write '{{' for a literal brace)".to_string(),
                ))
            }
        };
        let name = after[..close].trim();
        let value = if name.is_empty() {
            next += 1;
            args.get(next - 1).ok_or_else(|| {
                format!(
                    "placeholder {{}} number {next} has no argument ({} given)",
                    args.len()
                )
            })?
        } else if name.bytes().all(|b| b.is_ascii_digit()) {
            let index: usize = name.parse().unwrap_or(usize::MAX);
            args.get(index).ok_or_else(|| {
                format!(
                    "placeholder {{{name}}} has no argument ({} given)",
                    args.len()
                )
            })?
        } else {
            let mut dicts = args.iter().filter_map(|a| match a {
                Value::Dict(d) => Some(d),
                _ => None,
            });
            let mut any_dict = false;
            let found = dicts.find_map(|d| {
                any_dict = true;
                dict_get(d, name)
            });
            match found {
                Some(v) => v,
                None if any_dict => return Err(format!("no value for placeholder {{{name}}} (no dict argument has the key '{name}')").into()),
                None => return Err(format!("no value for placeholder {{{name}}} (pass a dict argument with the key '{name}')").into()),
            }
        };
        if write_display_capped(&mut out, value, cap).is_err() {
            return Err(FormatError::TooLong(out.len()));
        }
        rest = &after[close + 1..];
    }
}

fn truncate(_: &mut Vm, args: &mut Args) -> RtResult<Value> {
    let s = args.str(0)?;
    let max = args.int(1)?;
    let suffix = match args.opt(2) {
        Some(_) => args.str(2)?,
        None => "...",
    };
    if max < 0 {
        return Err(value_error(format!(
            "truncate: max must not be negative, got {max}"
        )));
    }
    match truncate_str(s, max as usize, suffix) {
        Some(out) => Ok(Value::str(out)),
        None => Ok(args.take(0)),
    }
}

/// `s` cut to at most `max` scalars including `suffix`; `None` when `s`
/// already fits. When the suffix alone is longer than `max`, the result is
/// the suffix's first `max` scalars.
fn truncate_str(s: &str, max: usize, suffix: &str) -> Option<String> {
    s.char_indices().nth(max)?; // fits: at most `max` scalars
    let suffix_len = scalar_count(suffix);
    if suffix_len >= max {
        let end = suffix
            .char_indices()
            .nth(max)
            .map_or(suffix.len(), |(i, _)| i);
        return Some(suffix[..end].to_string());
    }
    let keep = max - suffix_len;
    let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    let mut out = String::with_capacity(end + suffix.len());
    out.push_str(&s[..end]);
    out.push_str(suffix);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::dict_from;

    fn fmt(t: &str, args: Vec<Value>) -> Result<String, String> {
        match format_template(t, &args, usize::MAX) {
            Ok(s) => Ok(s),
            Err(FormatError::Template(m)) => Err(m),
            Err(FormatError::TooLong(n)) => Err(format!("too long: {n}")),
        }
    }

    #[test]
    fn format_stops_at_the_cap() {
        let big = Value::list(vec![Value::str("x".repeat(100)); 100]);
        assert!(matches!(
            format_template("{}{}", &[big.clone(), big], 500),
            Err(FormatError::TooLong(_))
        ));
    }

    #[test]
    fn format_positional_and_indexed() {
        assert_eq!(
            fmt(
                "{} + {} = {}",
                vec![Value::Int(1), Value::Float(2.0), Value::str("x")]
            )
            .unwrap(),
            "1 + 2.0 = x"
        );
        assert_eq!(
            fmt("{1}{0}{1}", vec![Value::str("a"), Value::str("b")]).unwrap(),
            "bab"
        );
        assert_eq!(
            fmt("no placeholders", vec![Value::Int(1)]).unwrap(),
            "no placeholders"
        );
        assert_eq!(
            fmt("{}", vec![Value::list(vec![Value::str("q")])]).unwrap(),
            "[\"q\"]"
        );
        assert_eq!(
            fmt("héllo {}!", vec![Value::str("wörld")]).unwrap(),
            "héllo wörld!"
        );
    }

    #[test]
    fn format_named_and_escapes() {
        let d = dict_from([("name", Value::str("Ada")), ("n", Value::Int(3))]);
        assert_eq!(
            fmt("{name} has { n } items", vec![d.clone()]).unwrap(),
            "Ada has 3 items"
        );
        assert_eq!(
            fmt("{{}} {{name}} {}", vec![Value::Int(7)]).unwrap(),
            "{} {name} 7"
        );
        assert_eq!(
            fmt("{}: {name}", vec![Value::Int(1), d.clone()]).unwrap(),
            "1: Ada"
        );
        let d2 = dict_from([("other", Value::Int(9))]);
        assert_eq!(fmt("{other} {name}", vec![d, d2]).unwrap(), "9 Ada");
    }

    #[test]
    fn format_errors() {
        let e = fmt("{} {}", vec![Value::Int(1)]).unwrap_err();
        assert!(e.contains("number 2") && e.contains("1 given"), "{e}");
        let e = fmt("{name}", vec![]).unwrap_err();
        assert!(e.contains("{name}") && e.contains("pass a dict"), "{e}");
        let e = fmt("{name}", vec![dict_from([("x", Value::Int(1))])]).unwrap_err();
        assert!(e.contains("no dict argument has the key 'name'"), "{e}");
        assert!(fmt("{3}", vec![Value::Int(1)]).unwrap_err().contains("{3}"));
        assert!(fmt("a { b", vec![]).unwrap_err().contains("unclosed"));
        assert!(fmt("a {b{c}", vec![]).unwrap_err().contains("unclosed"));
        assert!(fmt("a } b", vec![]).unwrap_err().contains("unmatched"));
    }

    #[test]
    fn truncate_cases() {
        assert_eq!(truncate_str("hello", 5, "..."), None);
        assert_eq!(truncate_str("hello", 10, "..."), None);
        assert_eq!(
            truncate_str("hello world", 8, "...").as_deref(),
            Some("hello...")
        );
        assert_eq!(
            truncate_str("hello world", 5, "…").as_deref(),
            Some("hell…")
        );
        assert_eq!(
            truncate_str("héllo wörld", 6, "").as_deref(),
            Some("héllo ")
        );
        assert_eq!(truncate_str("hello", 2, "...").as_deref(), Some(".."));
        assert_eq!(truncate_str("hello", 3, "...").as_deref(), Some("..."));
        assert_eq!(truncate_str("hello", 0, "...").as_deref(), Some(""));
        assert_eq!(truncate_str("", 0, "..."), None);
        assert_eq!(
            truncate_str("日本語テキスト", 4, "..").as_deref(),
            Some("日本..")
        );
    }

    #[test]
    fn scalar_counting() {
        assert_eq!(scalar_count("abc"), 3);
        assert_eq!(scalar_count("héllo"), 5);
        assert_eq!(scalar_count("😀x"), 2);
    }
}
