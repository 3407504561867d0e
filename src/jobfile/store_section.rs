//! The jobfile's `[store]` table: which state store the jobfile's schedulers share (`url`) and
//! how long one of them may go silent before the others take it for dead (`lease`). Kept in
//! the jobfile so that every host running it agrees on the store without each needing a flag.

use super::value::{Checker, Entry, entries};
use crate::duration::Duration;

/// The keys `[store]` takes.
pub(crate) const STORE_KEYS: [&str; 2] = ["url", "lease"];

/// Where the jobfile's state lives, if it says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreSettings {
    /// `url = "postgres://…"`: a PostgreSQL store (a password here is better left to
    /// `~/.pgpass` or `$PGPASSWORD`; see README).
    pub url: Option<String>,
    /// `lease = "10s"`: see `store::postgres` for the default and why.
    pub lease: Option<Duration>,
}

/// Reads `[store]`, reporting every problem to `c`.
pub(super) fn read(c: &mut Checker<'_>, entry: &Entry<'_>) -> StoreSettings {
    let mut settings = StoreSettings::default();
    if !entry.item.is_table() {
        c.wrong_type(
            entry,
            "a table like [store] with url = \"postgres://…\"",
            None,
        );
        return settings;
    }
    for e in entries(entry.item, &entry.field) {
        match e.key {
            "url" => {
                if let Some(url) = c.string(&e, "a URL like \"postgres://user@host/db\"") {
                    if crate::store::postgres::is_postgres_url(url) {
                        settings.url = Some(url.to_owned());
                    } else {
                        let message =
                            "a store URL starts with postgres:// or postgresql://".to_owned();
                        c.error(e.span.clone(), &e.field, message, None);
                    }
                }
            }
            "lease" => {
                if let Some(lease) = c.duration(&e, "10s") {
                    if lease.as_std() < std::time::Duration::from_secs(1) {
                        let message = format!("lease must be at least 1s, found {lease}");
                        c.error(e.span.clone(), &e.field, message, None);
                    } else {
                        settings.lease = Some(lease);
                    }
                }
            }
            _ => c.unknown_key(&e, "key", &STORE_KEYS, None),
        }
    }
    settings
}
