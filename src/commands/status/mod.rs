//! `jobrun status`: what the scheduler is doing, at a glance. On a terminal, a live view
//! (`live.rs`); otherwise, or with `--json` or `--from`, one snapshot (`snapshot.rs`).

mod live;
mod snapshot;

use super::{load_jobfile, parse_instant};
use crate::cli::StatusArgs;
use crate::context::Context;
use crate::error::Error;
use crate::output;

use snapshot::Snapshot;

pub(super) fn run(ctx: &Context, args: &StatusArgs) -> Result<(), Error> {
    if ctx.terminal && !args.json && args.from.is_none() {
        // Fail now on a jobfile that does not load, rather than on a blank screen.
        load_jobfile(ctx)?;
        return live::run(ctx);
    }
    let ctx = match &args.from {
        Some(text) => Context {
            now: parse_instant("--from", text, ctx.local_tz)?,
            ..ctx.clone()
        },
        None => ctx.clone(),
    };
    let jobfile = load_jobfile(&ctx)?;
    let snapshot = Snapshot::read(&ctx, &jobfile)?;
    let text = if args.json {
        let mut out = serde_json::to_vec_pretty(&snapshot).map_err(|e| Error::Output(e.into()))?;
        out.push(b'\n');
        out
    } else {
        let mut text = snapshot
            .render(ctx.width, None, ctx.style, false)
            .join("\n");
        text.push('\n');
        text.into_bytes()
    };
    output::print(&text).map_err(Error::Output)
}
