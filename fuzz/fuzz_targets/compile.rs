//! Parser and compiler: any text compiles (and disassembles) or gives
//! rendered diagnostics; nothing runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut engine = weft_fuzz::sandboxed_engine();
    if let Err(e) = engine.disassemble_source(text) {
        weft_fuzz::check_error(&e);
    }
});
