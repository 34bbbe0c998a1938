//! Reading a model's reply: `visible_text` (the reply without
//! `<think>...</think>` blocks) and the JSON data in it (agents.md §2).
//!
//! [`extract_json`] tries, in order: the whole reply; each fenced
//! ```` ```json ```` block; each other fenced block; then every balanced
//! `{...}` or `[...]` in order of its opening bracket, matched with
//! string-aware bracket counting (brackets inside JSON strings and escaped
//! quotes do not count). The first candidate that parses wins.

/// `text` with `<think>...</think>` blocks removed (an unclosed `<think>`
/// hides the rest). When something was removed the result is trimmed.
pub fn visible_text(text: &str) -> String {
    const OPEN: &str = "<think>";
    const CLOSE: &str = "</think>";
    if !text.contains(OPEN) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        match rest[start..].find(CLOSE) {
            Some(end) => rest = &rest[start + end + CLOSE.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// The JSON data in a reply, if any.
pub fn extract_json(text: &str) -> Option<serde_json::Value> {
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s.trim()).ok();
    if let Some(v) = parse(text) {
        return Some(v);
    }
    let fences = fenced_blocks(text);
    for (_, body) in fences
        .iter()
        .filter(|(l, _)| l.eq_ignore_ascii_case("json"))
    {
        if let Some(v) = parse(body) {
            return Some(v);
        }
    }
    for (_, body) in fences
        .iter()
        .filter(|(l, _)| !l.eq_ignore_ascii_case("json"))
    {
        if let Some(v) = parse(body) {
            return Some(v);
        }
    }
    for (i, c) in text.char_indices() {
        if c == '{' || c == '[' {
            if let Some(end) = balanced_end(text, i) {
                if let Some(v) = parse(&text[i..end]) {
                    return Some(v);
                }
            }
        }
    }
    None
}

/// `(language, body)` of every ```` ``` ```` fenced block.
fn fenced_blocks(text: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let line_end = after.find('\n').unwrap_or(after.len());
        let lang = after[..line_end].trim();
        let body_start = (line_end + 1).min(after.len());
        let body = &after[body_start..];
        match body.find("```") {
            Some(close) => {
                out.push((lang, &body[..close]));
                rest = &body[close + 3..];
            }
            None => {
                // An unclosed fence: take the rest.
                out.push((lang, body));
                break;
            }
        }
    }
    out
}

/// The byte index just past the bracket matching the one at `start`.
pub fn balanced_end(text: &str, start: usize) -> Option<usize> {
    let mut stack: Vec<u8> = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for (i, b) in text.bytes().enumerate().skip(start) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' => stack.push(b'}'),
            b'[' => stack.push(b']'),
            b'}' | b']' => {
                if stack.pop() != Some(b) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn think_blocks_are_hidden() {
        assert_eq!(visible_text("plain"), "plain");
        assert_eq!(visible_text("<think>hmm</think>\nAnswer: 4"), "Answer: 4");
        assert_eq!(visible_text("a<think>x</think>b<think>y</think>c"), "abc");
        assert_eq!(visible_text("ok <think>never closed"), "ok");
    }

    #[test]
    fn finds_json() {
        assert_eq!(extract_json(r#"{"a": 1}"#), Some(json!({"a": 1})));
        assert_eq!(extract_json("42"), Some(json!(42)));
        assert_eq!(
            extract_json("Here:\n```json\n{\"a\": [1, 2]}\n```\nDone."),
            Some(json!({"a": [1, 2]}))
        );
        assert_eq!(extract_json("```\n[1]\n```"), Some(json!([1])));
        assert_eq!(
            extract_json(r#"The answer is {"s": "brace } and \" quote {", "n": 2} ok"#),
            Some(json!({"s": "brace } and \" quote {", "n": 2}))
        );
        assert_eq!(
            extract_json("see [not json} then [1, 2]"),
            Some(json!([1, 2]))
        );
        assert_eq!(
            extract_json("{bad} {\"good\": true}"),
            Some(json!({"good": true}))
        );
        assert_eq!(
            extract_json("prefix {\"outer\": {\"inner\": [1, {\"x\": null}]}} suffix"),
            Some(json!({"outer": {"inner": [1, {"x": null}]}}))
        );
        assert_eq!(extract_json("no json here"), None);
        assert_eq!(extract_json("unbalanced {\"a\": 1"), None);
        assert_eq!(
            extract_json("émoji 🎉 {\"k\": \"ü\"}"),
            Some(json!({"k": "ü"}))
        );
    }
}
