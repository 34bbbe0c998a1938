//! Tool parameters (agents.md §4): `parameters` is an object schema's
//! `properties` — one JSON-schema dict per parameter, plus `required: false`
//! for an optional one — and the model's arguments are validated against the
//! resulting object schema before a handler runs.

use std::rc::Rc;

use weft_vm::error::{type_error, value_error, RtResult};
use weft_vm::value::{
    dict_from, from_json, parse_json, schema::check_schema, validate, DictMap, Value,
};

/// Builds the object schema `{type: "object", properties, required}` from a
/// `parameters` dict, checking each parameter's schema.
pub fn parameters_schema(params: &Value, who: &str) -> RtResult<Value> {
    let Value::Dict(d) = params else {
        return Err(type_error(format!(
            "{who}: option 'parameters' must be a dict of parameter schemas, got {}",
            params.type_name()
        )));
    };
    let mut props = DictMap::default();
    let mut required = Vec::new();
    for (name, spec) in d.iter() {
        let Value::Dict(spec) = spec else {
            return Err(type_error(format!(
                "{who}: parameter '{name}' must be a schema dict, got {}",
                spec.type_name()
            )));
        };
        let mut spec = (**spec).clone();
        let is_required = match spec.shift_remove(&Rc::new("required".to_string())) {
            None | Some(Value::Nil) | Some(Value::Bool(true)) => true,
            Some(Value::Bool(false)) => false,
            Some(other) => {
                return Err(type_error(format!(
                    "{who}: parameter '{name}': 'required' must be a bool, got {}",
                    other.type_name()
                )))
            }
        };
        let spec = Value::dict(spec);
        check_schema(&spec).map_err(|e| value_error(format!("{who}: parameter '{name}': {e}")))?;
        if is_required {
            required.push(Value::Str(name.clone()));
        }
        props.insert(name.clone(), spec);
    }
    Ok(dict_from([
        ("type", Value::str("object")),
        ("properties", Value::dict(props)),
        ("required", Value::list(required)),
    ]))
}

/// The model's arguments as a dict, validated against `schema`. Missing or
/// `null` arguments count as `{}`; a JSON string holding an object (as some
/// providers send) is parsed. `Err` is the message returned to the model.
pub fn check_arguments(schema: &Value, args: &serde_json::Value) -> Result<Value, String> {
    let value = check_object(args)?;
    match validate(&value, schema) {
        Ok(errors) if errors.is_empty() => Ok(value),
        Ok(errors) => Err(errors.join("; ")),
        Err(e) => Err(e),
    }
}

/// The model's arguments as a dict, without a schema check (see
/// [`check_arguments`]).
pub fn check_object(args: &serde_json::Value) -> Result<Value, String> {
    let value = match args {
        serde_json::Value::Null => Value::dict(DictMap::default()),
        serde_json::Value::String(s) => match parse_json(s) {
            Ok(v) => v,
            Err(e) => return Err(format!("arguments are not valid JSON: {e}")),
        },
        other => from_json(other.clone()),
    };
    if !matches!(value, Value::Dict(_)) {
        return Err(format!(
            "arguments must be an object, got {}",
            json_type_name(&value)
        ));
    }
    Ok(value)
}

fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::List(_) => "array",
        Value::Str(_) => "string",
        Value::Int(_) => "integer",
        Value::Float(_) => "number",
        Value::Bool(_) => "boolean",
        Value::Nil => "null",
        _ => v.type_name(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(j: serde_json::Value) -> Value {
        parameters_schema(&from_json(j), "tool_define")
            .unwrap_or_else(|e| panic!("{}", e.message()))
    }

    #[test]
    fn builds_object_schema() {
        let s = schema(
            json!({"path": {"type": "string"}, "limit": {"type": "integer", "required": false}}),
        );
        let j = weft_vm::value::to_json(&s).unwrap();
        assert_eq!(
            j,
            json!({"type": "object", "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}}, "required": ["path"]})
        );
    }

    #[test]
    fn rejects_bad_specs() {
        let err = |j| {
            parameters_schema(&from_json(j), "tool_define")
                .err()
                .expect("an error")
                .message()
        };
        assert_eq!(
            err(json!({"p": "string"})),
            "tool_define: parameter 'p' must be a schema dict, got string"
        );
        assert!(err(json!({"p": {"type": "strng"}}))
            .starts_with("tool_define: parameter 'p': invalid schema"));
        assert!(err(json!({"p": {"type": "string", "required": "no"}}))
            .contains("'required' must be a bool"));
        assert!(err(json!([1])).contains("must be a dict of parameter schemas"));
    }

    #[test]
    fn validates_arguments() {
        let s = schema(
            json!({"path": {"type": "string"}, "n": {"type": "integer", "required": false}}),
        );
        assert!(check_arguments(&s, &json!({"path": "x"})).is_ok());
        assert!(check_arguments(&s, &json!({"path": "x", "n": 3})).is_ok());
        assert_eq!(
            check_arguments(&s, &json!({"path": 1}))
                .err()
                .expect("an error"),
            "$.path: expected string, got int"
        );
        assert!(check_arguments(&s, &json!({}))
            .err()
            .expect("an error")
            .contains("path"));
        assert_eq!(
            check_arguments(&s, &json!([1])).err().expect("an error"),
            "arguments must be an object, got array"
        );
        assert!(check_arguments(&s, &json!("{\"path\": \"y\"}")).is_ok());
        assert!(check_arguments(&s, &json!("{oops"))
            .err()
            .expect("an error")
            .starts_with("arguments are not valid JSON"));
        let empty = schema(json!({}));
        assert!(check_arguments(&empty, &serde_json::Value::Null).is_ok());
    }
}
