//! The password file libpq reads (`~/.pgpass`, or `$PGPASSFILE`): lines of
//! `hostname:port:database:username:password`, where a field may be `*` (anything), `\:` and
//! `\\` escape a colon and a backslash, and `#` starts a comment line. The first line that
//! matches wins. As libpq does, a file that its group or others may read is not used: a
//! password there is not a secret.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::target::Key;

/// The password for `key` from the file at `path`: `Ok(None)` when the file does not exist or
/// has no matching line; `Err` (why it was not used) when it is readable by others or cannot
/// be read.
pub(super) fn lookup(path: &Path, key: &Key) -> Result<Option<String>, String> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if !meta.is_file() {
        return Err(format!("{} is not a plain file", path.display()));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} has group or world access; permissions should be u=rw (0600) or less",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(find(&text, key))
}

/// The first line of `text` matching `key`, its password.
fn find(text: &str, key: &Key) -> Option<String> {
    let wanted = [&key.host, &key.port, &key.dbname, &key.user];
    text.lines()
        .filter(|line| !line.trim_start().starts_with('#'))
        .filter_map(fields)
        .find(|f| {
            f[..4]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field == "*" || field == want)
        })
        .map(|mut f| f.remove(4))
}

/// The five fields of a line, unescaped; `None` for a line with fewer. Text after a fifth
/// colon belongs to the password, as in libpq.
fn fields(line: &str) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(5);
    let mut current = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            ':' if out.len() < 4 => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    out.push(current);
    (out.len() == 5).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(host: &str, port: &str, dbname: &str, user: &str) -> Key {
        Key {
            host: host.into(),
            port: port.into(),
            dbname: dbname.into(),
            user: user.into(),
        }
    }

    #[test]
    fn the_first_matching_line_wins_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    db1:5432:jobs:alice:first\n\
                    *:*:jobs:alice:second\n\
                    h\\:6:5432:*:bob:pa\\:ss\\\\word\n\
                    *:*:*:*:fallback:with:colons\n\
                    short:line\n";
        assert_eq!(
            find(text, &key("db1", "5432", "jobs", "alice")),
            Some("first".into())
        );
        assert_eq!(
            find(text, &key("db2", "5433", "jobs", "alice")),
            Some("second".into())
        );
        assert_eq!(
            find(text, &key("h:6", "5432", "x", "bob")),
            Some("pa:ss\\word".into())
        );
        assert_eq!(
            find(text, &key("z", "1", "d", "u")),
            Some("fallback:with:colons".into())
        );
        assert_eq!(find("short:line\n", &key("a", "b", "c", "d")), None);
    }

    #[test]
    fn a_file_others_can_read_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:secret\n").unwrap();
        let k = key("h", "5432", "d", "u");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = lookup(&path, &k).unwrap_err();
        assert!(err.contains("0600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(lookup(&path, &k).unwrap(), Some("secret".into()));
        assert_eq!(lookup(&dir.path().join("none"), &k).unwrap(), None);
    }
}
