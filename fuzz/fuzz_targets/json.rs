//! JSON and schema builtins: decoding any text, encoding what was decoded
//! (compact and pretty, and back again to an equal value), and validating
//! one decoded value against another used as a schema.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_vm::value::{parse_json, schema, to_json_string, validate, values_equal};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // `SCHEMA\n---\nVALUE`, or one document used as both.
    let (first, second) = text.split_once("\n---\n").unwrap_or((text, text));
    let Ok(a) = parse_json(first) else {
        return;
    };
    for pretty in [false, true] {
        if let Ok(s) = to_json_string(&a, pretty) {
            let back = parse_json(&s).expect("encoded JSON decodes");
            assert!(values_equal(&a, &back), "round trip changed {s}");
        }
    }
    if let Ok(b) = parse_json(second) {
        if schema::check_schema(&a).is_ok() {
            let _ = validate(&b, &a);
        }
    }
});
