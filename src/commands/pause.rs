//! `jobrun pause` and `jobrun resume`: set or clear `paused` in the jobfile, keeping the rest of
//! it byte for byte. A running scheduler needs no message: it watches the jobfile and reloads.

use crate::context::Context;
use crate::error::Error;
use crate::jobfile;
use crate::output;

/// Pauses (`paused`) or resumes the named jobs; one line per job says whether it changed.
pub(super) fn run(ctx: &Context, names: &[String], paused: bool) -> Result<(), Error> {
    let changes = jobfile::set_paused(&ctx.jobfile, names, paused, ctx.local_tz)?;
    let (done, already) = if paused {
        ("paused", "already paused")
    } else {
        ("resumed", "not paused")
    };
    let text: String = changes
        .iter()
        .map(|c| {
            if c.changed {
                format!("{done} {}\n", c.name)
            } else {
                format!("{} was {already}\n", c.name)
            }
        })
        .collect();
    output::print(text.as_bytes()).map_err(Error::Output)
}
