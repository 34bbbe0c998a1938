//! Small formatting helpers shared by the pages: durations, token counts,
//! times, and cutting long text.

use serde_json::Value as Json;

/// Milliseconds between two RFC 3339 times.
pub fn millis_between(from: &Json, to: &Json) -> Option<i64> {
    let a = chrono::DateTime::parse_from_rfc3339(from.as_str()?).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to.as_str()?).ok()?;
    Some((b - a).num_milliseconds())
}

/// Milliseconds since the Unix epoch of an RFC 3339 time.
pub fn epoch_millis(t: &Json) -> Option<i64> {
    Some(
        chrono::DateTime::parse_from_rfc3339(t.as_str()?)
            .ok()?
            .timestamp_millis(),
    )
}

/// `850ms`, `12.3s`, `4m 05s`; `-` when unknown.
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "-".to_string(),
        Some(ms) if ms < 1_000 => format!("{ms}ms"),
        Some(ms) if ms < 60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        Some(ms) => format!("{}m {:02}s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// Input + output tokens of a usage dict.
pub fn tokens_of(usage: &Json) -> u64 {
    usage["input_tokens"].as_u64().unwrap_or(0) + usage["output_tokens"].as_u64().unwrap_or(0)
}

/// `2026-12-03 07:51:25` from an RFC 3339 time (as given when unparsable).
pub fn when(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        Err(_) => t.to_string(),
    }
}

/// The first `n` characters of one-line `text`, with `…` when cut.
pub fn cut(text: &str, n: usize) -> String {
    let t = text.replace('\n', " ");
    if t.chars().count() > n {
        t.chars().take(n - 1).collect::<String>() + "…"
    } else {
        t
    }
}

/// A JSON value as readable text: strings as they are, the rest pretty.
pub fn pretty(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(Some(850)), "850ms");
        assert_eq!(duration(Some(12_345)), "12.3s");
        assert_eq!(duration(Some(245_000)), "4m 05s");
        assert_eq!(duration(None), "-");
        assert_eq!(cut("ab\ncdef", 4), "ab …");
    }
}
