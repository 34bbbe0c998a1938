//! Unit tests of the schema validator (value/schema.rs).

use super::*;
use crate::value::json::parse_json;

fn j(text: &str) -> Value {
    parse_json(text).unwrap()
}

fn errs(value: &str, schema: &str) -> Vec<String> {
    validate(&j(value), &j(schema)).unwrap()
}

fn schema_err(schema: &str) -> String {
    validate(&Value::Nil, &j(schema)).unwrap_err()
}

#[test]
fn types() {
    assert!(errs("1", r#"{"type": "integer"}"#).is_empty());
    assert!(errs("1", r#"{"type": "number"}"#).is_empty());
    assert!(errs("1.5", r#"{"type": "number"}"#).is_empty());
    assert_eq!(
        errs("1.0", r#"{"type": "integer"}"#),
        ["$: expected integer, got float"]
    );
    assert_eq!(
        errs("true", r#"{"type": ["string", "null"]}"#),
        ["$: expected string or null, got bool"]
    );
    assert!(errs("null", r#"{"type": ["string", "null"]}"#).is_empty());
    assert_eq!(
        errs("[]", r#"{"type": "object"}"#),
        ["$: expected object, got list"]
    );
    assert!(errs("{}", r#"{}"#).is_empty());
}

#[test]
fn nested_paths() {
    let schema = r#"{
        "type": "object",
        "required": ["name", "items"],
        "properties": {
            "items": {"type": "array", "items": {
                "type": "object",
                "properties": {"age": {"type": "integer"}, "two words": {"type": "string"}}
            }},
            "tags": {"maxItems": 3}
        }
    }"#;
    let value = r#"{"items": [{}, {"age": 1}, {"age": "x", "two words": 2}], "tags": [1,2,3,4,5]}"#;
    assert_eq!(
        errs(value, schema),
        [
            "$: missing required property 'name'",
            "$.items[2].age: expected integer, got string",
            "$.items[2][\"two words\"]: expected string, got int",
            "$.tags: expected at most 3 items, got 5",
        ]
    );
}

#[test]
fn additional_properties() {
    let schema = r#"{"properties": {"a": {}}, "additionalProperties": false}"#;
    assert_eq!(
        errs(r#"{"a": 1, "b": 2}"#, schema),
        ["$: unexpected property 'b'"]
    );
    assert!(errs(r#"{"a": 1}"#, schema).is_empty());
}

#[test]
fn enum_const_and_bounds() {
    assert_eq!(
        errs(r#""x""#, r#"{"enum": ["a", "b"]}"#),
        [r#"$: expected one of ["a", "b"], got "x""#]
    );
    assert!(errs("1.0", r#"{"enum": [1]}"#).is_empty());
    assert_eq!(errs("2", r#"{"const": 1}"#), ["$: expected 1, got 2"]);
    assert_eq!(
        errs("-1", r#"{"minimum": 0}"#),
        ["$: expected at least 0, got -1"]
    );
    assert_eq!(
        errs("2.5", r#"{"maximum": 2}"#),
        ["$: expected at most 2, got 2.5"]
    );
    assert!(errs("2", r#"{"maximum": 2.0, "minimum": 2}"#).is_empty());
    assert_eq!(
        errs(r#""héé""#, r#"{"minLength": 4, "maxLength": 2}"#),
        [
            "$: expected at least 4 characters, got 3",
            "$: expected at most 2 characters, got 3"
        ]
    );
    assert!(errs(r#""héé""#, r#"{"minLength": 3, "maxLength": 3}"#).is_empty());
    assert_eq!(
        errs("[]", r#"{"minItems": 1}"#),
        ["$: expected at least 1 item, got 0"]
    );
    // Keywords for other kinds are ignored.
    assert!(errs("5", r#"{"minLength": 3, "items": {"type": "string"}}"#).is_empty());
}

#[test]
fn patterns() {
    assert!(errs(r#""a12""#, r#"{"pattern": "[0-9]+"}"#).is_empty());
    assert_eq!(
        errs(r#""abc""#, r#"{"pattern": "^[0-9]+$"}"#),
        [r#"$: expected a string matching /^[0-9]+$/, got "abc""#]
    );
}

#[test]
fn any_of_and_one_of() {
    let any = r#"{"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 0}]}"#;
    assert!(errs("3", any).is_empty());
    assert!(errs(r#""x""#, any).is_empty());
    assert_eq!(
        errs("-1", any),
        ["$: does not match any anyOf schema ([0] expected string, got int; [1] expected at least 0, got -1)"]
    );
    let one = r#"{"oneOf": [{"type": "integer"}, {"type": "number"}]}"#;
    assert!(errs("1.5", one).is_empty());
    assert_eq!(
        errs("1", one),
        ["$: matches 2 oneOf schemas (0, 1), expected exactly one"]
    );
    assert_eq!(
        errs("null", one),
        ["$: does not match any oneOf schema ([0] expected integer, got nil; [1] expected number, got nil)"]
    );
    let nested = r#"{"properties": {"a": {"anyOf": [{"required": ["x"]}, {"type": "string"}]}}}"#;
    assert_eq!(
        errs(r#"{"a": {"y": 1}}"#, nested),
        ["$.a: does not match any anyOf schema ([0] missing required property 'x'; [1] expected string, got dict)"]
    );
}

#[test]
fn invalid_schemas() {
    assert_eq!(
        schema_err(r#"{"typ": "string"}"#),
        "invalid schema at #: unknown keyword 'typ' (did you mean 'type'?)"
    );
    assert_eq!(
        schema_err(r#"{"properties": {"a/b": {"minLenght": 1}}}"#),
        "invalid schema at #/properties/a~1b: unknown keyword 'minLenght' (did you mean 'minLength'?)"
    );
    assert_eq!(
        schema_err(r#"{"type": "int"}"#),
        "invalid schema at #: unknown type 'int' (did you mean 'integer'?)"
    );
    assert_eq!(
        schema_err(r#"{"minimum": "3"}"#),
        "invalid schema at #: 'minimum' must be a number, got string"
    );
    assert_eq!(
        schema_err(r#"{"required": ["a", 1]}"#),
        "invalid schema at #: 'required' must be a list of strings, but an item is int"
    );
    assert_eq!(
        schema_err(r#"{"anyOf": [{}, 3]}"#),
        "invalid schema at #/anyOf/1: a schema must be a dict, got int"
    );
    assert_eq!(
        schema_err(r#"{"pattern": "("}"#),
        "invalid schema at #: 'pattern' \"(\" is not a valid regex: unclosed group"
    );
    assert_eq!(
        schema_err(r#"{"additionalProperties": {}}"#),
        "invalid schema at #: 'additionalProperties' must be a bool, got dict"
    );
    assert!(schema_err(r#"{"maxItems": -1}"#).contains("must not be negative"));
    assert!(schema_err("3").contains("a schema must be a dict, got int"));
}

#[test]
fn regex_cache_reuses_and_reports() {
    assert!(cached_regex("a+").unwrap().is_match("caa"));
    assert!(Rc::ptr_eq(
        &cached_regex("a+").unwrap(),
        &cached_regex("a+").unwrap()
    ));
    assert_eq!(cached_regex("[a").unwrap_err(), "unclosed character class");
}
