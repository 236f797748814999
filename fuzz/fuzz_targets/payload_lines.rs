//! Feeds arbitrary text to the `--payloads` parser, then draws bodies from what it accepted:
//! every input must be refused with a message or give a workload whose draws work.
#![no_main]

use fnstress::payload::Workload;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(workload) = Workload::from_payload_lines(text, "fuzz.jsonl") {
        let mut picker = workload.picker(7, 42);
        for _ in 0..8 {
            let (operation, _body) = picker.draw();
            assert!((operation as usize) < workload.operations.len());
        }
    }
});
