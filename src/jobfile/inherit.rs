//! The `inherit_env` option: `true`, `false`, or a list of variable names and patterns
//! (`["AWS_*", "http_proxy"]`) of jobrun's own environment that a run gets.

use super::value::{Checker, Entry, Field};
use crate::job::InheritEnv;

impl Checker<'_> {
    pub(super) fn inherit_env(&mut self, entry: &Entry<'_>) -> Option<InheritEnv> {
        if let Some(all) = entry.item.as_bool() {
            return Some(if all {
                InheritEnv::All
            } else {
                InheritEnv::Nothing
            });
        }
        if !entry.item.is_array() {
            self.wrong_type(
                entry,
                "true, false, or a list of names like [\"AWS_*\", \"http_proxy\"]",
                None,
            );
            return None;
        }
        let mut patterns = Vec::with_capacity(entry.item.len());
        let mut ok = true;
        for (i, element) in entry.item.elements().enumerate() {
            let field = Field::Index(&entry.field, i);
            let pattern = element.as_str().filter(|p| is_pattern(p));
            match pattern {
                Some(pattern) => patterns.push(pattern.to_owned()),
                None => {
                    ok = false;
                    self.error(
                        element.span(),
                        &field,
                        format!(
                            "expected a variable name or pattern like \"AWS_*\", found {}",
                            if element.as_str().is_some() {
                                "a string that is neither"
                            } else {
                                element.kind()
                            }
                        ),
                        Some(
                            "names are letters, digits and \"_\"; * stands for any run of them, \
                             ? for one"
                                .to_owned(),
                        ),
                    );
                }
            }
        }
        ok.then_some(InheritEnv::Matching(patterns))
    }
}

/// A name of letters, digits and `_`, with `*` and `?` wildcards anywhere.
fn is_pattern(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '*' | '?'))
}
