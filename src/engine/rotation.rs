//! Which function each invocation of a worker goes to. A smooth weighted round-robin rather
//! than a random draw: every worker keeps the weights exactly over each cycle, spread out
//! within it, so even a short run splits as asked and the gateway's counts can be checked
//! against the weights. Workers start at different points of the cycle so they do not all
//! invoke the same function at once.

/// One worker's position in the weighted cycle of functions.
pub struct Rotation {
    weights: Vec<i64>,
    current: Vec<i64>,
    total: i64,
}

impl Rotation {
    /// A rotation over `weights` (each at least 1), advanced `phase` steps.
    pub fn new(weights: impl Iterator<Item = u32>, phase: u64) -> Rotation {
        let weights: Vec<i64> = weights.map(i64::from).collect();
        let total = weights.iter().sum();
        let mut r = Rotation {
            current: vec![0; weights.len()],
            weights,
            total,
        };
        for _ in 0..phase % total.max(1) as u64 {
            r.next_index();
        }
        r
    }

    /// The index of the next function.
    pub fn next_index(&mut self) -> u16 {
        let mut best = 0;
        for i in 0..self.current.len() {
            self.current[i] += self.weights[i];
            if self.current[i] > self.current[best] {
                best = i;
            }
        }
        self.current[best] -= self.total;
        best as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cycle_keeps_the_weights_and_spreads_them() {
        let table: [(&[u32], u64, &[u16]); 4] = [
            // 3:1 spreads the 1 out instead of running the 3 back to back first
            (&[3, 1], 0, &[0, 0, 1, 0, 0, 0, 1, 0]),
            // equal weights alternate
            (&[1, 1], 0, &[0, 1, 0, 1]),
            // a phase starts the worker further along the same cycle
            (&[1, 1], 1, &[1, 0, 1, 0]),
            // one function: always it
            (&[5], 3, &[0, 0, 0]),
        ];
        for (weights, phase, want) in table {
            let mut r = Rotation::new(weights.iter().copied(), phase);
            let got: Vec<u16> = (0..want.len()).map(|_| r.next_index()).collect();
            assert_eq!(got, want, "{weights:?} phase {phase}");
        }
        let mut r = Rotation::new([5, 2, 3].into_iter(), 4);
        let mut counts = [0; 3];
        for _ in 0..1000 {
            counts[r.next_index() as usize] += 1;
        }
        assert_eq!(counts, [500, 200, 300]);
    }
}
