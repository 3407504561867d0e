//! The live screen of `jobrun status` on a terminal (crossterm): the alternate screen in raw
//! mode, redrawn once a second (the countdowns tick) and at once on a resize; `q`, Esc or
//! Ctrl-C quits. The terminal is restored however the view ends: on return (a guard), on a
//! panic (a hook), and on SIGTERM, SIGHUP, SIGINT or SIGQUIT (a thread that restores it,
//! then exits 128+n).
//!
//! It never wakes but for a key, a resize, a signal, or the next whole second: the wait is
//! one `poll(2)` (crossterm's event source) with the time to that second as its timeout.

use std::io::{self, Write};
use std::time::Duration;

use chrono::{Timelike, Utc};
use crossterm::cursor::{Hide, MoveTo, Show};
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::terminal::{self, Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{execute, queue};

use super::snapshot::Snapshot;
use crate::context::Context;
use crate::error::Error;

pub(super) fn run(ctx: &Context) -> Result<(), Error> {
    let _screen =
        Screen::enter().map_err(|e| Error::Runtime(format!("cannot use the terminal: {e}")))?;
    restore_on_panic();
    restore_on_signals()?;
    let mut out = io::stdout();
    loop {
        draw(ctx, &mut out).map_err(Error::Output)?;
        // Until the next whole second, answering keys and resizes meanwhile.
        let now = Utc::now();
        let deadline = std::time::Instant::now()
            + Duration::from_nanos(1_000_000_000 - u64::from(now.nanosecond() % 1_000_000_000));
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() || !event::poll(left).map_err(Error::Output)? {
                break;
            }
            match event::read().map_err(Error::Output)? {
                Event::Key(key) if key.kind != KeyEventKind::Release => {
                    let ctrl_c = key.code == KeyCode::Char('c')
                        && key.modifiers.contains(KeyModifiers::CONTROL);
                    if ctrl_c || matches!(key.code, KeyCode::Char('q') | KeyCode::Esc) {
                        return Ok(());
                    }
                }
                Event::Resize(_, _) => draw(ctx, &mut out).map_err(Error::Output)?,
                _ => {}
            }
        }
    }
}

/// One frame: the state as it is now, fitted to the terminal's size. Lines are overwritten in
/// place (each cleared to its end), so nothing flickers.
fn draw(ctx: &Context, out: &mut impl Write) -> io::Result<()> {
    let (cols, rows) = terminal::size()?;
    let now = Context {
        now: Utc::now(),
        ..ctx.clone()
    };
    let lines = match crate::jobfile::load(&now.jobfile, now.local_tz, &now.trust)
        .map_err(Error::from)
        .and_then(|jobfile| Snapshot::read(&now, &jobfile))
    {
        Ok(snapshot) => snapshot.render(
            Some(usize::from(cols)),
            Some(usize::from(rows)),
            ctx.style,
            true,
        ),
        // A broken edit of the jobfile or a busy store: say so, and try again next second.
        Err(e) => {
            let mut lines: Vec<String> = e.render().lines().map(str::to_owned).collect();
            lines.push(String::new());
            lines.push("q, Esc or Ctrl-C: quit".to_owned());
            lines
        }
    };
    for (row, line) in lines.iter().enumerate() {
        let row = u16::try_from(row).unwrap_or(u16::MAX);
        queue!(out, MoveTo(0, row))?;
        out.write_all(line.as_bytes())?;
        queue!(out, Clear(ClearType::UntilNewLine))?;
    }
    let below = u16::try_from(lines.len()).unwrap_or(u16::MAX);
    if below < rows {
        queue!(out, MoveTo(0, below), Clear(ClearType::FromCursorDown))?;
    }
    out.flush()
}

/// The terminal in the view's mode while it lives.
struct Screen;

impl Screen {
    fn enter() -> io::Result<Screen> {
        terminal::enable_raw_mode()?;
        let screen = Screen;
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        Ok(screen)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore(&mut io::stdout().lock());
    }
}

/// Back to the terminal as it was: the normal screen, a cursor, cooked mode. Harmless twice.
fn restore(out: &mut impl Write) {
    let _ = execute!(out, Show, LeaveAlternateScreen);
    let _ = terminal::disable_raw_mode();
}

fn restore_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore(&mut io::stdout());
        previous(info);
    }));
}

/// A thread that, on a terminating signal, restores the terminal and exits 128+n. It holds
/// stdout meanwhile, so no half frame lands on the restored screen.
fn restore_on_signals() -> Result<(), Error> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT, SIGQUIT])
        .map_err(|e| Error::Runtime(format!("cannot handle signals: {e}")))?;
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            let mut out = io::stdout().lock();
            restore(&mut out);
            std::process::exit(128 + signal);
        }
    });
    Ok(())
}
