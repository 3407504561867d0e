//! The one place that decides colour: [`Style`] says whether a stream gets it (`--color`,
//! `NO_COLOR`, whether it is a terminal), and is the only code that writes the terminal's
//! colour escapes (through crossterm). Commands say what a text is ([`Paint`]), not how it
//! looks.

use crossterm::style::Stylize;

/// `--color`: when output is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless NO_COLOR is set
    #[default]
    Auto,
    Always,
    Never,
}

/// What a piece of text is, for colour: the only vocabulary commands use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    /// Table headers and titles.
    Header,
    /// A success (`ok`, `active`).
    Good,
    /// A failure (`exit 3`, `jobrun: error:`).
    Bad,
    /// Worth a look (`missed`, `paused`, `jobrun: warning:`).
    Warn,
    /// Less important detail (relative times, notes).
    Dim,
}

/// Whether one output stream is coloured; resolved once (`context.rs`) from `--color`,
/// `NO_COLOR` and whether the stream is a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    /// `always` and `never` are what they say; `auto` colours a terminal unless `NO_COLOR`
    /// is set to anything but the empty string (no-color.org).
    pub fn resolve(when: ColorWhen, no_color: bool, is_terminal: bool) -> Style {
        let color = match when {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => is_terminal && !no_color,
        };
        Style { color }
    }

    /// `text` in the colour of `paint` (or as it is, without colour).
    pub fn paint(self, paint: Paint, text: &str) -> String {
        if !self.color || text.is_empty() {
            return text.to_owned();
        }
        match paint {
            Paint::Header => text.bold().to_string(),
            Paint::Good => text.green().to_string(),
            Paint::Bad => text.red().bold().to_string(),
            Paint::Warn => text.yellow().to_string(),
            Paint::Dim => text.dark_grey().to_string(),
        }
    }

    /// jobrun's own diagnostics on stderr: the `jobrun: error:` and `jobrun: warning:`
    /// prefixes in colour, the rest as it is.
    pub fn diagnostic(self, text: &str) -> String {
        if !self.color {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len() + 32);
        for line in text.split_inclusive('\n') {
            if let Some(rest) = line.strip_prefix("jobrun: error:") {
                out.push_str(&self.paint(Paint::Bad, "jobrun: error:"));
                out.push_str(rest);
            } else if let Some(rest) = line.strip_prefix("jobrun: warning:") {
                out.push_str(&self.paint(Paint::Warn, "jobrun: warning:"));
                out.push_str(rest);
            } else {
                out.push_str(line);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_follows_the_flag_then_no_color_then_the_terminal() {
        let on = |when, no_color, tty| Style::resolve(when, no_color, tty).color;
        assert!(on(ColorWhen::Always, true, false));
        assert!(!on(ColorWhen::Never, false, true));
        assert!(on(ColorWhen::Auto, false, true));
        assert!(!on(ColorWhen::Auto, true, true));
        assert!(!on(ColorWhen::Auto, false, false));
    }

    #[test]
    fn painting_adds_escapes_only_with_colour() {
        assert_eq!(Style { color: false }.paint(Paint::Bad, "exit 3"), "exit 3");
        assert_eq!(
            Style { color: true }.paint(Paint::Bad, "exit 3"),
            "\u{1b}[38;5;9m\u{1b}[1mexit 3\u{1b}[0m"
        );
        assert_eq!(
            Style { color: true }.diagnostic("jobrun: error: x\nmore\n"),
            "\u{1b}[38;5;9m\u{1b}[1mjobrun: error:\u{1b}[0m x\nmore\n"
        );
    }
}
