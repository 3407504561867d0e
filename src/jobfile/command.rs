//! The command of a job: an array of strings run directly, or — only with `shell = true` — one
//! string for `/bin/sh -c`. A command in the other form is an error whose help shows the
//! command rewritten in the right one.

use toml_edit::{Array, Value};

use super::tree::Item;
use super::trigger::Owner;
use super::validate::NUL;
use super::value::{Checker, Entry, Field};
use crate::job::Command;

impl Checker<'_> {
    /// `command`: an array of strings run directly, or with `shell = true` one string for
    /// `/bin/sh -c`. `inherited` says the shell setting came from `[defaults]`.
    pub(super) fn command(
        &mut self,
        entry: Option<&Entry<'_>>,
        shell: Option<bool>,
        inherited: bool,
        job: &Owner<'_>,
    ) -> Option<Command> {
        let Some(e) = entry else {
            let help = if shell == Some(true) {
                "add command = \"./report.sh --daily | mail me\""
            } else {
                "add command = [\"./report.sh\", \"--daily\"]"
            };
            self.error(
                job.span.clone(),
                job.field,
                format!("{} has no command", job.name),
                Some(help.to_owned()),
            );
            return None;
        };
        let shell = shell.unwrap_or(false);
        let from_defaults = if inherited {
            " (inherited from [defaults])"
        } else {
            ""
        };
        let array = e.item.is_array().then_some(e.item);
        match (e.item.as_str(), array, shell) {
            (Some(script), _, true) if script.trim().is_empty() => self.error(
                e.span.clone(),
                &e.field,
                "the command is empty".into(),
                None,
            ),
            (Some(script), _, true) if script.contains('\0') => {
                self.error(e.span.clone(), &e.field, NUL.to_owned(), None);
            }
            (Some(script), _, true) => return Some(Command::Shell(script.to_owned())),
            (Some(script), _, false) => {
                let words: Vec<&str> = script.split_whitespace().collect();
                let as_array = Value::from(Array::from_iter(words.iter().copied()));
                let help = if script.contains(|c: char| "|&;<>()$`\\\"'*?[]#~=%{}".contains(c))
                    || words.is_empty()
                {
                    format!(
                        "it uses shell syntax: add shell = true to run it with /bin/sh -c{from_defaults}"
                    )
                } else {
                    format!(
                        "write command = {as_array} to run it directly, or add shell = true to run it with /bin/sh -c"
                    )
                };
                let message = format!("a command string needs shell = true{from_defaults}");
                self.error(e.span.clone(), &e.field, message, Some(help));
            }
            (_, Some(array), true) => {
                let joined: Vec<&str> = array.elements().filter_map(Item::as_str).collect();
                let joined = Value::from(joined.join(" "));
                let remove = if inherited {
                    "set shell = false in this job"
                } else {
                    "remove shell = true"
                };
                self.error(
                    e.span.clone(),
                    &e.field,
                    format!(
                        "with shell = true{from_defaults} the command is one string for /bin/sh -c"
                    ),
                    Some(format!(
                        "write command = {joined}, or {remove} to run the words directly"
                    )),
                );
            }
            (_, Some(array), false) => return self.argv(e, array),
            (None, None, _) => {
                let expected = if shell {
                    "a string like \"pg_dump app | gzip > app.sql.gz\""
                } else {
                    "an array of strings like [\"./report.sh\", \"--daily\"]"
                };
                self.wrong_type(e, expected, None);
            }
        }
        None
    }

    fn argv(&mut self, e: &Entry<'_>, array: Item<'_>) -> Option<Command> {
        if array.len() == 0 {
            let help = Some(
                "write the program and its arguments, like [\"./report.sh\", \"--daily\"]"
                    .to_owned(),
            );
            self.error(
                e.span.clone(),
                &e.field,
                "the command is empty".into(),
                help,
            );
            return None;
        }
        let mut words = Vec::with_capacity(array.len());
        for (i, value) in array.elements().enumerate() {
            let span = value.span();
            let field = Field::Index(&e.field, i);
            match value.as_str() {
                Some("") if i == 0 => {
                    self.error(span, &field, "the program name is empty".into(), None)
                }
                Some(word) if word.contains('\0') => self.error(span, &field, NUL.to_owned(), None),
                Some(word) => words.push(word.to_owned()),
                None => {
                    let help = value
                        .to_value()
                        .map(|v| format!("quote it: \"{}\"", v.to_string().trim()));
                    let message = format!("expected a string, found {}", value.kind());
                    self.error(span, &field, message, help);
                }
            }
        }
        (words.len() == array.len()).then_some(Command::Argv(words))
    }
}
