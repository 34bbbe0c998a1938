//! Policy files: any text is a policy or a `value_error` with a reason.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match weft::Policy::from_json(text) {
        Ok(policy) => {
            for cap in weft::Capability::ALL {
                let _ = policy.allows(cap);
            }
            let _ = policy.allows_tool("read_file");
        }
        Err(e) => weft_fuzz::check_error(&e),
    }
});
