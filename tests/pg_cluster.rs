//! A private PostgreSQL cluster for the tests that need a server of their own (restarting it,
//! or its TLS certificates): bench/pg-cluster.sh in a directory of the test's. It needs the
//! server binaries; without them a test is skipped, unless `JOBRUN_TEST_PG_REQUIRED=1` (CI),
//! where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A private PostgreSQL cluster in a directory of the test's, stopped when dropped.
pub(crate) struct Cluster {
    dir: PathBuf,
    pub(crate) url: String,
}

impl Cluster {
    fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/pg-cluster.sh")
    }

    fn run(args: &[&std::ffi::OsStr]) -> std::process::Output {
        Command::new("bash")
            .arg(Self::script())
            .args(args)
            .output()
            .expect("run bench/pg-cluster.sh")
    }

    /// `None` (the test is skipped) when this machine has no PostgreSQL server and CI did not
    /// ask for the PostgreSQL tests.
    pub(crate) fn start(dir: &Path) -> Option<Cluster> {
        let have_server = std::fs::read_dir("/usr/lib/postgresql")
            .map(|d| d.flatten().any(|v| v.path().join("bin/initdb").exists()))
            .unwrap_or(false);
        if !have_server {
            assert!(
                std::env::var("JOBRUN_TEST_PG_REQUIRED").as_deref() != Ok("1"),
                "JOBRUN_TEST_PG_REQUIRED=1 but no PostgreSQL server: apt-get install postgresql"
            );
            eprintln!("skipped: no PostgreSQL server binaries (apt-get install postgresql)");
            return None;
        }
        // A port free now (the kernel's pick, released at once).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port()
            .to_string();
        let out = Self::run(&["start".as_ref(), dir.as_os_str(), port.as_ref()]);
        assert!(
            out.status.success(),
            "pg-cluster.sh start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8(out.stdout)
            .expect("URL")
            .trim()
            .to_owned();
        Some(Cluster {
            dir: dir.to_owned(),
            url,
        })
    }

    /// A fast restart: the server ends every connection, then comes back.
    pub(crate) fn restart(&self) {
        let out = Self::run(&["restart".as_ref(), self.dir.as_os_str()]);
        assert!(
            out.status.success(),
            "pg-cluster.sh restart: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Cluster {
    /// The port it listens on (127.0.0.1).
    pub(crate) fn port(&self) -> &str {
        self.url
            .rsplit_once(':')
            .and_then(|(_, rest)| rest.split_once('/'))
            .map_or("", |(port, _)| port)
    }

    /// The CA that signed its TLS certificate (for `localhost`), if openssl made one.
    pub(crate) fn root_cert(&self) -> Option<PathBuf> {
        Some(self.dir.join("root.crt")).filter(|p| p.exists())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        Self::run(&["stop".as_ref(), self.dir.as_os_str()]);
    }
}
