//! Who a run runs as: a job's `user` and `group`, looked up in the password and group
//! databases, and the switch to that identity in the child, between `fork` and `exec`.
//!
//! As cron does for the owner of a crontab, a run with a `user` gets that user's uid, primary
//! group (or the job's `group`), supplementary groups (`initgroups`), and `HOME`, `USER`,
//! `LOGNAME` and `SHELL` from the password database. Only root can switch; jobrun run by
//! anyone else accepts only its own user and group, and refuses other names with
//! [`IdentityError::NotRoot`] (which `jobrun check` reports at the key).
//!
//! The lookups happen when a run is prepared, in the parent: the child between `fork` and
//! `exec` may only make async-signal-safe calls, so it gets the finished group list and calls
//! nothing but `setgroups`, `setgid` and `setuid`.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use nix::unistd::{
    Gid, Group, Uid, User, getegid, geteuid, getgrouplist, setgid, setgroups, setuid,
};

/// A job's identity, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Identity {
    /// `HOME`, `USER`, `LOGNAME` and `SHELL` of the named user (empty without a `user`).
    pub(super) env: Vec<(&'static str, OsString)>,
    /// The user's home directory, when a `user` is named: the run's working directory unless
    /// the job sets `workdir`.
    pub(super) home: Option<PathBuf>,
    /// `None` when the run keeps jobrun's own identity.
    switch: Option<Switch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Switch {
    uid: Uid,
    gid: Gid,
    groups: Vec<Gid>,
}

/// Why a run cannot have the identity its job asks for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("no user named {0:?} in the password database")]
    UnknownUser(String),

    #[error("no group named {0:?} in the group database")]
    UnknownGroup(String),

    /// jobrun is not root and the job names another user or group.
    #[error("jobrun runs as {running}, not as root, so it cannot run jobs as {kind} {wanted:?}")]
    NotRoot {
        running: String,
        kind: &'static str,
        wanted: String,
    },

    #[error("cannot look up {kind} {name:?}: {errno}")]
    Lookup {
        kind: &'static str,
        name: String,
        errno: nix::errno::Errno,
    },
}

/// jobrun's own identity: its effective uid and gid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub uid: Uid,
    pub gid: Gid,
}

impl Running {
    pub fn current() -> Running {
        Running {
            uid: geteuid(),
            gid: getegid(),
        }
    }

    /// "root", or "alice (uid 1000)".
    fn describe(self) -> String {
        match User::from_uid(self.uid).ok().flatten() {
            Some(user) if self.uid.is_root() => user.name,
            Some(user) => format!("{} (uid {})", user.name, self.uid),
            None => format!("uid {}", self.uid),
        }
    }
}

fn user_entry(name: &str) -> Result<User, IdentityError> {
    User::from_name(name)
        .map_err(|errno| IdentityError::Lookup {
            kind: "user",
            name: name.to_owned(),
            errno,
        })?
        .ok_or_else(|| IdentityError::UnknownUser(name.to_owned()))
}

fn group_entry(name: &str) -> Result<Group, IdentityError> {
    Group::from_name(name)
        .map_err(|errno| IdentityError::Lookup {
            kind: "group",
            name: name.to_owned(),
            errno,
        })?
        .ok_or_else(|| IdentityError::UnknownGroup(name.to_owned()))
}

/// Whether a jobrun running as `running` may run jobs as `uid` (root: anyone; others: itself).
fn may_become_user(running: Running, uid: Uid) -> bool {
    running.uid.is_root() || running.uid == uid
}

/// Whether a jobrun running as `running` may run jobs with `gid` as their group.
fn may_become_group(running: Running, gid: Gid) -> bool {
    running.uid.is_root() || running.gid == gid
}

/// Checks a job's `user` as `jobrun check` does: it exists, and jobrun may become it.
pub fn check_user(name: &str, running: Running) -> Result<(), IdentityError> {
    let user = user_entry(name)?;
    if may_become_user(running, user.uid) {
        return Ok(());
    }
    Err(IdentityError::NotRoot {
        running: running.describe(),
        kind: "user",
        wanted: name.to_owned(),
    })
}

/// Checks a job's `group` as `jobrun check` does: it exists, and jobrun may take it.
pub fn check_group(name: &str, running: Running) -> Result<(), IdentityError> {
    let group = group_entry(name)?;
    if may_become_group(running, group.gid) {
        return Ok(());
    }
    Err(IdentityError::NotRoot {
        running: running.describe(),
        kind: "group",
        wanted: name.to_owned(),
    })
}

/// The identity of a run of a job with this `user` and `group` (at least one of them set).
/// Without `user` the run stays jobrun's user, with the `group`; without `group` it gets the
/// user's primary group.
pub(super) fn resolve(
    user: Option<&str>,
    group: Option<&str>,
    running: Running,
) -> Result<Identity, IdentityError> {
    let entry = match user {
        Some(name) => Some(user_entry(name)?),
        None => User::from_uid(running.uid).ok().flatten(),
    };
    let uid = entry.as_ref().map_or(running.uid, |u| u.uid);
    let gid = match group {
        Some(name) => group_entry(name)?.gid,
        None => entry.as_ref().map_or(running.gid, |u| u.gid),
    };
    let env = match (user, &entry) {
        (Some(_), Some(u)) => vec![
            ("HOME", u.dir.clone().into_os_string()),
            ("USER", u.name.clone().into()),
            ("LOGNAME", u.name.clone().into()),
            ("SHELL", u.shell.clone().into_os_string()),
        ],
        _ => Vec::new(),
    };
    let home = user.and(entry.as_ref()).map(|u| u.dir.clone());
    let refuse = |kind, wanted: &str| IdentityError::NotRoot {
        running: running.describe(),
        kind,
        wanted: wanted.to_owned(),
    };
    if !running.uid.is_root() {
        // Without root nothing can change: accept only what jobrun already is.
        if !may_become_user(running, uid) {
            return Err(refuse("user", user.unwrap_or_default()));
        }
        if !may_become_group(running, gid) {
            return Err(refuse("group", group.unwrap_or_default()));
        }
        return Ok(Identity {
            env,
            home,
            switch: None,
        });
    }
    // initgroups(3) reads the group database, so the list is made here, not in the child.
    let groups = match &entry {
        Some(u) => {
            let name = CString::new(u.name.as_bytes())
                .map_err(|_| IdentityError::UnknownUser(u.name.clone()))?;
            getgrouplist(&name, gid).map_err(|errno| IdentityError::Lookup {
                kind: "the groups of user",
                name: u.name.clone(),
                errno,
            })?
        }
        None => vec![gid],
    };
    Ok(Identity {
        env,
        home,
        switch: Some(Switch { uid, gid, groups }),
    })
}

impl Identity {
    /// Makes the child take this identity just before `exec`, and enter `workdir` as that
    /// identity, as cron does (`chdir` after `setuid`): a job never starts in a directory its
    /// user could not enter. Without a switch the directory is std's `current_dir`.
    pub(super) fn apply(
        &self,
        command: &mut std::process::Command,
        workdir: &Path,
    ) -> Result<(), std::ffi::NulError> {
        match &self.switch {
            Some(switch) => {
                let workdir = CString::new(workdir.as_os_str().as_bytes())?;
                switch_before_exec(command, switch.clone(), workdir);
            }
            None => {
                command.current_dir(workdir);
            }
        }
        Ok(())
    }
}

impl Identity {
    /// Whether the switched-to user may enter every directory on the way to `workdir`, read
    /// from the mode bits (owner, then group, then others, as the kernel decides; ACLs are
    /// left to the `chdir` in the child, which is what enforces it). Checked in the parent so
    /// that the error names the directory rather than the program.
    pub(super) fn may_enter(&self, workdir: &Path) -> bool {
        use std::os::unix::fs::MetadataExt;
        let Some(switch) = &self.switch else {
            return true;
        };
        if switch.uid.is_root() {
            return true;
        }
        workdir.ancestors().all(|dir| {
            let Ok(meta) = std::fs::metadata(dir) else {
                // Missing or unreadable: the parent's own workdir check reports it.
                return true;
            };
            let mode = meta.mode();
            if meta.uid() == switch.uid.as_raw() {
                mode & 0o100 != 0
            } else if switch.gid.as_raw() == meta.gid()
                || switch.groups.iter().any(|g| g.as_raw() == meta.gid())
            {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            }
        })
    }
}

/// Sets the supplementary groups, then the group, then the user of the child, in that order
/// (each later step gives up the right to the earlier ones), then enters `workdir` as that
/// user.
///
/// This is jobrun's only `unsafe`: std's `CommandExt::uid`/`gid` drop every supplementary
/// group instead of setting the user's (and `CommandExt::groups` is unstable), and cron gives
/// a job its user's groups, so the switch needs a `pre_exec` hook. The hook runs in the forked
/// child of a multi-threaded process, where only async-signal-safe calls are allowed: it only
/// calls `setgroups`, `setgid` and `setuid` on values computed before the fork (the group list
/// is already in memory, nothing allocates), then `chdir` on a C string made before the fork,
/// and turns an errno into an `io::Error`, which does not allocate either. std then fails the
/// spawn with that error.
#[allow(unsafe_code)]
fn switch_before_exec(command: &mut std::process::Command, switch: Switch, workdir: CString) {
    // SAFETY: see above; the closure makes no call that is unsafe after fork, and `workdir`
    // is a valid NUL-terminated string owned by the closure.
    unsafe {
        command.pre_exec(move || {
            setgroups(&switch.groups)?;
            setgid(switch.gid)?;
            setuid(switch.uid)?;
            if libc::chdir(workdir.as_ptr()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: Running = Running {
        uid: Uid::from_raw(0),
        gid: Gid::from_raw(0),
    };
    const ALICE: Running = Running {
        uid: Uid::from_raw(1000),
        gid: Gid::from_raw(1000),
    };

    #[test]
    fn root_may_become_anyone_and_others_only_themselves() {
        assert!(may_become_user(ROOT, Uid::from_raw(65534)));
        assert!(may_become_group(ROOT, Gid::from_raw(65534)));
        assert!(may_become_user(ALICE, Uid::from_raw(1000)));
        assert!(may_become_group(ALICE, Gid::from_raw(1000)));
        assert!(!may_become_user(ALICE, Uid::from_raw(0)));
        assert!(!may_become_user(ALICE, Uid::from_raw(1001)));
        assert!(!may_become_group(ALICE, Gid::from_raw(4)));
    }

    #[test]
    fn a_non_root_jobrun_refuses_another_user_and_group() {
        // root is in every password database; jobrun as uid 1000 may not become it.
        let error = check_user("root", ALICE).unwrap_err();
        assert!(
            matches!(&error, IdentityError::NotRoot { kind: "user", wanted, .. } if wanted == "root"),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .ends_with(", not as root, so it cannot run jobs as user \"root\""),
            "{error}"
        );
        assert!(matches!(
            check_group("root", ALICE),
            Err(IdentityError::NotRoot { kind: "group", .. })
        ));
        assert!(matches!(
            resolve(Some("root"), None, ALICE),
            Err(IdentityError::NotRoot { kind: "user", .. })
        ));
        assert_eq!(check_user("root", ROOT), Ok(()));
    }

    #[test]
    fn unknown_names_are_errors() {
        assert_eq!(
            check_user("no-such-user-jobrun", ROOT),
            Err(IdentityError::UnknownUser("no-such-user-jobrun".into()))
        );
        assert_eq!(
            check_group("no-such-group-jobrun", ROOT)
                .unwrap_err()
                .to_string(),
            "no group named \"no-such-group-jobrun\" in the group database"
        );
    }

    #[test]
    fn a_named_user_brings_cron_s_variables_and_its_home() {
        let identity = resolve(Some("root"), None, ROOT).unwrap();
        let root = User::from_name("root").unwrap().unwrap();
        assert_eq!(
            identity.env,
            [
                ("HOME", root.dir.clone().into_os_string()),
                ("USER", "root".into()),
                ("LOGNAME", "root".into()),
                ("SHELL", root.shell.clone().into_os_string()),
            ]
        );
        assert_eq!(identity.home, Some(root.dir));
        // A group alone keeps jobrun's user and sets no variables.
        let identity = resolve(None, Some("root"), ROOT).unwrap();
        assert!(identity.env.is_empty() && identity.home.is_none());
    }
}

/// The switch itself, run as root (as the tests run in CI); skipped otherwise.
#[cfg(test)]
mod switch_tests {
    use super::*;
    use crate::executor::own_children;

    #[test]
    fn a_run_as_nobody_has_nobodys_uid_gid_and_groups() {
        let running = Running::current();
        if !running.uid.is_root() {
            return;
        }
        let nobody = User::from_name("nobody").unwrap().unwrap();
        let identity = resolve(Some("nobody"), None, running).unwrap();
        let _children = own_children();
        let mut command = std::process::Command::new("/bin/sh");
        command.args(["-c", "id -u; id -g; id -G; pwd"]);
        identity.apply(&mut command, Path::new("/")).unwrap();
        let out = command.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let groups = getgrouplist(&CString::new("nobody").unwrap(), nobody.gid).unwrap();
        let groups: Vec<String> = groups.iter().map(ToString::to_string).collect();
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("{}\n{}\n{}\n/\n", nobody.uid, nobody.gid, groups.join(" "))
        );
    }
}
