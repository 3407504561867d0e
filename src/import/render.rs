//! Imported jobs as jobfile text. Values are written by toml_edit, so quoting and escaping are
//! TOML's own; the layout (comments above each `[jobs.NAME]`, one key per line in a fixed
//! order) is written here.
//!
//! A jobfile of its own gets a `[defaults]` table with what every job shares (environment
//! variables with the same value, the working directory, the zone); tables appended to an
//! existing jobfile carry every setting themselves, since that file's `[defaults]` are for its
//! own jobs.

use toml_edit::{Array, InlineTable, Value};

use super::{Conversion, Job, Run};

/// What every job shares.
#[derive(Default)]
struct Shared {
    timezone: Option<String>,
    workdir: Option<String>,
    env: Vec<(String, String)>,
}

impl Shared {
    fn of(conversion: &Conversion) -> Shared {
        let jobs: Vec<&Job> = conversion.jobs().collect();
        let Some(first) = jobs.first() else {
            return Shared {
                timezone: conversion.timezone.map(|tz| tz.name().to_owned()),
                ..Shared::default()
            };
        };
        let common = |value: &Option<String>, get: fn(&Job) -> &Option<String>| {
            (value.is_some() && jobs.iter().all(|j| get(j) == value)).then(|| value.clone())
        };
        let timezone = common(&first.timezone, |j| &j.timezone)
            .flatten()
            .or_else(|| conversion.timezone.map(|tz| tz.name().to_owned()));
        let workdir = common(&first.workdir, |j| &j.workdir).flatten();
        let env = first
            .env
            .iter()
            .filter(|pair| jobs.iter().all(|j| j.env.contains(pair)))
            .cloned()
            .collect();
        Shared {
            timezone,
            workdir,
            env,
        }
    }
}

fn string(text: &str) -> String {
    Value::from(text).to_string()
}

fn env_table(env: &[&(String, String)]) -> String {
    let mut table = InlineTable::new();
    for (name, value) in env {
        table.insert(name, Value::from(value.as_str()));
    }
    Value::from(table).to_string()
}

/// A crontab comment as a TOML comment: TOML allows no control character but tab in one.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect()
}

/// A jobfile of its own.
pub(super) fn jobfile(conversion: &Conversion) -> String {
    let shared = Shared::of(conversion);
    let mut out = String::new();
    if shared.timezone.is_some() || shared.workdir.is_some() || !shared.env.is_empty() {
        out.push_str("[defaults]\n");
        if let Some(zone) = &shared.timezone {
            out.push_str(&format!("timezone = {}\n", string(zone)));
        }
        if let Some(dir) = &shared.workdir {
            out.push_str(&format!("workdir = {}\n", string(dir)));
        }
        if !shared.env.is_empty() {
            let env: Vec<&(String, String)> = shared.env.iter().collect();
            out.push_str(&format!("env = {}\n", env_table(&env)));
        }
    }
    write_files(&mut out, conversion, &shared, false);
    out
}

/// Tables to append to an existing jobfile.
pub(super) fn tables(conversion: &Conversion, shell_by_default: bool) -> String {
    let shared = Shared {
        timezone: None,
        workdir: None,
        env: Vec::new(),
    };
    let mut out = String::new();
    let zone = conversion.timezone.map(|tz| tz.name().to_owned());
    let mut files = conversion.clone();
    for job in files.files.iter_mut().flat_map(|f| f.jobs.iter_mut()) {
        if job.timezone.is_none() {
            job.timezone.clone_from(&zone);
        }
    }
    write_files(&mut out, &files, &shared, shell_by_default);
    out
}

fn write_files(out: &mut String, conversion: &Conversion, shared: &Shared, shell_by_default: bool) {
    for file in &conversion.files {
        if !out.is_empty() {
            out.push('\n');
        }
        let none = if file.jobs.is_empty() {
            " (no jobs)"
        } else {
            ""
        };
        out.push_str(&comment(&format!("# From {}{none}", file.name.display())));
        out.push('\n');
        for job in &file.jobs {
            out.push('\n');
            write_job(out, job, shared, shell_by_default);
        }
    }
}

fn write_job(out: &mut String, job: &Job, shared: &Shared, shell_by_default: bool) {
    for line in &job.comments {
        out.push_str(&comment(line));
        out.push('\n');
    }
    out.push_str(&format!("[jobs.{}]\n", job.name));
    out.push_str(&format!("cron = {}\n", string(&job.cron)));
    match &job.run {
        Run::Argv(words) => {
            let array = Array::from_iter(words.iter().map(String::as_str));
            out.push_str(&format!("command = {}\n", Value::from(array)));
            if shell_by_default {
                out.push_str("shell = false\n");
            }
        }
        Run::Shell { script, shell } => {
            out.push_str(&format!("command = {}\n", string(script)));
            match shell {
                Some(path) => out.push_str(&format!("shell = {}\n", string(path))),
                None => out.push_str("shell = true\n"),
            }
        }
    }
    if let Some(stdin) = &job.stdin {
        out.push_str(&format!("stdin = {}\n", string(stdin)));
    }
    if let Some(user) = &job.user {
        out.push_str(&format!("user = {}\n", string(user)));
    }
    if job.timezone.is_some() && job.timezone != shared.timezone {
        out.push_str(&format!(
            "timezone = {}\n",
            string(job.timezone.as_deref().unwrap_or_default())
        ));
    }
    if job.workdir.is_some() && job.workdir != shared.workdir {
        out.push_str(&format!(
            "workdir = {}\n",
            string(job.workdir.as_deref().unwrap_or_default())
        ));
    }
    let own: Vec<&(String, String)> = job.env.iter().filter(|p| !shared.env.contains(p)).collect();
    if !own.is_empty() {
        out.push_str(&format!("env = {}\n", env_table(&own)));
    }
    if let Some(jitter) = &job.jitter {
        out.push_str(&format!("jitter = {}\n", string(jitter)));
    }
}
