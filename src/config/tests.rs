//! Table tests of config layering and validation.

use super::*;

fn layers(event: Value, flags: &[(&'static str, &'static str, &str)]) -> Layers {
    let mut l = Layers::default();
    l.merge_json(RUN_SPECS, &event, Origin::Event).unwrap();
    for (key, flag, v) in flags {
        l.set(key, Value::String(v.to_string()), Origin::Flag(flag));
    }
    l
}

#[test]
fn defaults_follow_the_seed_tool() {
    let c = RunConfig::from_layers(&Layers::default()).unwrap();
    assert_eq!(c.concurrency, 5);
    assert_eq!(c.duration, Some(Duration::from_secs(60)));
    assert_eq!(c.target.function, "custom-metrics");
    assert_eq!(c.target.url, "http://127.0.0.1:8080/run/custom-metrics");
    assert_eq!(c.workload.operations, ["default", "fast", "slow", "error"]);
}

#[test]
fn flags_override_the_event_which_overrides_defaults() {
    let event = json!({"concurrency": 10, "duration": 120, "target_function": "f"});
    let c = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap();
    assert_eq!(
        (c.concurrency, c.duration),
        (10, Some(Duration::from_secs(120)))
    );
    assert_eq!(c.target.function, "f");
    let c = RunConfig::from_layers(&layers(event, &[("concurrency", "-c", "3")])).unwrap();
    assert_eq!(c.concurrency, 3);
}

#[test]
fn requests_alone_has_no_deadline() {
    let c = RunConfig::from_layers(&layers(json!({"requests": 10}), &[])).unwrap();
    assert_eq!((c.requests, c.duration), (Some(10), None));
}

#[test]
fn wrong_types_name_the_key() {
    let table = [
        (
            json!({"concurrency": "10"}),
            "key 'concurrency' in -d/--data: expected",
        ),
        (
            json!({"concurrency": 0}),
            "key 'concurrency' in -d/--data: '0' is not",
        ),
        (json!({"duration": -1}), "key 'duration'"),
        (
            json!({"quiet": "yes"}),
            "key 'quiet' in -d/--data: expected true or false",
        ),
        (
            json!({"headers": {"A": 1}}),
            "value of header 'A' must be a string",
        ),
        (json!({"ops": {"fast": 0}}), "weight 0 of 'fast'"),
    ];
    for (event, want) in table {
        let e = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap_err();
        assert!(e.to_string().contains(want), "{event}: {e}");
    }
}

#[test]
fn unknown_keys_suggest_the_closest() {
    let mut l = Layers::default();
    let e = l
        .merge_json(RUN_SPECS, &json!({"concurency": 3}), Origin::Event)
        .unwrap_err();
    assert!(e.to_string().contains("did you mean 'concurrency'"), "{e}");
}

#[test]
fn load_models_are_validated() {
    let c = RunConfig::from_layers(&layers(json!({"rate": "30000/m"}), &[])).unwrap();
    assert_eq!(c.load, Load::Open(Schedule::Constant(500.0)));
    let c = RunConfig::from_layers(&layers(json!({"stages": "10s:4,5s:0"}), &[])).unwrap();
    assert_eq!(
        (c.concurrency, c.duration),
        (4, Some(Duration::from_secs(15)))
    );
    let c = RunConfig::from_layers(&layers(json!({"think": "0..200ms"}), &[])).unwrap();
    let want = Some((Duration::ZERO, Duration::from_millis(200)));
    assert!(matches!(c.load, Load::Closed { think, .. } if think == want));
    let table = [
        (json!({"rate": "0"}), "key 'rate'"),
        (json!({"think": "5..1"}), "minimum is above the maximum"),
        (json!({"stages": "30s"}), "not DURATION:TARGET"),
        (
            json!({"stages": "5s:2", "duration": 3}),
            "cannot be combined",
        ),
        (json!({"rate": 5, "think": "0..1s"}), "closed model only"),
        (
            json!({"stages": "5s:8", "concurrency": 2}),
            "below the 8 workers",
        ),
    ];
    for (event, want) in table {
        let e = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap_err();
        assert!(e.to_string().contains(want), "{event}: {e}");
    }
}

#[test]
fn view_options_are_validated() {
    let c = RunConfig::from_layers(&Layers::default()).unwrap();
    assert_eq!(
        (c.progress_interval, c.dashboard, c.html_path),
        (Duration::from_secs(5), None, None)
    );
    let event = json!({"dashboard": "9100", "dashboard_linger": 30, "html": "r.html",
        "progress_interval": "2s"});
    let c = RunConfig::from_layers(&layers(event, &[])).unwrap();
    let d = c.dashboard.unwrap();
    assert_eq!(d.addr, "127.0.0.1:9100".parse().unwrap());
    assert_eq!(d.linger, Duration::from_secs(30));
    assert_eq!(d.option, "key 'dashboard' in -d/--data");
    assert_eq!(c.progress_interval, Duration::from_secs(2));
    assert_eq!(c.html_path, Some(PathBuf::from("r.html")));
    // every written form of an address, and what it means
    for (text, addr) in [
        (":9100", "127.0.0.1:9100"),
        ("localhost:0", "127.0.0.1:0"),
        ("0.0.0.0:9100", "0.0.0.0:9100"),
        ("[::1]:9100", "[::1]:9100"),
    ] {
        assert_eq!(parse_listen(text), Some(addr.parse().unwrap()), "{text}");
    }
    let table = [
        (
            json!({"dashboard": "nowhere"}),
            "key 'dashboard' in -d/--data: 'nowhere' is not",
        ),
        (json!({"dashboard": "1.2.3.4"}), "is not an address"),
        (
            json!({"dashboard_linger": "5s"}),
            "key 'dashboard_linger' in -d/--data: needs",
        ),
        (
            json!({"progress_interval": 0}),
            "key 'progress_interval' in -d/--data: must be",
        ),
        (
            json!({"html": 3}),
            "key 'html' in -d/--data: expected a string",
        ),
    ];
    for (event, want) in table {
        let e = RunConfig::from_layers(&layers(event.clone(), &[])).unwrap_err();
        assert!(e.to_string().contains(want), "{event}: {e}");
    }
}

#[test]
fn secrets_are_redacted() {
    let event = json!({"api_key": "s3cr3t", "headers": {"Authorization": "Bearer t0k"}});
    let c = RunConfig::from_layers(&layers(event, &[])).unwrap();
    let text = c.redacted_json().to_string();
    assert!(!text.contains("s3cr3t") && !text.contains("t0k"), "{text}");
}
