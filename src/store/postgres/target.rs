//! Where a PostgreSQL store is: the URL as the user gave it, turned into the driver's
//! connection settings, with the password looked up the way libpq does and the TLS mode
//! jobrun understands. The URL is printed only through [`Target::redacted`], which never
//! carries a password.
//!
//! The driver (`postgres`) parses the URL itself, except for `sslmode` beyond
//! `disable|prefer|require` and `sslrootcert`, which jobrun takes out of the query first and
//! applies itself (`tls.rs`): the driver knows no `verify-full`.

use std::path::{Path, PathBuf};

use postgres::config::{Host, SslMode};

use super::pgpass;

/// What `sslmode=` asks for, as libpq words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tls {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, plain otherwise; the server is not authenticated.
    Prefer,
    /// TLS or no connection; the server is not authenticated (libpq's `require`).
    Require,
    /// TLS, with the server's certificate checked against the roots and its name.
    VerifyFull,
}

/// The environment a PostgreSQL connection reads, gathered by the context (nothing below it
/// reads `std::env`).
#[derive(Debug, Clone, Default)]
pub struct PgEnvironment {
    /// `$PGPASSWORD`.
    pub password: Option<String>,
    /// `$PGPASSFILE`, else `~/.pgpass` (`None` without a home directory).
    pub passfile: Option<PathBuf>,
}

impl PgEnvironment {
    /// From the process environment.
    pub fn from_process() -> PgEnvironment {
        let var = |name| std::env::var(name).ok().filter(|v| !v.is_empty());
        PgEnvironment {
            password: var("PGPASSWORD"),
            passfile: var("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| var("HOME").map(|home| Path::new(&home).join(".pgpass"))),
        }
    }
}

/// A PostgreSQL store's connection settings, password included (never displayed).
#[derive(Clone)]
pub struct Target {
    pub(super) config: postgres::Config,
    pub(super) tls: Tls,
    /// `sslrootcert=`: a PEM file of the roots that `verify-full` trusts instead of the
    /// built-in ones (Mozilla's, through webpki-roots).
    pub(super) root_cert: Option<PathBuf>,
    redacted: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

/// Whether `text` names a PostgreSQL store rather than a file.
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

impl Target {
    /// Parses `url` (`postgres://` or `postgresql://`); the password comes from the URL, else
    /// `$PGPASSWORD`, else the password file (`pgpass.rs`), as with libpq. The error names what
    /// is wrong and never repeats the URL (it may hold a password).
    pub fn parse(url: &str, env: &PgEnvironment) -> Result<Target, String> {
        if !is_postgres_url(url) {
            return Err("a store URL starts with postgres:// or postgresql://".to_owned());
        }
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (url, None),
        };
        let mut tls = Tls::Prefer;
        let mut root_cert = None;
        let mut kept = Vec::new();
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "sslmode" => {
                    tls = match value {
                        "disable" => Tls::Disable,
                        "prefer" => Tls::Prefer,
                        "require" => Tls::Require,
                        "verify-full" => Tls::VerifyFull,
                        other => {
                            return Err(format!(
                                "sslmode={other} is not one jobrun knows: use disable, prefer, \
                                 require or verify-full"
                            ));
                        }
                    }
                }
                "sslrootcert" => root_cert = Some(PathBuf::from(percent_decode(value)?)),
                _ => kept.push(pair),
            }
        }
        let rebuilt = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        let mut config: postgres::Config = rebuilt
            .parse()
            .map_err(|e| format!("the store URL is not one PostgreSQL accepts: {e}"))?;
        config.ssl_mode(match tls {
            Tls::Disable => SslMode::Disable,
            Tls::Prefer => SslMode::Prefer,
            Tls::Require | Tls::VerifyFull => SslMode::Require,
        });
        if config.get_user().is_none() {
            // libpq's default: the operating system user's name.
            let user = whoami_user();
            config.user(&user);
        }
        if config.get_password().is_none() {
            let password = env.password.clone().or_else(|| {
                let file = env.passfile.as_deref()?;
                pgpass::lookup(file, &Key::of(&config)).ok().flatten()
            });
            if let Some(password) = password {
                config.password(password);
            }
        }
        let redacted = redact(&config, tls);
        Ok(Target {
            config,
            tls,
            root_cert,
            redacted,
        })
    }

    /// The URL without its password, for logs and messages.
    pub fn redacted(&self) -> &str {
        &self.redacted
    }
}

/// The fields a password file line is matched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Key {
    pub(super) host: String,
    pub(super) port: String,
    pub(super) dbname: String,
    pub(super) user: String,
}

impl Key {
    fn of(config: &postgres::Config) -> Key {
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(host)) => host.clone(),
            // libpq matches a socket directory, and the default socket, as "localhost".
            Some(Host::Unix(_)) | None => "localhost".to_owned(),
        };
        let user = config.get_user().unwrap_or_default().to_owned();
        Key {
            host,
            port: config
                .get_ports()
                .first()
                .copied()
                .unwrap_or(5432)
                .to_string(),
            dbname: config.get_dbname().unwrap_or(&user).to_owned(),
            user,
        }
    }
}

/// `postgres://user@host:port/db?sslmode=…`, rebuilt from the parsed settings, so that
/// nothing of the password (nor a mistyped part that might hold one) is ever printed.
fn redact(config: &postgres::Config, tls: Tls) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            Host::Tcp(name) => format!("{name}:{port}"),
            Host::Unix(dir) => format!("[{}]:{port}", dir.display()),
        })
        .collect();
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    let mode = match tls {
        Tls::Disable => "disable",
        Tls::Prefer => "prefer",
        Tls::Require => "require",
        Tls::VerifyFull => "verify-full",
    };
    format!("postgres://{user}@{}/{db}?sslmode={mode}", hosts.join(","))
}

fn percent_decode(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "a %-escape in sslrootcert is not two hex digits".to_owned())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "sslrootcert is not UTF-8".to_owned())
}

/// The user jobrun runs as, by name (libpq's default PostgreSQL user).
fn whoami_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map_or_else(|| "postgres".to_owned(), |u| u.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Target {
        Target::parse(url, &PgEnvironment::default()).unwrap()
    }

    #[test]
    fn the_password_never_reaches_the_printed_form() {
        let target = parse("postgres://alice:s3cret@db.example:5433/jobs?sslmode=require");
        assert_eq!(
            target.redacted(),
            "postgres://alice@db.example:5433/jobs?sslmode=require"
        );
        assert_eq!(format!("{target:?}"), target.redacted());
        assert_eq!(target.config.get_password(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn verify_full_and_a_root_file_are_taken_out_of_the_query() {
        let target = parse(
            "postgresql://bob@h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&connect_timeout=3",
        );
        assert_eq!(target.tls, Tls::VerifyFull);
        assert_eq!(target.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(
            target.config.get_connect_timeout(),
            Some(&std::time::Duration::from_secs(3))
        );
    }

    #[test]
    fn unknown_tls_modes_and_other_schemes_are_refused_without_echoing_the_url() {
        let env = PgEnvironment::default();
        let err = Target::parse("postgres://u:pw@h/db?sslmode=verify-ca", &env).unwrap_err();
        assert!(err.contains("verify-ca") && !err.contains("pw"), "{err}");
        assert!(Target::parse("mysql://h/db", &env).is_err());
        let err = Target::parse("postgres://u:pw@h:notaport/db", &env).unwrap_err();
        assert!(!err.contains("pw@"), "{err}");
    }

    #[test]
    fn pgpassword_fills_in_a_missing_password_but_not_a_given_one() {
        let env = PgEnvironment {
            password: Some("fromenv".into()),
            passfile: None,
        };
        let t = Target::parse("postgres://u@h/db", &env).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"fromenv"[..]));
        let t = Target::parse("postgres://u:given@h/db", &env).unwrap();
        assert_eq!(t.config.get_password(), Some(&b"given"[..]));
    }
}
