//! Outcome intake: how many outcomes per second the collector can tally, through the channel
//! and into the stats, so that it never limits a run.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use fnstress::collector::{collect, Watchers};
use fnstress::outcome::{Event, Kind, Outcome};
use fnstress::stats::Stats;

const OUTCOMES: u64 = 200_000;

fn outcomes() -> Vec<Event> {
    (0..OUTCOMES)
        .map(|i| {
            let kind = if i % 50 == 0 {
                Kind::HttpError
            } else {
                Kind::Success
            };
            Event::Outcome(Outcome {
                worker: (i % 64) as u32,
                operation: (i % 4) as u16,
                kind,
                status: if kind == Kind::Success { 200 } else { 500 },
                latency_us: 200 + (i * 7919) % 50_000,
                end_us: i * 50,
                bytes: 3,
                corrected_us: 0,
                late_us: 0,
                detail: None,
                function: 0,
                init_us: None,
                connected: false,
                warmup: false,
                resent: false,
                truncated: false,
            })
        })
        .collect()
}

fn intake(c: &mut Criterion) {
    let ops: Vec<String> = ["default", "fast", "slow", "error"]
        .map(String::from)
        .to_vec();
    let mut group = c.benchmark_group("collector");
    group.throughput(Throughput::Elements(OUTCOMES));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("channel_and_stats", |b| {
        b.iter_batched(
            || {
                let (tx, rx) = crossbeam_channel::unbounded();
                for e in outcomes() {
                    tx.send(e).unwrap();
                }
                tx.send(Event::Finish).unwrap();
                rx
            },
            |rx| {
                let start = std::sync::OnceLock::new();
                let watch = Watchers {
                    progress: None,
                    board: None,
                    start: &start,
                    thresholds: None,
                };
                collect(rx, Stats::new(&ops, 64, false), watch)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, intake);
criterion_main!(benches);
