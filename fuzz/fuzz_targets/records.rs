//! Durable-state loaders: a corrupted worker snapshot or run record is
//! refused with a reason or read; the `weft runs` views of any record
//! that passes the checks render (summary line, diagrams).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use weft_agents::store::check_record;
use weft_agents::workflow::record::RunRecord;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let path = Path::new("state/fuzz.json");
    let _ = check_record(path, &value, "weft.worker", 1);
    if check_record(path, &value, "weft.run", 1).is_ok() {
        let _ = weft::tooling::run_summary(&value);
        for format in weft::tooling::DIAGRAM_FORMATS {
            let _ = weft::tooling::run_diagram(&value, format);
        }
        if let Ok(record) = RunRecord::from_json(&value) {
            let _ = record.to_json();
        }
    }
});
