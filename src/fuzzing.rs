//! Doors for the fuzz targets in `fuzz/` to parts that are private to the crate. Compiled only
//! with `--cfg fuzzing`, which cargo-fuzz sets, so nothing here is part of jobrun's interface.

/// The jobfile's tree against toml_edit on `text` (see `jobfile/tree/compare.rs`), with the
/// tokens cut into chunks of `chunk` (small chunks put a cut at every line end).
pub fn tree_against_toml_edit(text: &str, chunk: usize) -> Result<(), String> {
    crate::jobfile::tree_against_toml_edit(text, chunk)
}

/// Decodes one row of the store's `runs` table made of these 18 SQLite values (in the order of
/// the table's columns), as a read does; a row that decodes must encode back to one that
/// decodes to the same run. `Err` is a refused row; a panic is a bug.
pub fn decode_run_row(values: Vec<rusqlite::types::Value>) -> Result<(), String> {
    crate::store::decode_run_row(values)
}
