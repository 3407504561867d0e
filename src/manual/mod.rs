//! The manual: man pages generated from the clap definition (`jobrun(1)` and one page per
//! subcommand, through clap_mangen) and from the jobfile reference (`jobrun.toml(5)`), in
//! memory; `jobrun generate` writes them to `man/`, and a test checks the checked-in ones.

pub mod jobfile;

use clap::CommandFactory;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, bold, roman};

use crate::cli::Cli;

/// Every page: file name (e.g. `jobrun-start.1`) and its roff text.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = vec![command_page(&cmd, true)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        pages.push(command_page(sub, false));
    }
    pages.push(("jobrun.toml.5".to_owned(), jobfile_page()));
    pages
}

fn source() -> String {
    format!("jobrun {}", env!("CARGO_PKG_VERSION"))
}

/// A command's page: clap_mangen's sections, then jobrun's own (the top page has the
/// environment, files and exit status; every page points to the others).
fn command_page(cmd: &clap::Command, top: bool) -> (String, Vec<u8>) {
    let man = Man::new(cmd.clone())
        .source(source())
        .manual("jobrun manual");
    let mut out = Vec::new();
    // Rendering into a Vec cannot fail.
    let _ = man.render(&mut out);
    let mut roff = Roff::new();
    if top {
        for section in jobfile::SECTIONS
            .iter()
            .filter(|s| matches!(s.title, "EXIT STATUS" | "ENVIRONMENT" | "FILES"))
        {
            paragraphs(&mut roff, section.title, section.paragraphs);
        }
    }
    roff.control("SH", ["SEE ALSO"]);
    let mut see_also: Vec<String> = Vec::new();
    if !top {
        see_also.push("jobrun(1)".to_owned());
    }
    see_also.push("jobrun.toml(5)".to_owned());
    see_also.extend(["crontab(5)".to_owned(), "systemd.service(5)".to_owned()]);
    roff.text([roman(see_also.join(", "))]);
    out.extend_from_slice(roff.render().as_bytes());
    (man.get_filename(), out)
}

/// `jobrun.toml(5)`, from the reference in `jobfile.rs`.
fn jobfile_page() -> Vec<u8> {
    let mut roff = Roff::new();
    roff.control(
        "TH",
        ["jobrun.toml", "5", "", source().as_str(), "jobrun manual"],
    );
    roff.control("SH", ["NAME"]);
    roff.text([roman("jobrun.toml - the jobfile of jobrun(1)")]);
    paragraphs(&mut roff, "DESCRIPTION", jobfile::DESCRIPTION);
    roff.control("SH", ["EXAMPLE"]);
    example(&mut roff, jobfile::EXAMPLE);
    roff.control("SH", ["KEYS"]);
    for key in jobfile::KEYS {
        roff.control("TP", []);
        roff.text([bold(key.name), roman(format!("  ({})", key.place))]);
        roff.text([roman(key.meaning)]);
    }
    for section in jobfile::SECTIONS {
        paragraphs(&mut roff, section.title, section.paragraphs);
    }
    roff.control("SH", ["SEE ALSO"]);
    roff.text([roman("jobrun(1), crontab(5), tzfile(5)")]);
    roff.render().into_bytes()
}

fn paragraphs(roff: &mut Roff, title: &str, paragraphs: &[&str]) {
    roff.control("SH", [title]);
    for (i, text) in paragraphs.iter().enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(*text)]);
    }
}

fn example(roff: &mut Roff, text: &str) {
    roff.control("RS", ["4"]);
    roff.control("nf", []);
    for line in text.lines() {
        roff.text([roman(line)]);
    }
    roff.control("fi", []);
    roff.control("RE", []);
}
