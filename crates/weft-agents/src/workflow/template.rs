//! Prompt templates of workflow nodes (workflows.md §2): `${task}`,
//! `${input.NODE}`, `${input.NODE.field...}`, `${item...}`, `${run_id}` and
//! `${attempt}` are replaced from the node's `ctx`. Strings are inserted
//! raw, other values as JSON. In a Weft string literal the `$` must be
//! escaped (`"\${task}"`) or the string written raw (`r"..."`), otherwise
//! the script interpolates it when the literal is evaluated.

use weft_vm::value::{dict_get, to_json_string, Value};

/// Roots a placeholder may start with.
pub const ROOTS: &[&str] = &[
    "task", "input", "item", "run_id", "attempt", "visits", "state",
];

/// The placeholders of `s` (the text between `${` and `}`), in order.
pub fn placeholders(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                out.push(after[..j].trim());
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// The node ids named by `${input.NODE...}` placeholders of `s`.
pub fn input_refs(s: &str) -> Vec<String> {
    placeholders(s)
        .into_iter()
        .filter_map(|p| p.strip_prefix("input."))
        .map(|rest| rest.split('.').next().unwrap_or("").to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Checks the placeholders' roots (at graph time).
pub fn check(s: &str) -> Result<(), String> {
    for p in placeholders(s) {
        let root = p.split('.').next().unwrap_or("");
        if !ROOTS.contains(&root) {
            return Err(format!(
                "unknown placeholder ${{{p}}} (placeholders start with: {})",
                ROOTS.join(", ")
            ));
        }
    }
    Ok(())
}

/// `s` with every placeholder replaced from `ctx` (the node's ctx dict).
pub fn render(s: &str, ctx: &Value) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let path = after[..j].trim();
        let v = lookup(ctx, path)?;
        match &v {
            Value::Str(s) => out.push_str(s),
            Value::Nil => {}
            other => {
                out.push_str(&to_json_string(other, false).unwrap_or_else(|_| other.to_display()))
            }
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The value at a dotted `path` of `ctx` (list indices as numbers).
fn lookup(ctx: &Value, path: &str) -> Result<Value, String> {
    let mut parts = path.split('.');
    let root = parts.next().unwrap_or("");
    if !ROOTS.contains(&root) {
        return Err(format!(
            "unknown placeholder ${{{path}}} (placeholders start with: {})",
            ROOTS.join(", ")
        ));
    }
    let mut cur = field(ctx, root).ok_or_else(|| match root {
        "item" => format!("${{{path}}}: there is no item outside a map node"),
        _ => format!("${{{path}}}: ctx has no '{root}'"),
    })?;
    let mut walked = root.to_string();
    for (depth, part) in parts.enumerate() {
        let next = match &cur {
            Value::List(items) => part
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i).cloned()),
            _ => field(&cur, part),
        };
        cur = match next {
            Some(v) => v,
            None if root == "input" && depth == 0 => {
                return Err(format!(
                    "${{{path}}}: node '{part}' has not finished in this run"
                ))
            }
            None => {
                return Err(format!(
                    "${{{path}}}: {walked} has no '{part}' (it is {})",
                    describe(&cur)
                ))
            }
        };
        walked.push('.');
        walked.push_str(part);
    }
    Ok(cur)
}

fn field(v: &Value, k: &str) -> Option<Value> {
    match v {
        Value::Dict(d) => dict_get(d, k).cloned(),
        _ => None,
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Dict(d) => {
            let keys: Vec<&str> = d.keys().map(|k| k.as_str()).take(8).collect();
            format!("a dict with keys {}", keys.join(", "))
        }
        other => format!("a {}", other.type_name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_vm::value::{dict_from, Value};

    fn ctx() -> Value {
        dict_from([
            ("task", Value::str("fix it")),
            (
                "input",
                dict_from([(
                    "check",
                    dict_from([("status", Value::Int(1)), ("stderr", Value::str("boom"))]),
                )]),
            ),
            ("attempt", Value::Int(2)),
        ])
    }

    #[test]
    fn renders_paths() {
        let s = render(
            "T=${task} S=${input.check.stderr} A=${attempt} C=${input.check}",
            &ctx(),
        )
        .unwrap();
        assert_eq!(s, r#"T=fix it S=boom A=2 C={"status":1,"stderr":"boom"}"#);
    }

    #[test]
    fn reports_missing_parts() {
        assert!(render("${input.plan}", &ctx())
            .unwrap_err()
            .contains("node 'plan' has not finished"));
        assert!(render("${input.check.nope}", &ctx())
            .unwrap_err()
            .contains("input.check has no 'nope'"));
        assert!(render("${bogus}", &ctx())
            .unwrap_err()
            .contains("unknown placeholder"));
        assert!(render("${item}", &ctx())
            .unwrap_err()
            .contains("outside a map"));
    }

    #[test]
    fn finds_input_refs() {
        assert_eq!(
            input_refs("a ${input.x.y} ${task} ${input.z}"),
            vec!["x", "z"]
        );
        assert!(check("${tsk}").is_err());
        assert_eq!(
            render("no close ${task", &ctx()).unwrap(),
            "no close ${task"
        );
    }
}
