//! LLM fixture files (JSON lines of recorded exchanges): parsed or
//! refused with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(reason) = weft_agents::llm::fixture::parse_fixture(text) {
        assert!(!reason.is_empty());
    }
});
