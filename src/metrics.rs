//! `jobrun start --metrics [ADDR:]PORT` (issue 10): Prometheus text from a small thread of its
//! own, built on the `prometheus-client` crate. The scheduler's loop updates the metrics as
//! runs start and end (atomic counters: no lock, no I/O on its side); the thread answers
//! `GET /metrics` from them. Labels are job names (and a run's outcome), never run ids, so
//! the series stay as many as the jobs.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    job: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    job: String,
    /// `success` or `failure`, by the job's rules.
    outcome: &'static str,
}

type Seconds = Gauge<f64, AtomicU64>;

/// Seconds, from 10 ms to about 3 hours (run durations).
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 4.0, 10))
}

/// Seconds, from 1 ms to about 4 minutes (how late runs start).
fn lateness_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 4.0, 10))
}

/// The scheduler's metrics; cheap to clone (every metric is shared).
#[derive(Clone)]
pub struct Metrics {
    runs: Family<RunLabels, Counter>,
    duration: Family<JobLabel, Histogram, fn() -> Histogram>,
    lateness: Family<JobLabel, Histogram, fn() -> Histogram>,
    next_fire: Family<JobLabel, Seconds>,
    last_success: Family<JobLabel, Seconds>,
    running: Family<JobLabel, Gauge>,
    missed: Family<JobLabel, Counter>,
}

impl Metrics {
    /// The metrics, and the registry that encodes them.
    fn new() -> (Metrics, Registry) {
        let metrics = Metrics {
            runs: Family::default(),
            duration: Family::new_with_constructor(duration_histogram),
            lateness: Family::new_with_constructor(lateness_histogram),
            next_fire: Family::default(),
            last_success: Family::default(),
            running: Family::default(),
            missed: Family::default(),
        };
        let mut registry = Registry::with_prefix("jobrun");
        registry.register(
            "runs",
            "Runs that ended, by job and outcome (success or failure, by the job's rules)",
            metrics.runs.clone(),
        );
        registry.register(
            "run_duration_seconds",
            "How long runs took, by job",
            metrics.duration.clone(),
        );
        registry.register(
            "start_lateness_seconds",
            "How long after their fire time runs started, by job",
            metrics.lateness.clone(),
        );
        registry.register(
            "next_fire_timestamp_seconds",
            "When each job fires next (Unix time)",
            metrics.next_fire.clone(),
        );
        registry.register(
            "last_success_timestamp_seconds",
            "When each job's last successful run ended (Unix time)",
            metrics.last_success.clone(),
        );
        registry.register(
            "running_runs",
            "Runs going now, by job",
            metrics.running.clone(),
        );
        registry.register(
            "missed_fires",
            "Fires not run because they were too late, by job",
            metrics.missed.clone(),
        );
        registry.register(
            "build",
            "jobrun's version",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        (metrics, registry)
    }

    /// Listens on `address` and serves the metrics from a thread; the metrics, and the address
    /// really bound (port 0 picks one).
    pub fn serve(address: SocketAddr) -> std::io::Result<(Metrics, SocketAddr)> {
        let listener = TcpListener::bind(address)?;
        let bound = listener.local_addr()?;
        let (metrics, registry) = Metrics::new();
        let registry = Arc::new(registry);
        std::thread::Builder::new()
            .name("jobrun-metrics".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    // One scrape at a time: Prometheus scrapes every few seconds, and a
                    // client that stalls is cut off by the timeouts.
                    answer(stream, &registry);
                }
            })?;
        Ok((metrics, bound))
    }

    pub fn run_started(&self, job: &str, lateness: chrono::TimeDelta) {
        let label = JobLabel {
            job: job.to_owned(),
        };
        self.lateness
            .get_or_create(&label)
            .observe(seconds(lateness).max(0.0));
        self.running.get_or_create(&label).inc();
    }

    pub fn run_ended(&self, job: &str, failed: bool, took: chrono::TimeDelta, now: DateTime<Utc>) {
        let label = JobLabel {
            job: job.to_owned(),
        };
        self.running.get_or_create(&label).dec();
        self.duration.get_or_create(&label).observe(seconds(took));
        let outcome = if failed { "failure" } else { "success" };
        self.runs
            .get_or_create(&RunLabels {
                job: job.to_owned(),
                outcome,
            })
            .inc();
        if !failed {
            self.last_success
                .get_or_create(&label)
                .set(seconds(now - DateTime::UNIX_EPOCH));
        }
    }

    /// A run that could not start: a failure that took no time.
    pub fn run_failed_to_start(&self, job: &str) {
        self.runs
            .get_or_create(&RunLabels {
                job: job.to_owned(),
                outcome: "failure",
            })
            .inc();
    }

    pub fn missed(&self, job: &str, fires: u64) {
        self.missed
            .get_or_create(&JobLabel {
                job: job.to_owned(),
            })
            .inc_by(fires);
    }

    /// Before every job's next fire is set again: jobs a reload removed lose their series.
    pub fn forget_next_fires(&self) {
        self.next_fire.clear();
    }

    /// The job's next fire, or none (its series is removed).
    pub fn next_fire(&self, job: &str, at: Option<DateTime<Utc>>) {
        let label = JobLabel {
            job: job.to_owned(),
        };
        match at {
            Some(at) => {
                self.next_fire
                    .get_or_create(&label)
                    .set(seconds(at - DateTime::UNIX_EPOCH));
            }
            None => {
                self.next_fire.remove(&label);
            }
        }
    }
}

fn seconds(d: chrono::TimeDelta) -> f64 {
    d.num_microseconds()
        .map_or(d.num_seconds() as f64, |us| us as f64 / 1e6)
}

/// Answers one connection: `GET /metrics` with the text, anything else with 404.
fn answer(stream: TcpStream, registry: &Registry) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    // The rest of the request head is not needed, but is read so that the client sees its
    // request taken before the answer and the close.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let mut words = request.split_whitespace();
    let (method, path) = (words.next(), words.next());
    let (status, kind, body) = if method == Some("GET")
        && path.is_some_and(|p| p == "/metrics" || p.starts_with("/metrics?"))
    {
        let mut text = String::new();
        match prometheus_client::encoding::text::encode(&mut text, registry) {
            Ok(()) => (
                "200 OK",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                text,
            ),
            Err(_) => ("500 Internal Server Error", "text/plain", String::new()),
        }
    } else {
        ("404 Not Found", "text/plain", "try /metrics\n".to_owned())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = &stream;
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(body.as_bytes());
}

/// `--metrics [ADDR:]PORT`: a port alone listens on the loopback address only.
pub fn parse_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!("expected PORT or ADDR:PORT, like 9100 or 0.0.0.0:9100 or [::1]:9100, not {text:?}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_alone_means_loopback() {
        assert_eq!(parse_address("9100").unwrap().to_string(), "127.0.0.1:9100");
        assert_eq!(
            parse_address("0.0.0.0:9100").unwrap().to_string(),
            "0.0.0.0:9100"
        );
        assert_eq!(
            parse_address("[::1]:9100").unwrap().to_string(),
            "[::1]:9100"
        );
        assert!(parse_address("localhost").is_err());
        assert!(parse_address("70000").is_err());
    }

    #[test]
    fn the_text_has_every_metric_with_job_labels() {
        let (metrics, registry) = Metrics::new();
        let t = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        metrics.run_started("backup", chrono::TimeDelta::milliseconds(3));
        metrics.run_ended("backup", false, chrono::TimeDelta::seconds(2), t);
        metrics.missed("backup", 3);
        metrics.next_fire("backup", Some(t));
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            "jobrun_runs_total{job=\"backup\",outcome=\"success\"} 1",
            "jobrun_run_duration_seconds_count{job=\"backup\"} 1",
            "jobrun_start_lateness_seconds_count{job=\"backup\"} 1",
            "jobrun_next_fire_timestamp_seconds{job=\"backup\"} 1800000000.0",
            "jobrun_last_success_timestamp_seconds{job=\"backup\"} 1800000000.0",
            "jobrun_running_runs{job=\"backup\"} 0",
            "jobrun_missed_fires_total{job=\"backup\"} 3",
            "jobrun_build_info{version=\"",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
    }
}
