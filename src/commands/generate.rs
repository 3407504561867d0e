//! `jobrun generate [DIR]` (hidden): writes the man pages and the shell completion scripts
//! under DIR, as checked in to `man/` and `completions/`. After a change to the command line,
//! `cargo run -q -- generate` brings them up to date (tests/docs.rs fails until then).

use std::fs;
use std::path::Path;

use crate::cli::GenerateArgs;
use crate::completion;
use crate::context::Context;
use crate::error::Error;
use crate::manual;

pub(super) fn run(_ctx: &Context, args: &GenerateArgs) -> Result<(), Error> {
    let man = args.dir.join("man");
    let completions = args.dir.join("completions");
    for dir in [&man, &completions] {
        fs::create_dir_all(dir).map_err(|e| write_error(dir, &e))?;
    }
    for (name, text) in manual::pages() {
        write(&man.join(name), &text)?;
    }
    for (name, shell) in completion::SHELLS {
        write(&completions.join(name), &completion::registration(shell))?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fs::write(path, bytes).map_err(|e| write_error(path, &e))
}

fn write_error(path: &Path, e: &std::io::Error) -> Error {
    Error::Runtime(format!("cannot write {}: {e}", path.display()))
}
