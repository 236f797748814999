//! The per-client request limit behind `--rate-limit`: a token bucket per client IP that
//! holds a minute's worth of requests and refills steadily, so that a client gets its
//! allowance spread over the minute and learns from `Retry-After` when to come back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Past this many clients, buckets that are full again are dropped (they equal new ones).
const PRUNE_ABOVE: usize = 4096;

/// What the limiter decided about one request.
#[derive(Debug, PartialEq)]
pub enum Decision {
    Allowed,
    /// Over the limit; a token will be back after this many whole seconds (at least 1).
    Throttled {
        retry_after_secs: u64,
    },
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Requests per minute per client IP.
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl RateLimiter {
    /// A limiter allowing `per_minute` requests per client (at least 1).
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute: f64::from(per_minute.max(1)),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token for `client` at `now`, or says how long to wait for one.
    pub fn check(&self, client: IpAddr, now: Instant) -> Decision {
        let per_second = self.per_minute / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            let full = self.per_minute;
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second
                    < full
            });
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: self.per_minute,
            updated: now,
        });
        let refill = now.saturating_duration_since(bucket.updated).as_secs_f64() * per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.per_minute);
        bucket.updated = bucket.updated.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed
        } else {
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / per_second);
            Decision::Throttled {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn allows_a_minute_of_requests_then_throttles_with_a_retry_time() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(A, t0), Decision::Allowed);
        }
        // 3 per minute: one token every 20 s
        assert_eq!(
            limiter.check(A, t0),
            Decision::Throttled {
                retry_after_secs: 20
            }
        );
        // another client has its own bucket
        assert_eq!(limiter.check(B, t0), Decision::Allowed);
        // 15 s later a quarter of a token is still missing: 5 s to wait
        let t15 = t0 + Duration::from_secs(15);
        assert_eq!(
            limiter.check(A, t15),
            Decision::Throttled {
                retry_after_secs: 5
            }
        );
        // after 20 s one request goes through, then the bucket is empty again
        let t20 = t0 + Duration::from_secs(20);
        assert_eq!(limiter.check(A, t20), Decision::Allowed);
        assert!(matches!(limiter.check(A, t20), Decision::Throttled { .. }));
    }

    #[test]
    fn retry_after_is_at_least_one_second() {
        let limiter = RateLimiter::new(6000);
        let t0 = Instant::now();
        for _ in 0..6000 {
            limiter.check(A, t0);
        }
        assert_eq!(
            limiter.check(A, t0),
            Decision::Throttled {
                retry_after_secs: 1
            }
        );
    }

    #[test]
    fn full_buckets_are_pruned_when_many_clients_came() {
        let limiter = RateLimiter::new(60);
        let t0 = Instant::now();
        for i in 0..=PRUNE_ABOVE as u32 {
            limiter.check(IpAddr::V4(i.into()), t0);
        }
        // a minute later every bucket is full again and goes
        limiter.check(A, t0 + Duration::from_secs(60));
        assert!(limiter.buckets.lock().unwrap().len() <= 2);
    }
}
