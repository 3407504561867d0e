//! Health pings in the healthchecks.io protocol (issue 10): `<url>/start` when a run starts,
//! `<url>` when it succeeds, `<url>/fail` when it fails, `<url>/log` for a failed attempt
//! that will be retried (recorded there without changing the check's state), each with
//! `?rid=<uuid>` so that a start and its end pair up, and the output tail as the POST body.
//!
//! Sent from a thread of their own, so that the scheduler's loop only puts a ping on a
//! channel: a slow or dead endpoint costs it nothing. Each ping gets a timeout and a few tries;
//! one that still fails is logged, with the URL cut to its scheme and host, since the rest of
//! a ping URL is the check's secret.

use std::sync::mpsc::{Receiver, Sender, SyncSender, TrySendError, channel, sync_channel};
use std::time::Duration;

use crate::log::Log;

/// How long one try may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Tries per ping, with these waits between them.
const WAITS: [Duration; 2] = [Duration::from_millis(500), Duration::from_secs(1)];

/// Pings waiting to be sent at most; more are dropped (and logged) rather than held.
const QUEUE: usize = 1000;

/// Which ping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Start,
    Success,
    Fail,
    /// A failed attempt that will be retried.
    Log,
}

impl Kind {
    fn suffix(self) -> &'static str {
        match self {
            Kind::Start => "/start",
            Kind::Success => "",
            Kind::Fail => "/fail",
            Kind::Log => "/log",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Start => "start",
            Kind::Success => "success",
            Kind::Fail => "fail",
            Kind::Log => "log",
        }
    }
}

/// One ping to send.
#[derive(Debug, Clone)]
pub struct Ping {
    pub url: String,
    pub kind: Kind,
    /// The run's ping id (a UUID), the same for its start and its end.
    pub rid: String,
    pub job: String,
    pub run: u64,
    /// The output tail, for an end.
    pub body: String,
}

/// The sending thread's end of the queue. Dropping it lets the thread finish what is queued
/// and end (jobrun does not wait for it when it exits).
pub struct Pinger {
    queue: SyncSender<Ping>,
    /// Closed by the thread when it has sent everything and ends.
    done: Receiver<()>,
}

impl Pinger {
    /// Starts the sending thread; its failures go to `log`.
    pub fn start(log: Log) -> std::io::Result<Pinger> {
        let (queue, pings) = sync_channel(QUEUE);
        let (finished, done) = channel();
        std::thread::Builder::new()
            .name("jobrun-ping".into())
            .spawn(move || send_all(&pings, log, TIMEOUT, &finished))?;
        Ok(Pinger { queue, done })
    }

    /// Lets the thread send what is queued, waiting for it at most `within`: jobrun is about
    /// to exit, and pings still queued then are lost. Whether everything was sent.
    pub fn finish(self, within: Duration) -> bool {
        drop(self.queue);
        matches!(
            self.done.recv_timeout(within),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected)
        )
    }

    /// Queues a ping; `false` when the queue is full (the endpoint is that far behind) or the
    /// thread is gone, and the ping is dropped.
    pub fn send(&self, ping: Ping) -> bool {
        match self.queue.try_send(ping) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
        }
    }
}

fn send_all(pings: &Receiver<Ping>, mut log: Log, timeout: Duration, done: &Sender<()>) {
    // Dropped when this returns, which tells `finish`.
    let _done = done;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(true)
        .user_agent(concat!("jobrun/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    for ping in pings {
        let url = address(&ping.url, ping.kind, &ping.rid);
        let mut tries = 0;
        let error = loop {
            match agent.post(&url).send(ping.body.as_str()) {
                Ok(_) => break None,
                Err(_) if tries < WAITS.len() => {
                    std::thread::sleep(WAITS[tries]);
                    tries += 1;
                }
                Err(e) => break Some(e),
            }
        };
        if let Some(error) = error {
            log.event(
                chrono::Utc::now(),
                "ping_failed",
                &[
                    ("job", ping.job.as_str().into()),
                    ("run", ping.run.into()),
                    ("ping", ping.kind.name().into()),
                    ("url", redacted(&ping.url).into()),
                    ("tries", (tries as u64 + 1).into()),
                    ("error", without_url(&error.to_string(), &ping.url).into()),
                ],
            );
        }
    }
}

/// The URL of one ping: `/start`, `/fail` or `/log` after the path, then `rid`.
pub fn address(url: &str, kind: Kind, rid: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = base.trim_end_matches('/');
    let query = if query.is_empty() {
        format!("rid={rid}")
    } else {
        format!("{query}&rid={rid}")
    };
    format!("{base}{}?{query}", kind.suffix())
}

/// The URL as the log may show it: its scheme and host, the rest (the check's secret) cut.
pub fn redacted(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| after_scheme + i);
    // user:password@ would be a secret too.
    let host = &url[after_scheme..end];
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    format!("{}{host}/…", &url[..after_scheme])
}

/// An error message with any copy of the URL in it cut down to what the log may show.
fn without_url(message: &str, url: &str) -> String {
    let (base, _) = url.split_once('?').unwrap_or((url, ""));
    let mut message = message.to_owned();
    for secret in [url, base.trim_end_matches('/')] {
        if !secret.is_empty() {
            message = message.replace(secret, &redacted(url));
        }
    }
    message
}

/// A random UUID (version 4), the form healthchecks.io wants for `rid`.
pub fn new_rid() -> String {
    let mut bytes = [0u8; 16];
    for b in &mut bytes {
        *b = fastrand::u8(..);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ping_goes_to_its_path_with_the_run_id() {
        let url = "https://hc-ping.com/1f2e3d4c";
        assert_eq!(
            address(url, Kind::Start, "r"),
            "https://hc-ping.com/1f2e3d4c/start?rid=r"
        );
        assert_eq!(
            address(url, Kind::Success, "r"),
            "https://hc-ping.com/1f2e3d4c?rid=r"
        );
        assert_eq!(
            address(&format!("{url}/"), Kind::Fail, "r"),
            "https://hc-ping.com/1f2e3d4c/fail?rid=r"
        );
        assert_eq!(
            address("http://h/p?create=1", Kind::Log, "r"),
            "http://h/p/log?create=1&rid=r"
        );
    }

    #[test]
    fn the_log_shows_scheme_and_host_only() {
        assert_eq!(
            redacted("https://hc-ping.com/1f2e3d4c"),
            "https://hc-ping.com/…"
        );
        assert_eq!(
            redacted("http://user:pw@127.0.0.1:8000/x?y"),
            "http://127.0.0.1:8000/…"
        );
        let message = "http://h/secret/fail?rid=1: connection refused";
        assert_eq!(
            without_url(message, "http://h/secret"),
            "http://h/…/fail?rid=1: connection refused"
        );
    }

    #[test]
    fn run_ids_are_version_4_uuids() {
        let rid = new_rid();
        assert_eq!(rid.len(), 36);
        assert_eq!(&rid[14..15], "4");
        assert!("89ab".contains(&rid[19..20]), "{rid}");
        assert_ne!(rid, new_rid());
    }
}
