//! Unit tests of the cache's option parsing, expiry and the idempotency
//! check.

use serde_json::json;
use weft_vm::value::{dict_from, Value};

use super::agent::check_cacheable;
use super::{is_expired, parse_cache, CacheOpt};
use crate::tools::{Tool, ToolRegistry};

fn tool(name: &str, idempotent: bool) -> Tool {
    Tool {
        name: name.to_string(),
        description: String::new(),
        parameters: Value::Nil,
        schema: Value::Nil,
        input_schema: None,
        handler: Value::Nil,
        policy: None,
        idempotent,
        timeout_ms: None,
        requires_approval: false,
    }
}

fn ok<T>(r: weft_vm::error::RtResult<T>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {}", e.message()),
    }
}

fn err<T>(r: weft_vm::error::RtResult<T>) -> Box<weft_vm::RtError> {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn the_option_forms_parse() {
    assert_eq!(ok(parse_cache(None, "f")), None);
    assert_eq!(ok(parse_cache(Some(&Value::Bool(false)), "f")), None);
    assert_eq!(
        ok(parse_cache(Some(&Value::Bool(true)), "f")),
        Some(CacheOpt::default())
    );
    let d = dict_from([("key", Value::str("k")), ("ttl_ms", Value::Int(5))]);
    assert_eq!(
        ok(parse_cache(Some(&d), "f")),
        Some(CacheOpt {
            key: Some("k".into()),
            ttl_ms: Some(5)
        })
    );
    let e = err(parse_cache(
        Some(&dict_from([("key", Value::str(""))])),
        "f",
    ));
    assert_eq!(e.message(), "f: cache.key must not be empty");
    let e = err(parse_cache(Some(&Value::Int(1)), "f"));
    assert_eq!(e.category(), "type_error");
}

#[test]
fn entries_expire_after_their_ttl() {
    let entry = json!({"created_ms": 1_000, "ttl_ms": 500});
    assert!(!is_expired(&entry, 1_499));
    assert!(is_expired(&entry, 1_500));
    assert!(!is_expired(&json!({"created_ms": 0}), u64::MAX));
}

#[test]
fn non_idempotent_tools_need_a_key() {
    let reg = ToolRegistry {
        tools: vec![
            tool("read", true),
            tool("write", false),
            tool("send", false),
        ],
    };
    let bare = CacheOpt::default();
    let e = err(check_cacheable(Some(&bare), &reg, "sub_agent_run"));
    assert_eq!(e.category(), "value_error");
    assert!(
        e.message()
            .contains("'write', 'send' are not (mark them idempotent: true"),
        "{}",
        e.message()
    );
    let keyed = CacheOpt {
        key: Some("k".into()),
        ttl_ms: None,
    };
    assert!(check_cacheable(Some(&keyed), &reg, "w").is_ok());
    assert!(check_cacheable(None, &reg, "w").is_ok());
    let safe = ToolRegistry {
        tools: vec![tool("read", true)],
    };
    assert!(check_cacheable(Some(&bare), &safe, "w").is_ok());
}
