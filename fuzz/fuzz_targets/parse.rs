//! Lexer and parser: any text parses or gives one rendered diagnostic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_syntax::diagnostic::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.wf", text);
    if let Err(d) = weft_syntax::parse_module(&file) {
        assert!(!d.category.is_empty());
        let _ = d.render();
    }
});
