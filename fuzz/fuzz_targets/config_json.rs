//! Feeds arbitrary text through the path of a `-d/--data` event: JSON parsing, key checks and
//! layering, then validation into a `RunConfig` and the redacted configuration of reports.
//! Any input must end in a config or a usage error, never a panic.
#![no_main]

use fnstress::config::{RunConfig, RUN_SPECS};
use fnstress::options::{self, Layers, Origin};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Keys naming files are dropped: reading whatever path the fuzzer spells (a device, a huge
/// file) tests the file system, not the parser. The payload parser has its own target.
const FILE_KEYS: [&str; 3] = ["body_file", "payloads", "config"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mut json) = options::parse_event(text, "-d/--data") else {
        return;
    };
    if let Value::Object(map) = &mut json {
        for key in FILE_KEYS {
            map.remove(key);
        }
    }
    let mut layers = Layers::default();
    if layers.merge_json(RUN_SPECS, &json, Origin::Event).is_err() {
        return;
    }
    if let Ok(cfg) = RunConfig::from_layers(&layers) {
        let _ = cfg.redacted_json().to_string();
        let mut picker = cfg.workload.picker(0, cfg.seed);
        for _ in 0..4 {
            picker.draw();
        }
    }
});
