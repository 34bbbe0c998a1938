//! The field checks of the records the store reads back: a `weft.worker`
//! snapshot or `weft.run` record whose `_type` and `version` are right but
//! whose fields are not what this build writes (a hand-edited, truncated
//! or corrupted file) is refused with a reason naming the path and the
//! field, instead of being resumed as garbage or silently re-run.

use serde_json::Value;

/// Worker statuses (workers.md §2).
pub const WORKER_STATUSES: &[&str] = &[
    "queued",
    "running",
    "awaiting",
    "completed",
    "failed",
    "cancelled",
    "interrupted",
    "awaiting_approval",
];

/// Run statuses (workflows.md §4), `interrupted` included.
pub const RUN_STATUSES: &[&str] = &[
    "running",
    "completed",
    "failed",
    "paused",
    "cancelled",
    "interrupted",
    "awaiting_approval",
];

/// What a field must hold.
enum Shape {
    Str,
    OneOf(&'static [&'static str]),
    /// An object or null (or absent).
    ObjectOrNull,
    /// A list or absent.
    List,
    /// A string or null (or absent).
    StrOrNull,
}

const WORKER_FIELDS: &[(&str, Shape)] = &[
    ("id", Shape::Str),
    ("status", Shape::OneOf(WORKER_STATUSES)),
    ("task", Shape::Str),
    ("key", Shape::StrOrNull),
    ("result", Shape::ObjectOrNull),
    ("error", Shape::ObjectOrNull),
    ("checkpoint", Shape::ObjectOrNull),
    ("transcript", Shape::ObjectOrNull),
    ("history", Shape::List),
    ("run_id", Shape::StrOrNull),
];

const RUN_FIELDS: &[(&str, Shape)] = &[
    ("id", Shape::Str),
    ("status", Shape::OneOf(RUN_STATUSES)),
    ("task", Shape::Str),
    ("workflow", Shape::Str),
    ("key", Shape::StrOrNull),
    ("stages", Shape::List),
    ("pending", Shape::List),
    ("outputs", Shape::ObjectOrNull),
    ("state", Shape::ObjectOrNull),
    ("visits", Shape::ObjectOrNull),
];

/// Checks the fields of a record of `record_type` (other types pass).
pub fn check_fields(path: &std::path::Path, record_type: &str, v: &Value) -> Result<(), String> {
    let fields = match record_type {
        "weft.worker" => WORKER_FIELDS,
        "weft.run" => RUN_FIELDS,
        _ => return Ok(()),
    };
    for (name, shape) in fields {
        let got = v.get(*name);
        let ok = match (shape, got) {
            (Shape::Str, Some(Value::String(_))) => true,
            (Shape::OneOf(names), Some(Value::String(s))) => names.contains(&s.as_str()),
            (Shape::ObjectOrNull, None | Some(Value::Null | Value::Object(_))) => true,
            (Shape::List, None | Some(Value::Array(_))) => true,
            (Shape::StrOrNull, None | Some(Value::Null | Value::String(_))) => true,
            _ => false,
        };
        if ok {
            continue;
        }
        let expected = match shape {
            Shape::Str => "a string".to_string(),
            Shape::OneOf(names) => format!("one of {}", names.join(", ")),
            Shape::ObjectOrNull => "an object or null".to_string(),
            Shape::List => "a list".to_string(),
            Shape::StrOrNull => "a string or null".to_string(),
        };
        let shown = match got {
            None => "missing".to_string(),
            Some(g) => {
                let mut t = g.to_string();
                if t.chars().count() > 40 {
                    t = t.chars().take(40).chain(['…']).collect();
                }
                t
            }
        };
        return Err(format!(
            "{}: corrupt {record_type}: field '{name}' is {shown}, expected {expected}",
            path.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn bad_fields_name_the_path_and_the_field() {
        let p = Path::new("/s/workers/w_1.json");
        let good = json!({"id": "w_1", "status": "completed", "task": "t", "result": {"ok": true}});
        assert_eq!(check_fields(p, "weft.worker", &good), Ok(()));
        let mut bad = good.clone();
        bad["status"] = json!("bogus");
        let e = check_fields(p, "weft.worker", &bad).unwrap_err();
        assert!(e.starts_with("/s/workers/w_1.json: corrupt weft.worker: field 'status' is \"bogus\", expected one of queued"), "{e}");
        let mut bad = good.clone();
        bad["result"] = json!(42);
        let e = check_fields(p, "weft.worker", &bad).unwrap_err();
        assert!(
            e.contains("field 'result' is 42, expected an object or null"),
            "{e}"
        );
        let run = json!({"id": "r_1", "status": "completed", "task": "t", "workflow": "w", "stages": "x"});
        let e = check_fields(p, "weft.run", &run).unwrap_err();
        assert!(
            e.contains("field 'stages' is \"x\", expected a list"),
            "{e}"
        );
        assert_eq!(check_fields(p, "weft.other", &json!(1)), Ok(()));
    }
}
