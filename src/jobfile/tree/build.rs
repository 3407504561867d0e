//! Builds a [`Tree`] from toml_parser's events: a port of toml_edit 0.25's `parser/document.rs`,
//! `inline_table.rs`, `array.rs`, `key.rs` and `value.rs` without the layout they record.
//! Every check those files make is made here, in the same order, reporting to the same kind
//! of error sink; the differential tests in `tests.rs` hold the two to the same answers.
//!
//! The text is lexed as it is parsed, [`CHUNK_TOKENS`] tokens at a time: a chunk ends at a line
//! end outside any brackets, which in valid TOML is always where one expression ends and the
//! next begins, so each chunk parses as a document of its own. That keeps the tokens and events
//! of a large jobfile from ever being in memory at once (toml_edit holds them all: 24 bytes
//! each, over 200,000 for 10,000 jobs).
//!
//! The problem reported is the one toml_edit reports: its first. toml_edit checks the grammar
//! of the whole text before it reads any key or value, so a grammar error anywhere comes before
//! a duplicate key or a bad number; after a problem of either kind in one chunk, the whole text
//! is parsed again at once for its first grammar error (see `whole_grammar_error`).

use std::borrow::Cow;

use toml_edit::Datetime;
use toml_parser::decoder::ScalarKind;
use toml_parser::lexer::{Lexer, Token, TokenKind};
use toml_parser::parser::{Event, EventKind, EventReceiver, RecursionGuard, ValidateWhitespace};
use toml_parser::{ErrorSink, Expected, ParseError, Source, Span};

use super::{Data, Id, Kind, OWNED, ROOT, Text, Tree};

/// Tokens lexed before the parser runs over them, at the next line end outside brackets.
pub(super) const CHUNK_TOKENS: usize = 4096;

/// toml_edit's nesting limit (`parser::LIMIT`), for arrays and inline tables and for keys.
const LIMIT: u32 = 80;

/// A decoded key and where it is written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Key {
    pub(super) text: Text,
    pub(super) span: (u32, u32),
}

/// A `[header]` or `[[header]]` whose table is being filled.
struct Header {
    path: Vec<Key>,
    key: Option<Key>,
    span: (u32, u32),
    is_array: bool,
    /// A table that existed implicitly and is now declared: it stays where it is until the
    /// header's table ends, then moves to the end, as toml_edit's remove and insert do.
    reopened: bool,
}

/// Parses `text`, `chunk` tokens at a time (tests use tiny chunks to put a cut everywhere).
pub(super) fn build(text: &str, chunk: usize) -> Result<Tree<'_>, ParseError> {
    if u32::try_from(text.len()).is_err() {
        return Err(ParseError::new("the jobfile is larger than 4 GiB"));
    }
    let source = Source::new(text);
    let mut builder = Builder {
        source,
        tree: Tree::new(text),
        current: ROOT,
        header: None,
        spare_path: Vec::new(),
    };
    let mut chunks = Chunks {
        lexer: source.lex(),
        tokens: Vec::with_capacity(chunk + 64),
        size: chunk,
        depth: 0,
        more: true,
    };
    let mut events = Vec::new();
    while chunks.advance() {
        events.clear();
        if let Err(error) = parse_grammar(source, &chunks.tokens, &mut events) {
            return Err(whole_grammar_error(source).unwrap_or(error));
        }
        let mut problem = None;
        builder.document(&events, &mut problem);
        if let Some(problem) = problem {
            return Err(whole_grammar_error(source).unwrap_or(problem));
        }
    }
    let mut problem = None;
    builder.finish_table(&mut problem);
    problem.map_or(Ok(builder.tree), Err)
}

/// The message toml_edit's `TomlError` gives `error`: what is wrong, then what was expected.
pub(super) fn message(error: &ParseError) -> String {
    let mut message = error.description().to_owned();
    if let Some(expected) = error.expected() {
        message.push_str(", expected ");
        if expected.is_empty() {
            message.push_str("nothing");
        }
        for (i, expected) in expected.iter().enumerate() {
            if i != 0 {
                message.push_str(", ");
            }
            match expected {
                Expected::Literal("\n") => message.push_str("newline"),
                Expected::Literal("`") => message.push_str("'`'"),
                Expected::Literal(s) if s.chars().all(|c| c.is_ascii_control()) => {
                    message.push_str(&format!("`{}`", s.escape_debug()));
                }
                Expected::Literal(s) => message.push_str(&format!("`{s}`")),
                Expected::Description(s) => message.push_str(s),
                _ => message.push_str("etc"),
            }
        }
    }
    message
}

/// Runs toml_parser over one chunk's tokens as toml_edit does, its events into `events`.
fn parse_grammar(
    source: Source<'_>,
    tokens: &[Token],
    events: &mut dyn EventReceiver,
) -> Result<(), ParseError> {
    let mut error = None;
    let mut receiver = ValidateWhitespace::new(events, source);
    let mut receiver = RecursionGuard::new(&mut receiver, LIMIT);
    toml_parser::parser::parse_document(tokens, &mut receiver, &mut error);
    error.map_or(Ok(()), Err)
}

/// The first grammar error of the whole text, parsed at once as toml_edit parses it. Only a
/// text with a problem gets here. In valid TOML every chunk ends where an expression does, but
/// brackets that do not pair up can make a chunk end inside one, and the parser then recovers
/// differently from its place in the whole text: a fuzzed file got "unclosed inline table" one
/// byte before toml_edit's "missing comma between key-value pairs" (issue 12). So the error
/// reported is always the whole text's, and chunks only save memory on the way to a valid tree.
fn whole_grammar_error(source: Source<'_>) -> Option<ParseError> {
    let tokens: Vec<Token> = source.lex().collect();
    parse_grammar(source, &tokens, &mut ()).err()
}

/// The text's tokens, a chunk at a time.
struct Chunks<'t> {
    lexer: Lexer<'t>,
    tokens: Vec<Token>,
    size: usize,
    /// Brackets open at the end of the last chunk.
    depth: i64,
    more: bool,
}

impl Chunks<'_> {
    /// Lexes the next chunk into `tokens`; false once the text is used up.
    fn advance(&mut self) -> bool {
        if !self.more {
            return false;
        }
        self.tokens.clear();
        self.more = false;
        for token in self.lexer.by_ref() {
            self.tokens.push(token);
            match token.kind() {
                TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => self.depth += 1,
                TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => self.depth -= 1,
                TokenKind::Newline if self.depth == 0 && self.tokens.len() >= self.size => {
                    self.more = true;
                    break;
                }
                _ => {}
            }
        }
        true
    }
}

/// The events of one chunk, read in order with a little lookahead.
struct Input<'e> {
    events: &'e [Event],
    at: usize,
}

impl Input<'_> {
    fn next(&mut self) -> Option<Event> {
        let event = self.events.get(self.at).copied();
        self.at += usize::from(event.is_some());
        event
    }

    fn peek(&self, ahead: usize) -> Option<EventKind> {
        self.events.get(self.at + ahead).map(Event::kind)
    }
}

struct Builder<'t> {
    source: Source<'t>,
    tree: Tree<'t>,
    /// The table key/values go into: the root until the first header, then the header's.
    current: Id,
    header: Option<Header>,
    /// The last header's path, kept for the next one so that headers allocate nothing.
    spare_path: Vec<Key>,
}

fn span32(span: Span) -> (u32, u32) {
    // `build` checked that every offset fits.
    let at = |offset: usize| u32::try_from(offset).unwrap_or(u32::MAX);
    (at(span.start()), at(span.end()))
}

fn to_span(span: (u32, u32)) -> Span {
    Span::new_unchecked(span.0 as usize, span.1 as usize)
}

impl<'t> Builder<'t> {
    /// Decoded text that borrows from the source stays a range of it.
    fn text(&mut self, decoded: Cow<'t, str>) -> Text {
        if decoded.is_empty() {
            return Text { start: 0, end: 0 };
        }
        let input = self.source.input();
        let slice = |s: &str| {
            let at = (s.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
            (at + s.len() <= input.len()).then(|| span32(Span::new_unchecked(at, at + s.len())))
        };
        if let Cow::Borrowed(s) = decoded
            && let Some((start, end)) = slice(s)
        {
            return Text { start, end };
        }
        Text {
            start: OWNED,
            end: index(&mut self.tree.owned, decoded.into_owned()),
        }
    }

    fn key_str(&self, key: Key) -> &str {
        self.tree.str(key.text)
    }

    /// toml_edit's `parser::document::document`, for one chunk.
    fn document(&mut self, events: &[Event], errors: &mut dyn ErrorSink) {
        let mut input = Input { events, at: 0 };
        let mut path = Vec::new();
        while let Some(event) = input.next() {
            match event.kind() {
                EventKind::StdTableOpen | EventKind::ArrayTableOpen => {
                    self.finish_table(errors);
                    self.on_table(event, &mut input, errors);
                    ws_comment_newline(&mut input);
                    self.start_table(errors);
                }
                EventKind::SimpleKey => {
                    path.clear();
                    let Some(key) = self.on_key(event, &mut input, &mut path, errors) else {
                        break;
                    };
                    let Some(mut next) = input.next() else { break };
                    if next.kind() == EventKind::Whitespace {
                        let Some(after) = input.next() else { break };
                        next = after;
                    }
                    if next.kind() != EventKind::KeyValSep {
                        break;
                    }
                    if input.peek(0) == Some(EventKind::Whitespace) {
                        input.next();
                    }
                    let value = self.value(&mut input, errors);
                    ws_comment_newline(&mut input);
                    self.capture_key_value(&path, key, value, errors);
                }
                _ => {}
            }
        }
    }

    /// A header's keys and span, kept in `self.header`.
    fn on_table(&mut self, open: Event, input: &mut Input<'_>, errors: &mut dyn ErrorSink) {
        let mut path = std::mem::take(&mut self.spare_path);
        let mut key = None;
        let mut span = open.span();
        while let Some(event) = input.next() {
            match event.kind() {
                EventKind::ArrayTableClose | EventKind::StdTableClose => {
                    span = span.append(event.span());
                    break;
                }
                EventKind::SimpleKey => {
                    path.clear();
                    key = self.on_key(event, input, &mut path, errors);
                }
                _ => {}
            }
        }
        self.header = Some(Header {
            path,
            key,
            span: span32(span),
            is_array: open.kind() == EventKind::ArrayTableOpen,
            reopened: false,
        });
    }

    /// A key and its dotted prefix (pushed onto `path`): toml_edit's `parser::key::on_key`.
    fn on_key(
        &mut self,
        first: Event,
        input: &mut Input<'_>,
        path: &mut Vec<Key>,
        errors: &mut dyn ErrorSink,
    ) -> Option<Key> {
        let more_key = |input: &Input<'_>| {
            input.peek(0) == Some(EventKind::KeySep)
                || (input.peek(0) == Some(EventKind::Whitespace)
                    && input.peek(1) == Some(EventKind::KeySep))
        };
        let mut current = Some(first);
        let mut key = None;
        if more_key(input) {
            while let Some(event) = input.next() {
                match event.kind() {
                    EventKind::SimpleKey => {
                        current = Some(event);
                        if !more_key(input) {
                            break;
                        }
                    }
                    EventKind::KeySep => {
                        if let Some(done) = current.take() {
                            path.extend(key.replace(self.decode_key(done, errors)));
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(done) = current.take() {
            path.extend(key.replace(self.decode_key(done, errors)));
        }
        if LIMIT as usize <= path.len() {
            // toml_edit reports this at no place, which rendered as 1:1 however far down the
            // file the key was (issue 12); the first key past the limit is where it is.
            let at = to_span(path[LIMIT as usize - 1].span);
            errors.report_error(ParseError::new("recursion limit").with_unexpected(at));
            path.clear();
            return None;
        }
        key
    }

    fn decode_key(&mut self, event: Event, errors: &mut dyn ErrorSink) -> Key {
        let mut decoded = Cow::Borrowed("");
        if let Some(raw) = self.source.get(event) {
            raw.decode_key(&mut decoded, errors);
        }
        Key {
            text: self.text(decoded),
            span: span32(event.span()),
        }
    }

    /// toml_edit's `parser::value::value`: a detached node for the value.
    fn value(&mut self, input: &mut Input<'_>, errors: &mut dyn ErrorSink) -> Id {
        if let Some(event) = input.next()
            && let Some(value) = self.nested_value(event, input, errors)
        {
            return value;
        }
        let i = index(&mut self.tree.integers, 0);
        self.tree.add_value(Kind::Integer, (0, 0), Data::Integer(i))
    }

    /// toml_edit's `parser::value::on_scalar`.
    fn on_scalar(&mut self, event: Event, errors: &mut dyn ErrorSink) -> Id {
        let span = event.span();
        let mut decoded = Cow::Borrowed("");
        let kind = match self.source.get(event) {
            Some(raw) => raw.decode_scalar(&mut decoded, errors),
            None => ScalarKind::String,
        };
        let (kind, data) = match kind {
            ScalarKind::String => (Kind::String, Data::String(self.text(decoded))),
            ScalarKind::Boolean(b) => (Kind::Boolean, Data::Boolean(b)),
            ScalarKind::DateTime => {
                let value = decoded.parse::<Datetime>().unwrap_or_else(|e| {
                    errors.report_error(ParseError::new(e.to_string()).with_unexpected(span));
                    Datetime {
                        date: None,
                        time: None,
                        offset: None,
                    }
                });
                (
                    Kind::Datetime,
                    Data::Datetime(index(&mut self.tree.datetimes, value)),
                )
            }
            ScalarKind::Float => {
                let value = match decoded.parse::<f64>() {
                    Ok(value) => {
                        let digits = decoded.strip_prefix(['+', '-']).unwrap_or(&decoded);
                        if value.is_infinite() && !digits.chars().all(|c| c.is_ascii_alphabetic()) {
                            errors.report_error(
                                ParseError::new("floating-point number overflowed")
                                    .with_unexpected(span),
                            );
                        }
                        value
                    }
                    Err(_) => {
                        errors.report_error(
                            ParseError::new(kind.invalid_description()).with_unexpected(span),
                        );
                        f64::NAN
                    }
                };
                (
                    Kind::Float,
                    Data::Float(index(&mut self.tree.floats, value)),
                )
            }
            ScalarKind::Integer(radix) => {
                let value = i64::from_str_radix(&decoded, radix.value()).unwrap_or_else(|_| {
                    errors.report_error(
                        ParseError::new("integer number overflowed").with_unexpected(span),
                    );
                    i64::MAX
                });
                (
                    Kind::Integer,
                    Data::Integer(index(&mut self.tree.integers, value)),
                )
            }
        };
        self.tree.add_value(kind, span32(span), data)
    }

    /// A value that starts with `event` (a scalar, an array or an inline table), as a detached
    /// node; `None` for any other event.
    fn nested_value(
        &mut self,
        event: Event,
        input: &mut Input<'_>,
        errors: &mut dyn ErrorSink,
    ) -> Option<Id> {
        match event.kind() {
            EventKind::InlineTableOpen => Some(self.on_inline_table(event, input, errors)),
            EventKind::ArrayOpen => Some(self.on_array(event, input, errors)),
            EventKind::Scalar => Some(self.on_scalar(event, errors)),
            _ => None,
        }
    }

    /// Ends an array or inline table: its span, and whether a comma follows its last element
    /// (`trailing`: the last thing before the closing bracket was a comma, or nothing).
    fn close(&mut self, id: Id, span: Span, closed: bool, trailing: bool) {
        let node = self.tree.node_mut(id);
        node.span = span32(span);
        node.trailing_comma = closed && trailing && node.len > 0;
    }

    /// toml_edit's `parser::array::on_array`.
    fn on_array(&mut self, open: Event, input: &mut Input<'_>, errors: &mut dyn ErrorSink) -> Id {
        let array = self.tree.add(Kind::Array, span32(open.span()));
        let (mut close, mut closed, mut trailing, mut value) = (open.span(), false, true, None);
        while let Some(event) = input.next() {
            close = event.span();
            match event.kind() {
                EventKind::StdTableOpen
                | EventKind::ArrayTableOpen
                | EventKind::InlineTableClose
                | EventKind::SimpleKey
                | EventKind::KeySep
                | EventKind::KeyValSep
                | EventKind::StdTableClose
                | EventKind::ArrayTableClose => break,
                EventKind::ValueSep => {
                    if let Some(v) = value.take() {
                        self.tree.push(array, v);
                    }
                    trailing = true;
                }
                EventKind::ArrayClose => {
                    if let Some(v) = value.take() {
                        self.tree.push(array, v);
                    }
                    closed = true;
                    break;
                }
                _ => {
                    if let Some(v) = self.nested_value(event, input, errors) {
                        value = Some(v);
                        trailing = false;
                    }
                }
            }
        }
        self.close(array, open.span().append(close), closed, trailing);
        array
    }

    /// toml_edit's `parser::inline_table::on_inline_table`.
    fn on_inline_table(
        &mut self,
        open: Event,
        input: &mut Input<'_>,
        errors: &mut dyn ErrorSink,
    ) -> Id {
        let table = self.tree.add(Kind::InlineTable, span32(open.span()));
        let (mut close, mut closed, mut trailing, mut value) = (open.span(), false, true, None);
        let (mut path, mut key) = (Vec::new(), None);
        while let Some(event) = input.next() {
            close = event.span();
            match event.kind() {
                EventKind::StdTableOpen
                | EventKind::ArrayTableOpen
                | EventKind::StdTableClose
                | EventKind::ArrayClose
                | EventKind::ArrayTableClose
                | EventKind::KeySep => break,
                EventKind::SimpleKey => {
                    path.clear();
                    key = self.on_key(event, input, &mut path, errors);
                    trailing = false;
                }
                EventKind::ValueSep => {
                    self.finish_inline_value(table, &path, key.take(), value.take(), errors);
                    trailing = true;
                }
                EventKind::InlineTableClose => {
                    self.finish_inline_value(table, &path, key.take(), value.take(), errors);
                    closed = true;
                    break;
                }
                _ => {
                    if let Some(v) = self.nested_value(event, input, errors) {
                        value = Some(v);
                    }
                }
            }
        }
        self.close(table, open.span().append(close), closed, trailing);
        table
    }

    /// toml_edit's `inline_table::State::finish_value`.
    fn finish_inline_value(
        &mut self,
        table: Id,
        path: &[Key],
        key: Option<Key>,
        value: Option<Id>,
        errors: &mut dyn ErrorSink,
    ) {
        let (Some(key), Some(value)) = (key, value) else {
            return;
        };
        let Some(parent) = self.descend_inline(table, path, errors) else {
            return;
        };
        if self.tree.node(parent).dotted == path.is_empty() {
            errors.report_error(duplicate_key(key, None));
        } else {
            self.insert_new(parent, key, value, errors);
        }
    }

    /// toml_edit's `inline_table::descend_path`.
    fn descend_inline(
        &mut self,
        mut table: Id,
        path: &[Key],
        errors: &mut dyn ErrorSink,
    ) -> Option<Id> {
        for &key in path {
            table = match self.tree.get(table, self.key_str(key)) {
                None => {
                    let child = self.tree.add(Kind::InlineTable, key.span);
                    let node = self.tree.node_mut(child);
                    node.implicit = true;
                    node.dotted = true;
                    self.tree.insert(table, key, child);
                    child
                }
                Some(child) => {
                    let node = self.tree.node(child);
                    if node.kind != Kind::InlineTable {
                        let message = format!(
                            "cannot extend value of type {} with a dotted key",
                            type_name(node.kind)
                        );
                        errors.report_error(
                            ParseError::new(message).with_unexpected(to_span(key.span)),
                        );
                        return None;
                    }
                    if !node.implicit {
                        errors.report_error(duplicate_key(key, None));
                        return None;
                    }
                    child
                }
            };
        }
        Some(table)
    }

    /// toml_edit's `document::State::capture_key_value`.
    fn capture_key_value(&mut self, path: &[Key], key: Key, value: Id, errors: &mut dyn ErrorSink) {
        let dotted = !path.is_empty();
        let Some(parent) = self.descend(self.current, path, dotted, errors) else {
            return;
        };
        if dotted && !self.tree.node(parent).implicit {
            errors.report_error(duplicate_key(key, None));
            return;
        }
        self.insert_new(parent, key, value, errors);
    }

    /// Adds a key/value to `table`, or reports the key as a duplicate.
    fn insert_new(&mut self, table: Id, key: Key, value: Id, errors: &mut dyn ErrorSink) {
        match self.tree.get(table, self.key_str(key)) {
            Some(existing) => {
                let old = self.tree.node(existing).key_span;
                errors.report_error(duplicate_key(key, Some(old)));
            }
            None => self.tree.insert(table, key, value),
        }
    }

    /// toml_edit's `document::State::finish_table`: the table of the header just read goes into
    /// its parent (or, before any header, the key/values read so far are the root's).
    fn finish_table(&mut self, errors: &mut dyn ErrorSink) {
        let table = self.current;
        let Some(header) = self.header.take() else {
            return;
        };
        let Some(key) = header.key else {
            return;
        };
        self.tree.node_mut(table).span = header.span;
        let Some(parent) = self.descend(ROOT, &header.path, false, errors) else {
            return;
        };
        self.spare_path = header.path;
        if header.is_array {
            let array = match self.tree.get(parent, self.key_str(key)) {
                Some(existing) => existing,
                None => {
                    let array = self.tree.add(Kind::ArrayOfTables, header.span);
                    self.tree.insert(parent, key, array);
                    array
                }
            };
            if self.tree.node(array).kind != Kind::ArrayOfTables {
                let old = self.tree.node(array).span;
                errors.report_error(duplicate_key(key, Some(old)));
                return;
            }
            self.tree.push(array, table);
            let (first, last) = self.tree.ends(array);
            let (first, last) = (self.tree.node(first).span, self.tree.node(last).span);
            self.tree.node_mut(array).span = (first.0, last.1);
        } else if header.reopened {
            self.tree.move_to_end(parent, table, key);
        } else {
            self.tree.insert(parent, key, table);
        }
    }

    /// toml_edit's `document::State::start_table`: a new table for the header, or the implicit
    /// one an earlier header or dotted key made.
    fn start_table(&mut self, errors: &mut dyn ErrorSink) {
        let Some(mut header) = self.header.take() else {
            return;
        };
        let mut table = None;
        if !header.is_array
            && let Some(parent) = self.descend(ROOT, &header.path, false, errors)
            && let Some(key) = header.key
            && let Some(existing) = self.tree.get(parent, self.key_str(key))
        {
            let node = self.tree.node(existing);
            if node.kind == Kind::Table && node.implicit && !node.dotted {
                table = Some(existing);
            } else {
                errors.report_error(duplicate_key(key, Some(node.key_span)));
                if node.kind == Kind::Table {
                    table = Some(existing);
                }
            }
        }
        header.reopened = table.is_some();
        let table = table.unwrap_or_else(|| self.tree.add(Kind::Table, header.span));
        let node = self.tree.node_mut(table);
        node.implicit = false;
        node.dotted = false;
        node.span = header.span;
        self.current = table;
        self.header = Some(header);
    }

    /// toml_edit's `document::descend_path`: the table at `path` under `table`, made implicitly
    /// where missing.
    fn descend(
        &mut self,
        mut table: Id,
        path: &[Key],
        dotted: bool,
        errors: &mut dyn ErrorSink,
    ) -> Option<Id> {
        for &key in path {
            table = match self.tree.get(table, self.key_str(key)) {
                None => {
                    let child = self.tree.add(Kind::Table, key.span);
                    let node = self.tree.node_mut(child);
                    node.implicit = true;
                    node.dotted = dotted;
                    self.tree.insert(table, key, child);
                    child
                }
                Some(child) => match self.tree.node(child).kind {
                    Kind::ArrayOfTables => self.tree.ends(child).1,
                    Kind::Table => {
                        let node = self.tree.node_mut(child);
                        if dotted && node.implicit {
                            node.dotted = true;
                        }
                        if dotted && !node.implicit {
                            errors.report_error(duplicate_key(key, None));
                            return None;
                        }
                        child
                    }
                    kind => {
                        let node = self.tree.node(child);
                        let message = format!(
                            "cannot extend value of type {} with a dotted key",
                            type_name(kind)
                        );
                        errors.report_error(
                            ParseError::new(message)
                                .with_unexpected(to_span(key.span))
                                .with_context(to_span(node.span)),
                        );
                        return None;
                    }
                },
            };
        }
        Some(table)
    }
}

/// toml_edit's `Value::type_name`, for its "cannot extend" message.
fn type_name(kind: Kind) -> &'static str {
    match kind {
        Kind::String => "string",
        Kind::Integer => "integer",
        Kind::Float => "float",
        Kind::Boolean => "boolean",
        Kind::Datetime => "datetime",
        Kind::Array => "array",
        Kind::InlineTable => "inline table",
        Kind::Table => "table",
        Kind::ArrayOfTables => "array of tables",
    }
}

/// toml_edit's "duplicate key" at `key`, with the earlier definition (`old`) as context when
/// toml_edit gives one.
fn duplicate_key(key: Key, old: Option<(u32, u32)>) -> ParseError {
    let error = ParseError::new("duplicate key").with_unexpected(to_span(key.span));
    match old {
        Some(old) => error.with_context(to_span(old)),
        None => error,
    }
}

/// Pushes `value` onto `values`, returning where it is.
fn index<T>(values: &mut Vec<T>, value: T) -> u32 {
    let i = u32::try_from(values.len()).unwrap_or(u32::MAX);
    values.push(value);
    i
}

/// toml_edit's `ws_comment_newline`: skips to the end of the line.
fn ws_comment_newline(input: &mut Input<'_>) {
    while let Some(event) = input.next() {
        if event.kind() == EventKind::Newline {
            break;
        }
    }
}
