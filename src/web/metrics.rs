//! `/metrics`: request counts and latencies in the Prometheus text format.
//!
//! Every request is counted, so counting must cost next to nothing. prometheus-client's own
//! `Family` and `Histogram` take a lock on every observation, a cache line that every worker's
//! core writes in turn. Here each worker thread counts in its own [`Shard`] (given out in turn
//! the first time a thread counts), and a scrape adds the shards up: a request writes only
//! memory its own core already holds. The figures are those of a `Family` of counters by method
//! and status and a histogram of latencies, encoded by prometheus-client.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::registry::Registry;

/// The methods counted by name; any other is counted as `OTHER`, so a client inventing methods
/// cannot grow the label set without bound.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
];
/// Statuses 100 to 599, one slot each.
const FIRST_STATUS: u16 = 100;
const STATUSES: usize = 500;
/// Upper bounds of the latency buckets, in seconds: 0.25 ms to about 4 s, doubling.
const BUCKETS: usize = 15;
/// More shards than a machine has workers as a rule; threads beyond share one, which is still
/// correct, only slower.
const SHARDS: usize = 16;

fn bucket_bound(i: usize) -> f64 {
    0.00025 * f64::from(1u32 << i)
}

fn method_index(method: &str) -> usize {
    METHODS[..METHODS.len() - 1]
        .iter()
        .position(|m| *m == method)
        .unwrap_or(METHODS.len() - 1)
}

/// One thread's counts. Aligned so two shards never share a cache line.
#[repr(align(128))]
struct Shard {
    /// By method, then status.
    requests: Box<[AtomicU64]>,
    /// Observations at or under each bound (not cumulative), then above the last.
    buckets: [AtomicU64; BUCKETS + 1],
    sum_nanos: AtomicU64,
}

impl Default for Shard {
    fn default() -> Self {
        Shard {
            requests: (0..METHODS.len() * STATUSES)
                .map(|_| AtomicU64::new(0))
                .collect(),
            buckets: Default::default(),
            sum_nanos: AtomicU64::new(0),
        }
    }
}

fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|i| *i)
}

#[derive(Default)]
struct Counts {
    shards: [Shard; SHARDS],
}

impl std::fmt::Debug for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Counts")
    }
}

#[derive(EncodeLabelSet, Debug)]
struct RequestLabels {
    method: &'static str,
    status: u16,
}

impl Counts {
    fn observe(&self, method: &str, status: u16, elapsed: Duration) {
        let shard = &self.shards[shard_index()];
        let status = usize::from(status.saturating_sub(FIRST_STATUS)).min(STATUSES - 1);
        shard.requests[method_index(method) * STATUSES + status].fetch_add(1, Ordering::Relaxed);
        let seconds = elapsed.as_secs_f64();
        let bucket = (0..BUCKETS)
            .find(|&i| seconds <= bucket_bound(i))
            .unwrap_or(BUCKETS);
        shard.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        shard.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn total(&self, read: impl Fn(&Shard) -> &AtomicU64) -> u64 {
        self.shards
            .iter()
            .map(|s| read(s).load(Ordering::Relaxed))
            .fold(0, u64::wrapping_add)
    }
}

impl Collector for Counts {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut requests = encoder.encode_descriptor(
            "http_requests",
            "HTTP requests served",
            None,
            MetricType::Counter,
        )?;
        for (m, method) in METHODS.iter().enumerate() {
            for s in 0..STATUSES {
                let n = self.total(|shard| &shard.requests[m * STATUSES + s]);
                if n == 0 {
                    continue;
                }
                let labels = RequestLabels {
                    method,
                    status: FIRST_STATUS + s as u16,
                };
                ConstCounter::new(n).encode(requests.encode_family(&labels)?)?;
            }
        }

        // Counts per bucket: the encoder makes them cumulative.
        let buckets: Vec<(f64, u64)> = (0..=BUCKETS)
            .map(|i| {
                let bound = if i == BUCKETS {
                    f64::MAX
                } else {
                    bucket_bound(i)
                };
                (bound, self.total(|shard| &shard.buckets[i]))
            })
            .collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = self.total(|shard| &shard.sum_nanos) as f64 / 1e9;
        let mut latency = encoder.encode_descriptor(
            "http_request_duration_seconds",
            "Time to serve a request",
            None,
            MetricType::Histogram,
        )?;
        latency.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }
}

pub struct Metrics {
    registry: Registry,
    counts: Arc<Counts>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("caisse");
        let counts = Arc::new(Counts::default());
        registry.register_collector(Box::new(Arc::clone(&counts)));
        Metrics { registry, counts }
    }
}

impl Metrics {
    pub fn observe(&self, method: &str, status: u16, elapsed: Duration) {
        self.counts.observe(method, status, elapsed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_every_thread_are_added_up_by_method_and_status() {
        let metrics = Arc::new(Metrics::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = Arc::clone(&metrics);
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        m.observe("GET", 200, Duration::from_micros(100));
                    }
                    m.observe("BREW", 418, Duration::from_millis(3));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        metrics.observe("POST", 201, Duration::from_secs(30));
        let text = metrics.render();
        assert!(
            text.contains("caisse_http_requests_total{method=\"GET\",status=\"200\"} 400\n"),
            "{text}"
        );
        assert!(text.contains("caisse_http_requests_total{method=\"OTHER\",status=\"418\"} 4\n"));
        assert!(text.contains("caisse_http_requests_total{method=\"POST\",status=\"201\"} 1\n"));
        assert!(
            !text.contains("status=\"404\""),
            "only statuses seen are listed"
        );
        // 400 at 0.1 ms fall in the first bucket; 4 at 3 ms in the 4 ms one; 30 s above all.
        assert!(text.contains("caisse_http_request_duration_seconds_bucket{le=\"0.00025\"} 400\n"));
        assert!(text.contains("caisse_http_request_duration_seconds_bucket{le=\"0.002\"} 400\n"));
        assert!(text.contains("caisse_http_request_duration_seconds_bucket{le=\"0.004\"} 404\n"));
        assert!(text.contains("caisse_http_request_duration_seconds_bucket{le=\"+Inf\"} 405\n"));
        assert!(text.contains("caisse_http_request_duration_seconds_count 405\n"));
        let sum: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("caisse_http_request_duration_seconds_sum "))
            .and_then(|v| v.parse().ok())
            .expect("a sum");
        assert!((sum - (0.04 + 0.012 + 30.0)).abs() < 1e-6, "{sum}");
    }
}
