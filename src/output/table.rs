//! Aligned tables that fit the terminal: columns measured in display cells (a CJK character
//! takes two, a combining accent none), separated by two spaces, without trailing spaces.
//!
//! When a width is given and the natural layout is wider, columns that may shrink are cut
//! (with `…`) down to their minimum, then columns that may go are dropped, least useful first,
//! until the table fits; a table that still cannot fit is printed as it is. Nothing wraps
//! mid-word.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::{Paint, Style};

/// A column: its title and how it gives way when the table is too wide.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub title: &'static str,
    /// May be cut down to this many cells.
    shrink_to: Option<usize>,
    /// May be dropped; lower ranks go first.
    drop_rank: Option<u8>,
}

impl Column {
    pub fn new(title: &'static str) -> Column {
        Column {
            title,
            shrink_to: None,
            drop_rank: None,
        }
    }

    /// The column may be cut (ending in `…`) down to `min` cells.
    pub fn shrink(self, min: usize) -> Column {
        Column {
            shrink_to: Some(min.max(2)),
            ..self
        }
    }

    /// The column may be left out; rank 0 goes first.
    pub fn drop(self, rank: u8) -> Column {
        Column {
            drop_rank: Some(rank),
            ..self
        }
    }
}

/// One cell: its text and what it is, for colour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    pub paint: Option<Paint>,
}

impl Cell {
    pub fn painted(text: impl Into<String>, paint: Paint) -> Cell {
        Cell {
            text: text.into(),
            paint: Some(paint),
        }
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Cell {
        Cell { text, paint: None }
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Cell {
        Cell::from(text.to_owned())
    }
}

/// Display width of `text` in terminal cells.
pub fn width(text: &str) -> usize {
    text.width()
}

/// `text` cut to at most `max` cells, ending in `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        out.push(c);
        used += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// Where each column goes: its width, or `None` when it is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    widths: Vec<Option<usize>>,
}

impl Layout {
    /// The layout of columns whose widest cells (titles included) are `natural`, within
    /// `max_width` cells when given.
    pub fn fit(columns: &[Column], natural: &[usize], max_width: Option<usize>) -> Layout {
        let mut widths: Vec<Option<usize>> = natural.iter().map(|w| Some(*w)).collect();
        let Some(max) = max_width else {
            return Layout { widths };
        };
        let mut drop_order: Vec<usize> = (0..columns.len())
            .filter(|&i| columns[i].drop_rank.is_some())
            .collect();
        drop_order.sort_by_key(|&i| columns[i].drop_rank);
        let mut drop_order = drop_order.into_iter();
        loop {
            // Start from the natural widths of the columns still shown, then shrink.
            for (i, w) in widths.iter_mut().enumerate() {
                if w.is_some() {
                    *w = Some(natural[i]);
                }
            }
            let total = |widths: &[Option<usize>]| {
                let shown: Vec<usize> = widths.iter().flatten().copied().collect();
                shown.iter().sum::<usize>() + 2 * shown.len().saturating_sub(1)
            };
            // The last shrinkable column gives way first: it is usually the least read.
            for i in (0..columns.len()).rev() {
                let excess = total(&widths).saturating_sub(max);
                if excess == 0 {
                    break;
                }
                if let (Some(w), Some(min)) = (widths[i], columns[i].shrink_to) {
                    let floor = min.max(width(columns[i].title));
                    widths[i] = Some(w.saturating_sub(excess).max(floor.min(w)));
                }
            }
            if total(&widths) <= max {
                break;
            }
            match drop_order.next() {
                Some(i) => widths[i] = None,
                None => break,
            }
        }
        Layout { widths }
    }

    /// Whether column `index` is shown.
    pub fn shown(&self, index: usize) -> bool {
        self.widths.get(index).is_some_and(Option::is_some)
    }

    /// Appends one line of `cells` (header or row) laid out, colour per cell.
    pub fn line(&self, cells: &[Cell], style: Style, out: &mut String) {
        // Padding is held back until text follows it, so lines never end in spaces.
        let mut pending = 0;
        let mut first = true;
        for (cell, width) in cells.iter().zip(&self.widths) {
            let Some(width) = *width else { continue };
            if !first {
                pending += 2;
            }
            first = false;
            let text = clip(&cell.text, width);
            if !text.is_empty() {
                out.extend(std::iter::repeat_n(' ', pending));
                pending = 0;
                match cell.paint {
                    Some(paint) => out.push_str(&style.paint(paint, &text)),
                    None => out.push_str(&text),
                }
            }
            pending += width.saturating_sub(text.width());
        }
        out.push('\n');
    }
}

/// A table built row by row, then rendered whole.
#[derive(Debug, Clone)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The widest cell of each column, title included.
    pub fn natural_widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width(c.title)).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell.text));
            }
        }
        widths
    }

    pub fn layout(&self, max_width: Option<usize>) -> Layout {
        Layout::fit(&self.columns, &self.natural_widths(), max_width)
    }

    /// The header line, in the header's colour.
    pub fn header(&self, layout: &Layout, style: Style, out: &mut String) {
        let cells: Vec<Cell> = self
            .columns
            .iter()
            .map(|c| Cell::painted(c.title, Paint::Header))
            .collect();
        layout.line(&cells, style, out);
    }

    /// Header and rows, one line each.
    pub fn render(&self, max_width: Option<usize>, style: Style) -> String {
        let layout = self.layout(max_width);
        let mut out = String::new();
        self.header(&layout, style, &mut out);
        for row in &self.rows {
            layout.line(row, style, &mut out);
        }
        out
    }

    /// Each rendered row line (header excluded), for callers that put lines between rows.
    pub fn rows(&self) -> &[Vec<Cell>] {
        &self.rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(columns: Vec<Column>, rows: &[&[&str]]) -> Table {
        let mut t = Table::new(columns);
        for row in rows {
            t.row(row.iter().map(|c| Cell::from(*c)).collect());
        }
        t
    }

    const PLAIN: Style = Style { color: false };

    #[test]
    fn tables_align_and_trim() {
        let t = table(
            vec![Column::new("N"), Column::new("V"), Column::new("Z")],
            &[&["a", "long value", ""], &["bbbb", "x", "y"]],
        );
        assert_eq!(
            t.render(None, PLAIN),
            "N     V           Z\na     long value\nbbbb  x           y\n"
        );
    }

    #[test]
    fn widths_are_display_cells_not_chars() {
        let t = table(
            vec![Column::new("JOB"), Column::new("NEXT")],
            &[&["備份", "soon"], &["café", "later"]],
        );
        assert_eq!(
            t.render(None, PLAIN),
            "JOB   NEXT\n備份  soon\ncafé  later\n"
        );
    }

    #[test]
    fn too_wide_tables_shrink_then_drop_columns() {
        let columns = vec![
            Column::new("NAME"),
            Column::new("ZONE").drop(0),
            Column::new("COMMAND").shrink(8),
        ];
        let t = table(
            columns,
            &[&[
                "backup",
                "America/New_York",
                "pg_dump app | gzip > /backups/app.sql.gz",
            ]],
        );
        // Natural: 6 + 2 + 16 + 2 + 40 = 66.
        assert_eq!(
            t.render(Some(40), PLAIN),
            "NAME    ZONE              COMMAND\nbackup  America/New_York  pg_dump app |…\n"
        );
        assert_eq!(
            t.render(Some(20), PLAIN),
            "NAME    COMMAND\nbackup  pg_dump app…\n"
        );
        for line in t.render(Some(20), PLAIN).lines() {
            assert!(width(line) <= 20, "{line}");
        }
    }

    #[test]
    fn clipping_counts_wide_characters() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("備份備份", 5), "備份…");
        assert_eq!(clip("ab", 4), "ab");
    }
}
