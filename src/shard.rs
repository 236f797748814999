//! `--shard I/N`: one of N processes that together make the load of one run, on one machine
//! or as the pods of a Kubernetes Indexed Job. Each shard takes an exact share of the request
//! budget, 1/N of the rate and, when asked, its share of the workers; its report is labelled
//! with the shard so that `fnstress report` can merge the N reports into one.

use crate::config::{expect_str, get_bool, Load, RunConfig};
use crate::engine::pacer::Schedule;
use crate::error::Result as CrateResult;
use crate::options::Layers;

/// This process's place among the shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// From 0 to `count - 1` (Kubernetes' `JOB_COMPLETION_INDEX` is 0-based too).
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// Parses `I/N` with `0 <= I < N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let accepted = "expected I/N with I from 0 to N-1, e.g. 0/3";
        let (i, n) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("'{text}' is not I/N; {accepted}"))?;
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("'{text}': '{i}' is not a whole number; {accepted}"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("'{text}': '{n}' is not a whole number; {accepted}"))?;
        if count == 0 || count > 100_000 {
            return Err(format!("'{text}': N must be from 1 to 100000"));
        }
        if index >= count {
            return Err(format!(
                "'{text}': the index is 0-based, so it must be below {count}; {accepted}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// This shard's part of `total` whole things: the first `total % N` shards take one more,
    /// so the parts of all shards add up to `total` exactly.
    pub fn share(&self, total: u64) -> u64 {
        total / self.count + u64::from(self.index < total % self.count)
    }

    /// How many of `total` things the shards before this one take.
    pub fn before(&self, total: u64) -> u64 {
        (0..self.index)
            .map(|i| Shard { index: i, ..*self }.share(total))
            .sum()
    }
}

/// Reads `--shard` and `--split-concurrency` and cuts the run's load down to this shard's
/// share: the request budget exactly (the shares add up to `-n`), the rate (constant or
/// staged) divided by N, and with `--split-concurrency` the workers as the request budget.
pub fn apply(layers: &Layers, cfg: &mut RunConfig) -> CrateResult<()> {
    let split = get_bool(layers, "split_concurrency")?.unwrap_or(false);
    let Some(setting) = layers.get("shard") else {
        if let (true, Some(s)) = (split, layers.get("split_concurrency")) {
            return Err(s.error("needs --shard I/N to know the share"));
        }
        return Ok(());
    };
    let shard = Shard::parse(expect_str(setting)?).map_err(|m| setting.error(m))?;
    if let Some(total) = cfg.requests {
        let share = shard.share(total);
        if share == 0 {
            return Err(setting.error(format!(
                "a request budget of {total} leaves no invocation for shard {}; use at \
                 least {} invocations or fewer shards",
                shard.index, shard.count
            )));
        }
        cfg.requests = Some(share);
    }
    let n = shard.count as f64;
    match &mut cfg.load {
        Load::Open(Schedule::Constant(rate)) => *rate /= n,
        Load::Open(Schedule::Ramp(stages)) => {
            for st in &mut stages.0 {
                st.target /= n;
            }
        }
        Load::Closed {
            stages: Some(_), ..
        } if split => {
            let s = layers.get("split_concurrency").expect("set when split");
            return Err(
                s.error("cannot be combined with worker --stages; each shard runs the whole ramp")
            );
        }
        Load::Closed { .. } => {}
    }
    let total = cfg.concurrency as u64;
    if split {
        let share = shard.share(total);
        if share == 0 {
            return Err(setting.error(format!(
                "--concurrency {total} leaves no worker for shard {} with --split-concurrency",
                shard.index
            )));
        }
        cfg.concurrency = share as usize;
        cfg.first_worker = shard.before(total) as u32;
    } else {
        cfg.first_worker = (shard.index * total).min(u64::from(u32::MAX)) as u32;
    }
    cfg.shard = Some(shard);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_is_zero_based() {
        assert_eq!(Shard::parse("0/3"), Ok(Shard { index: 0, count: 3 }));
        assert_eq!(Shard::parse(" 2 / 3 "), Ok(Shard { index: 2, count: 3 }));
        let table = [
            ("3/3", "must be below 3"),
            ("1", "is not I/N"),
            ("a/3", "'a' is not a whole number"),
            ("0/0", "N must be from 1"),
            ("-1/3", "is not a whole number"),
        ];
        for (text, want) in table {
            let e = Shard::parse(text).unwrap_err();
            assert!(e.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn shares_add_up_to_the_total() {
        // (total, shards, each share)
        let table: [(u64, u64, &[u64]); 4] = [
            (1000, 3, &[334, 333, 333]),
            (10, 4, &[3, 3, 2, 2]),
            (2, 3, &[1, 1, 0]),
            (9, 1, &[9]),
        ];
        for (total, count, want) in table {
            let shares: Vec<u64> = (0..count)
                .map(|index| Shard { index, count }.share(total))
                .collect();
            assert_eq!(shares, want, "{total} over {count}");
            assert_eq!(shares.iter().sum::<u64>(), total);
        }
        assert_eq!(Shard { index: 2, count: 4 }.before(10), 6);
    }
}
