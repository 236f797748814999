//! What each invocation sends: a weighted mix of operations (the default, so the target
//! produces varied metrics), weighted bodies from a payload file, or one fixed body. Every
//! worker draws from its own seeded generator, so `--seed` makes each worker's sequence
//! reproducible.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use serde_json::Value;

/// One weighted choice of the mix.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    /// Index into [`Workload::operations`].
    pub operation: u16,
    /// Relative weight (at least 1).
    pub weight: u32,
    /// The body; `None` for operations, whose body is built per worker.
    pub body: Option<Vec<u8>>,
}

/// The body mix of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// Distinct operation names, in first-seen order; reports key their tables on these.
    pub operations: Vec<String>,
    /// Weighted choices.
    pub choices: Vec<Choice>,
    /// Where the mix came from, for the report: `ops`, `payloads FILE` or `body`.
    pub source: String,
}

impl Workload {
    /// True when the bodies are the user's (`--body`, `--body-file`, `--payloads`) rather than
    /// the generated event: those are sent whatever the method.
    pub fn is_users_body(&self) -> bool {
        self.source != "ops"
    }
}

/// The default operations of the `custom-metrics` demo function.
pub const DEFAULT_OPS: &str = "default,fast,slow,error";

impl Workload {
    /// Parses an `--ops` text: `fast=3,slow=1,error` (weights default to 1).
    pub fn from_ops_text(text: &str) -> Result<Workload, String> {
        let mut pairs = Vec::new();
        for part in text.split(',').map(str::trim) {
            if part.is_empty() {
                return Err(format!(
                    "'{text}' has an empty entry; write e.g. fast=3,slow=1,error"
                ));
            }
            let (name, weight) = match part.split_once('=') {
                Some((n, w)) => {
                    let w: u32 = w.trim().parse().map_err(|_| {
                        format!("weight '{w}' of '{n}' must be a whole number from 1 to 1000000")
                    })?;
                    (n.trim(), w)
                }
                None => (part, 1),
            };
            pairs.push((name.to_string(), weight));
        }
        Workload::from_ops(pairs)
    }

    /// Builds an operation mix from names and weights.
    pub fn from_ops(pairs: Vec<(String, u32)>) -> Result<Workload, String> {
        let mut w = Workload {
            operations: vec![],
            choices: vec![],
            source: "ops".into(),
        };
        for (name, weight) in pairs {
            if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
                return Err(format!(
                    "operation name '{name}' must be 1 to 64 printable chars"
                ));
            }
            if !(1..=1_000_000).contains(&weight) {
                return Err(format!(
                    "weight {weight} of '{name}' must be from 1 to 1000000"
                ));
            }
            if w.operations.contains(&name) {
                return Err(format!("operation '{name}' is listed twice"));
            }
            w.operations.push(name);
            let operation = (w.operations.len() - 1) as u16;
            w.choices.push(Choice {
                operation,
                weight,
                body: None,
            });
        }
        if w.choices.is_empty() {
            return Err("the mix needs at least one operation".into());
        }
        if w.operations.len() > u16::MAX as usize {
            return Err(format!("more than {} operations", u16::MAX));
        }
        w.check_total_weight().map(|_| w)
    }

    /// The weighted draw sums the weights in a `u32`; a larger sum is refused here rather than
    /// failing when the first worker starts.
    fn check_total_weight(&self) -> Result<(), String> {
        let total: u64 = self.choices.iter().map(|c| u64::from(c.weight)).sum();
        if total > u64::from(u32::MAX) {
            return Err(format!(
                "the weights add up to {total}, above the limit of {}",
                u32::MAX
            ));
        }
        Ok(())
    }

    /// One fixed body for every invocation.
    pub fn fixed(body: Vec<u8>) -> Workload {
        Workload {
            operations: vec!["body".into()],
            choices: vec![Choice {
                operation: 0,
                weight: 1,
                body: Some(body),
            }],
            source: "body".into(),
        }
    }

    /// Parses a payload file: one JSON value per line, each a body with weight 1, or a wrapper
    /// `{"body": ..., "weight": 3, "name": "big"}`. Blank lines and lines starting with `#` are
    /// skipped. The operation name is `name`, else the body's `operation` string, else
    /// `line N`.
    pub fn from_payload_lines(text: &str, file: &str) -> Result<Workload, String> {
        let mut w = Workload {
            operations: vec![],
            choices: vec![],
            source: "payloads".into(),
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let n = i + 1;
            let value: Value = serde_json::from_str(line)
                .map_err(|e| format!("{file} line {n}: invalid JSON ({e})"))?;
            let (body, weight, name) = unwrap_payload(&value, n, file)?;
            let name = name.unwrap_or_else(|| match body.get("operation") {
                Some(Value::String(op)) => op.clone(),
                _ => format!("line {n}"),
            });
            let operation = match w.operations.iter().position(|o| *o == name) {
                Some(p) => p,
                None => {
                    w.operations.push(name);
                    w.operations.len() - 1
                }
            };
            if w.operations.len() > u16::MAX as usize {
                return Err(format!(
                    "{file}: more than {} distinct operations",
                    u16::MAX
                ));
            }
            let bytes = serde_json::to_vec(body).expect("a parsed value serializes");
            w.choices.push(Choice {
                operation: operation as u16,
                weight,
                body: Some(bytes),
            });
        }
        if w.choices.is_empty() {
            return Err(format!(
                "{file}: no payload lines (expected one JSON body per line)"
            ));
        }
        w.check_total_weight().map_err(|m| format!("{file}: {m}"))?;
        Ok(w)
    }

    /// A picker for one worker: its own generator and the bodies it sends.
    pub fn picker(&self, worker: u32, seed: u64) -> Picker {
        let weights = self.choices.iter().map(|c| c.weight);
        let index = WeightedIndex::new(weights).expect("weights were validated");
        let bodies = self
            .choices
            .iter()
            .map(|c| match &c.body {
                Some(b) => b.clone(),
                None => operation_body(&self.operations[c.operation as usize], worker),
            })
            .collect();
        let ops = self.choices.iter().map(|c| c.operation).collect();
        Picker {
            rng: SmallRng::seed_from_u64(worker_seed(seed, worker)),
            index,
            bodies,
            ops,
        }
    }
}

/// Splits a payload line into body, weight and name.
fn unwrap_payload<'a>(
    v: &'a Value,
    n: usize,
    file: &str,
) -> Result<(&'a Value, u32, Option<String>), String> {
    let Value::Object(obj) = v else {
        return Ok((v, 1, None));
    };
    let wrapper = obj.contains_key("body")
        && obj
            .keys()
            .all(|k| matches!(k.as_str(), "body" | "weight" | "name"));
    if !wrapper {
        // A body beside a near-miss of a wrapper key is almost surely a typo, not a body.
        if obj.contains_key("body") {
            for key in obj.keys().filter(|k| k.as_str() != "body") {
                let hint = crate::options::suggest(key, ["weight", "name"].into_iter());
                if !hint.is_empty() {
                    return Err(format!("{file} line {n}: unknown key '{key}'{hint}"));
                }
            }
        }
        return Ok((v, 1, None));
    }
    let weight = match obj.get("weight") {
        None => 1,
        Some(w) => match w.as_u64() {
            Some(w @ 1..=1_000_000) => w as u32,
            _ => {
                return Err(format!(
                    "{file} line {n}: \"weight\" must be a whole number 1..1000000"
                ))
            }
        },
    };
    let name = match obj.get("name") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(_) => {
            return Err(format!(
                "{file} line {n}: \"name\" must be a non-empty string"
            ))
        }
    };
    Ok((&obj["body"], weight, name))
}

/// The JSON body of an operation, as the `custom-metrics` demo function expects it.
fn operation_body(operation: &str, worker: u32) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"operation": operation, "worker_id": worker}))
        .expect("a JSON literal serializes")
}

/// Mixes the run seed with the worker index so that workers draw different sequences.
fn worker_seed(seed: u64, worker: u32) -> u64 {
    seed ^ (u64::from(worker) + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// One worker's source of bodies.
pub struct Picker {
    rng: SmallRng,
    index: WeightedIndex<u32>,
    bodies: Vec<Vec<u8>>,
    ops: Vec<u16>,
}

impl Picker {
    /// Draws the next operation index and its body.
    pub fn draw(&mut self) -> (u16, &[u8]) {
        let i = self.index.sample(&mut self.rng);
        (self.ops[i], &self.bodies[i])
    }

    /// The worker's generator, for other seeded draws (think time).
    pub fn rng(&mut self) -> &mut SmallRng {
        &mut self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_summing_past_u32_are_refused_before_any_draw() {
        // 4295 payload lines of the largest weight add up to more than u32::MAX.
        let line = "{\"body\": 1, \"weight\": 1000000}\n";
        let e = Workload::from_payload_lines(&line.repeat(4295), "p.jsonl").unwrap_err();
        assert!(
            e.starts_with("p.jsonl: the weights add up to 4295000000"),
            "{e}"
        );
        // One line fewer fits, and a picker can be built from it.
        let w = Workload::from_payload_lines(&line.repeat(4294), "p.jsonl").unwrap();
        w.picker(0, 1).draw();
        // The same limit holds for an operation mix.
        let pairs = (0..4295).map(|i| (format!("op{i}"), 1_000_000)).collect();
        assert!(Workload::from_ops(pairs)
            .unwrap_err()
            .contains("weights add up"));
    }

    #[test]
    fn ops_text_parses_weights_and_defaults() {
        let w = Workload::from_ops_text("fast=3, slow=1,error").unwrap();
        assert_eq!(w.operations, ["fast", "slow", "error"]);
        let weights: Vec<u32> = w.choices.iter().map(|c| c.weight).collect();
        assert_eq!(weights, [3, 1, 1]);
    }

    #[test]
    fn bad_ops_are_rejected() {
        for bad in ["", "fast=", "fast=0", "fast=x", "a,,b", "a,a", "fast=-1"] {
            assert!(Workload::from_ops_text(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_mix_follows_the_weights() {
        let w = Workload::from_ops_text("a=3,b=1").unwrap();
        let mut p = w.picker(0, 7);
        let n = 40_000;
        let a = (0..n).filter(|_| p.draw().0 == 0).count();
        // 3:1 means 75% a; 40k draws put the share well within half a percent.
        assert!((a as f64 / n as f64 - 0.75).abs() < 0.01, "{a}");
    }

    #[test]
    fn a_seed_reproduces_the_sequence() {
        let w = Workload::from_ops_text(DEFAULT_OPS).unwrap();
        let draw = |seed| {
            let mut p = w.picker(3, seed);
            (0..50).map(|_| p.draw().0).collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn operation_bodies_carry_the_worker() {
        let w = Workload::from_ops_text("fast").unwrap();
        let mut p = w.picker(9, 1);
        let body: Value = serde_json::from_slice(p.draw().1).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"operation": "fast", "worker_id": 9})
        );
    }

    #[test]
    fn payload_lines_with_wrappers_and_names() {
        let text =
            "{\"operation\":\"fast\"}\n# comment\n\n{\"body\":[1],\"weight\":2,\"name\":\"x\"}\n7";
        let w = Workload::from_payload_lines(text, "p.jsonl").unwrap();
        assert_eq!(w.operations, ["fast", "x", "line 5"]);
        assert_eq!(w.choices[1].weight, 2);
        assert_eq!(w.choices[1].body.as_deref(), Some(&b"[1]"[..]));
    }

    #[test]
    fn bad_payload_lines_name_the_line() {
        let e = Workload::from_payload_lines("{}\n{oops", "p.jsonl").unwrap_err();
        assert!(e.starts_with("p.jsonl line 2: invalid JSON"), "{e}");
        let e = Workload::from_payload_lines("{\"body\":1,\"weight\":0}", "p").unwrap_err();
        assert!(e.contains("weight"), "{e}");
        assert!(Workload::from_payload_lines("\n# only\n", "p").is_err());
        let e = Workload::from_payload_lines("{\"body\":1,\"wieght\":2}", "p").unwrap_err();
        assert!(e.contains("did you mean 'weight'"), "{e}");
    }
}
