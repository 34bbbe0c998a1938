//! The VM: any program runs to an end or an error under tight limits, in
//! a sandbox with every capability denied; the engine stays usable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut engine = weft_fuzz::sandboxed_engine();
    if let Err(e) = engine.eval_blocking(text) {
        weft_fuzz::check_error(&e);
    }
    let v = engine.eval_blocking("1 + 1").expect("the engine survives");
    assert_eq!(v.as_int(), Some(2));
});
