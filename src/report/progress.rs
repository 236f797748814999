//! Progress of a running test on stderr. On a terminal it is a redrawn bar (elapsed and
//! remaining time, completed, current rate, errors, current p99); elsewhere (CI, containers,
//! files) it is one plain line every `--progress-interval`, so logs get a steady heartbeat
//! without control codes. The collector feeds it; recording a latency is its only per-outcome
//! work.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::RunConfig;
use crate::duration::ms;
use crate::stats::{new_histogram, Stats};

/// How often the bar is redrawn on a terminal.
const BAR_TICK: Duration = Duration::from_millis(200);

/// Rate and p99 on the bar cover this much recent time.
const BAR_WINDOW: Duration = Duration::from_secs(1);

/// Scale of the bar's position (per mille of the planned run).
const BAR_LENGTH: u64 = 1000;

enum Display {
    Bar(ProgressBar),
    Lines,
}

/// The progress display of one run.
pub struct Progress {
    display: Display,
    /// Figures (rate, p99) are recomputed at this interval.
    window: Duration,
    duration: Option<Duration>,
    requests: Option<u64>,
    latencies: Histogram<u64>,
    last_figure: Option<(Instant, u64)>,
    rate: f64,
    p99_us: u64,
}

impl Progress {
    /// The display for a run, or `None` under `-q`. A bar when stderr is a terminal (plain,
    /// without colours, when `NO_COLOR` is set), plain lines otherwise.
    pub fn new(cfg: &RunConfig) -> Option<Progress> {
        if cfg.quiet {
            return None;
        }
        let stderr = std::io::stderr();
        let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
        let display = if stderr.is_terminal() && !dumb {
            Display::Bar(bar(no_color()))
        } else {
            Display::Lines
        };
        let window = match display {
            Display::Bar(_) => BAR_WINDOW,
            Display::Lines => cfg.progress_interval,
        };
        Some(Progress {
            display,
            window,
            duration: cfg.duration,
            requests: cfg.requests,
            latencies: new_histogram(),
            last_figure: None,
            rate: 0.0,
            p99_us: 0,
        })
    }

    /// Counts one completed invocation's latency toward the current p99.
    pub fn record(&mut self, latency_us: u64) {
        // Saturation only happens past the histogram's auto-resize limit.
        let _ = self.latencies.record(latency_us.max(1));
    }

    /// How long the collector may wait before calling [`Progress::tick`] again.
    pub fn tick_every(&self) -> Duration {
        match self.display {
            Display::Bar(_) => BAR_TICK,
            Display::Lines => self.window,
        }
    }

    /// Updates the display; `elapsed` runs from the release of the workers.
    pub fn tick(&mut self, stats: &Stats, elapsed: Duration, now: Instant) {
        let completed = stats.counts.completed();
        let (since, before) = *self.last_figure.get_or_insert((now - elapsed, 0));
        let span = now.saturating_duration_since(since);
        // A tick a little early (the collector's wake-up is not exact) still closes the window.
        if span + Duration::from_millis(50) >= self.window {
            self.rate = (completed - before) as f64 / span.as_secs_f64().max(1e-9);
            self.p99_us = if self.latencies.is_empty() {
                0
            } else {
                self.latencies.value_at_quantile(0.99)
            };
            self.latencies.reset();
            self.last_figure = Some((now, completed));
        } else if matches!(self.display, Display::Lines) {
            return;
        }
        let errors = stats.counts.errors();
        let remaining = self.remaining(elapsed, completed);
        match &self.display {
            Display::Bar(bar) => {
                bar.set_position((self.fraction(elapsed, completed) * BAR_LENGTH as f64) as u64);
                bar.set_message(format!(
                    "{} left | {completed} done | {:.0}/s | errors {errors} | p99 {} ms",
                    remaining.map_or("?".into(), clock),
                    self.rate,
                    ms(self.p99_us),
                ));
            }
            Display::Lines => {
                let percent = self.fraction(elapsed, completed) * 100.0;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "fnstress: [{:>5.0}s] {percent:>3.0}% completed {completed}, {:.0}/s, \
                     errors {errors}, p99 {} ms, {} left",
                    elapsed.as_secs_f64(),
                    self.rate,
                    ms(self.p99_us),
                    remaining.map_or("?".into(), clock),
                );
            }
        }
    }

    /// Removes the bar so the report starts on a clean line.
    pub fn finish(&self) {
        if let Display::Bar(bar) = &self.display {
            bar.finish_and_clear();
        }
    }

    fn fraction(&self, elapsed: Duration, completed: u64) -> f64 {
        fraction_done(self.duration, self.requests, elapsed, completed)
    }

    /// Time left: until the deadline, or at the current rate until the budget is spent,
    /// whichever comes first.
    fn remaining(&self, elapsed: Duration, completed: u64) -> Option<Duration> {
        let by_time = self.duration.map(|d| d.saturating_sub(elapsed));
        let by_count = self
            .requests
            .filter(|_| self.rate > 0.0)
            .map(|n| Duration::from_secs_f64(n.saturating_sub(completed) as f64 / self.rate));
        match (by_time, by_count) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// Share of the planned run done: by time, by count, or the larger when both bound it.
pub fn fraction_done(
    duration: Option<Duration>,
    requests: Option<u64>,
    elapsed: Duration,
    completed: u64,
) -> f64 {
    let by_time = duration.map(|d| elapsed.as_secs_f64() / d.as_secs_f64().max(1e-9));
    let by_count = requests.map(|n| completed as f64 / n as f64);
    by_time
        .into_iter()
        .chain(by_count)
        .fold(0.0, f64::max)
        .min(1.0)
}

/// `NO_COLOR` set to anything non-empty turns colours off.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn bar(plain: bool) -> ProgressBar {
    let template = if plain {
        "{spinner} {elapsed_precise} [{bar:30}] {percent:>3}% {msg}"
    } else {
        "{spinner:.green} {elapsed_precise} [{bar:30.cyan/blue}] {percent:>3}% {msg}"
    };
    let style = ProgressStyle::with_template(template)
        .expect("the template is valid")
        .progress_chars("=> ");
    let bar = ProgressBar::with_draw_target(Some(BAR_LENGTH), ProgressDrawTarget::stderr());
    bar.set_style(style);
    bar
}

/// `1:05` or `1:02:03`, rounded up so that time left reads 0:00 only at the end.
fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().ceil() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_like_a_timer() {
        assert_eq!(clock(Duration::from_secs(65)), "1:05");
        assert_eq!(clock(Duration::from_secs(3723)), "1:02:03");
        assert_eq!(clock(Duration::ZERO), "0:00");
        assert_eq!(clock(Duration::from_millis(2100)), "0:03");
    }
}
