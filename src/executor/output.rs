//! A child's output as lines: splitting what its non-blocking pipes deliver, in whatever
//! pieces they deliver it, and the bounded tail of a run's lines that history keeps.
//!
//! Memory stays bounded whatever a job prints: a line longer than `MAX_LINE` comes out in
//! pieces, and one call reads at most `READ_BUDGET` bytes. Nothing here blocks or polls.

use std::collections::VecDeque;
use std::io;
use std::os::fd::BorrowedFd;

use nix::errno::Errno;

/// The longest line handed out whole; longer ones come out in pieces of at most this size.
const MAX_LINE: usize = 64 * 1024;

/// One read: the default capacity of a Linux pipe.
const READ_CHUNK: usize = 64 * 1024;

/// The most one `LineSplitter::read_from` call reads before it returns, so that a child
/// writing without pause cannot keep the loop from its other pipes, signals and deadlines
/// (`poll(2)` reports the pipe again at once). It exceeds the largest pipe an unprivileged
/// writer can ask for (`/proc/sys/fs/pipe-max-size`, 1 MiB by default), so a pipe whose
/// writers have all exited is read to its end in one call.
const READ_BUDGET: usize = 4 * 1024 * 1024;

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Turns the bytes of one pipe into lines, keeping the unterminated rest between reads.
#[derive(Debug, Default)]
pub struct LineSplitter {
    /// The start of the current line; never holds a newline between calls, and stays below
    /// `MAX_LINE + 2` bytes (see `emit_long_pieces`).
    pending: Vec<u8>,
}

impl LineSplitter {
    pub fn new() -> LineSplitter {
        LineSplitter::default()
    }

    /// Reads what is available from the non-blocking fd (until EAGAIN), calls `line` for each
    /// complete line (without the newline, lossy UTF-8, a trailing `\r` trimmed), and returns
    /// `Ok(true)` at EOF (after emitting a final unterminated line, if any).
    ///
    /// It also returns `Ok(false)`, with data possibly left in the pipe, once it has read 4 MiB
    /// in this call, so that one busy child cannot hold up the loop; the pipe is still
    /// readable and `poll(2)` says so.
    ///
    /// A line longer than 64 KiB comes out as several calls of `line`, each piece
    /// at most 64 KiB and cut between UTF-8 characters where the text allows. The
    /// pieces are the same however the bytes arrived.
    pub fn read_from(&mut self, fd: BorrowedFd<'_>, line: impl FnMut(&str)) -> io::Result<bool> {
        self.read_with(fd, &mut LineSplitter::buffer(), line)
    }

    /// A buffer for [`LineSplitter::read_with`]: one read's worth.
    pub fn buffer() -> Box<[u8]> {
        vec![0; READ_CHUNK].into_boxed_slice()
    }

    /// [`LineSplitter::read_from`] through the caller's `chunk` (from
    /// [`LineSplitter::buffer`]), which a loop reading many pipes keeps: a fresh 64 KiB
    /// buffer per read is 64 KiB zeroed per read, several times in each run's life.
    pub fn read_with(
        &mut self,
        fd: BorrowedFd<'_>,
        chunk: &mut [u8],
        mut line: impl FnMut(&str),
    ) -> io::Result<bool> {
        let mut read = 0;
        while read < READ_BUDGET {
            match nix::unistd::read(fd, chunk) {
                Ok(0) => {
                    self.finish(&mut line);
                    return Ok(true);
                }
                Ok(n) => {
                    read += n;
                    self.push(&chunk[..n], &mut line);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return Ok(false),
                Err(e) => return Err(e.into()),
            }
        }
        Ok(false)
    }

    /// Adds bytes as they came from the pipe.
    fn push(&mut self, mut bytes: &[u8], line: &mut impl FnMut(&str)) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            if self.pending.is_empty() {
                emit_line(&bytes[..end], line);
            } else {
                self.pending.extend_from_slice(&bytes[..end]);
                emit_line(&self.pending, line);
                self.pending.clear();
            }
            bytes = &bytes[end + 1..];
        }
        self.pending.extend_from_slice(bytes);
        self.emit_long_pieces(line);
    }

    /// Hands out the front of an unterminated line once it is certain to be longer than
    /// `MAX_LINE`: with `MAX_LINE + 2` bytes, it is, even if a `\r` of a `\r\n` is among them.
    /// A line that is complete is cut exactly the same way in `emit_line`.
    fn emit_long_pieces(&mut self, line: &mut impl FnMut(&str)) {
        let mut start = 0;
        while self.pending.len() - start >= MAX_LINE + 2 {
            let cut = piece_end(&self.pending[start..]);
            line(&String::from_utf8_lossy(&self.pending[start..start + cut]));
            start += cut;
        }
        self.pending.drain(..start);
    }

    /// At end of file: the last line, if it had no newline.
    fn finish(&mut self, line: &mut impl FnMut(&str)) {
        if !self.pending.is_empty() {
            emit_line(&self.pending, line);
            self.pending.clear();
        }
    }
}

/// Emits one complete line, without its `\r`, in pieces when it is long.
fn emit_line(bytes: &[u8], line: &mut impl FnMut(&str)) {
    let mut rest = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    while rest.len() > MAX_LINE {
        let cut = piece_end(rest);
        line(&String::from_utf8_lossy(&rest[..cut]));
        rest = &rest[cut..];
    }
    line(&String::from_utf8_lossy(rest));
}

/// Where the first piece of a too-long line ends: at `MAX_LINE`, or up to 3 bytes before it
/// when that would split a UTF-8 character (so the piece and the next both decode cleanly).
/// `bytes` holds more than `MAX_LINE` bytes.
fn piece_end(bytes: &[u8]) -> usize {
    let is_continuation = |b: u8| b & 0xC0 == 0x80;
    (MAX_LINE - 3..=MAX_LINE)
        .rev()
        .find(|&cut| !is_continuation(bytes[cut]))
        .unwrap_or(MAX_LINE)
}

/// The last lines of a run's output, at most `max_bytes` of them, for its history record.
///
/// Lines of both streams are kept in the order they were read. Each line costs its length
/// plus one (its newline in [`OutputTail::text`]), so the text never exceeds `max_bytes`.
#[derive(Debug, Clone)]
pub struct OutputTail {
    max_bytes: usize,
    lines: VecDeque<(Stream, String)>,
    /// The sum of the kept lines' costs.
    bytes: usize,
    truncated: bool,
}

impl OutputTail {
    pub fn new(max_bytes: usize) -> Self {
        OutputTail {
            max_bytes,
            lines: VecDeque::new(),
            bytes: 0,
            truncated: false,
        }
    }

    /// Adds a line, dropping the oldest ones to stay within bounds. A line too long to fit
    /// even alone keeps its end: the last `max_bytes - 1` bytes, less up to 3 to start on a
    /// character boundary.
    pub fn push(&mut self, stream: Stream, line: &str) {
        let cost = line.len() + 1;
        if cost > self.max_bytes {
            self.truncated = true;
            self.lines.clear();
            self.bytes = 0;
            let Some(keep) = self.max_bytes.checked_sub(1) else {
                return;
            };
            let mut start = line.len() - keep;
            while !line.is_char_boundary(start) {
                start += 1;
            }
            let end = &line[start..];
            self.bytes = end.len() + 1;
            self.lines.push_back((stream, end.to_owned()));
            return;
        }
        self.bytes += cost;
        self.lines.push_back((stream, line.to_owned()));
        while self.bytes > self.max_bytes {
            if let Some((_, dropped)) = self.lines.pop_front() {
                self.bytes -= dropped.len() + 1;
                self.truncated = true;
            }
        }
    }

    /// The kept lines, each ending in a newline, stdout and stderr interleaved as read.
    pub fn text(&self) -> String {
        let mut text = String::with_capacity(self.bytes);
        for (_, line) in &self.lines {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// The kept lines with the stream each came from, oldest first.
    pub fn lines(&self) -> impl Iterator<Item = (Stream, &str)> {
        self.lines
            .iter()
            .map(|(stream, line)| (*stream, line.as_str()))
    }

    /// Whether any output was dropped (whole lines, or the start of an overlong one).
    pub fn truncated(&self) -> bool {
        self.truncated
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, Write};
    use std::os::fd::{AsFd, OwnedFd};

    use nix::fcntl::{FcntlArg, OFlag, fcntl};

    use super::*;

    /// A non-blocking pipe: the read end and the write end.
    fn pipe() -> (OwnedFd, std::fs::File) {
        let (read, write) = nix::unistd::pipe().expect("pipe");
        fcntl(&read, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).expect("O_NONBLOCK");
        (read, std::fs::File::from(write))
    }

    fn read_lines(splitter: &mut LineSplitter, fd: &OwnedFd) -> (Vec<String>, bool) {
        let mut lines = Vec::new();
        let eof = splitter
            .read_from(fd.as_fd(), |l| lines.push(l.to_owned()))
            .expect("read");
        (lines, eof)
    }

    /// Feeds `bytes` to a splitter in chunks of `size`, as if that is how they arrived, and
    /// returns every line including the final one at end of file.
    fn split_in_chunks(bytes: &[u8], size: usize) -> Vec<String> {
        let mut splitter = LineSplitter::new();
        let mut lines = Vec::new();
        let mut emit = |l: &str| lines.push(l.to_owned());
        for chunk in bytes.chunks(size) {
            splitter.push(chunk, &mut emit);
        }
        splitter.finish(&mut emit);
        lines
    }

    #[test]
    fn complete_lines_come_out_as_they_arrive_and_the_rest_waits() {
        let (read, mut write) = pipe();
        let mut splitter = LineSplitter::new();
        write.write_all(b"one\ntwo\nthr").unwrap();
        assert_eq!(
            read_lines(&mut splitter, &read),
            (vec!["one".into(), "two".into()], false)
        );
        assert_eq!(read_lines(&mut splitter, &read), (vec![], false));
        write.write_all(b"ee\n\nfour").unwrap();
        assert_eq!(
            read_lines(&mut splitter, &read),
            (vec!["three".into(), String::new()], false)
        );
        drop(write);
        assert_eq!(
            read_lines(&mut splitter, &read),
            (vec!["four".into()], true)
        );
    }

    #[test]
    fn end_of_file_after_a_newline_adds_no_empty_line() {
        let (read, mut write) = pipe();
        write.write_all(b"last\n").unwrap();
        drop(write);
        assert_eq!(
            read_lines(&mut LineSplitter::new(), &read),
            (vec!["last".into()], true)
        );
    }

    #[test]
    fn carriage_returns_before_newlines_are_trimmed_and_others_kept() {
        let lines = split_in_chunks(b"dos\r\nmid\rdle\r\n\r\nend\r", 1);
        assert_eq!(lines, ["dos", "mid\rdle", "", "end"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let lines = split_in_chunks(b"caf\xc3\xa9 \xff\xfe ok\n", 3);
        assert_eq!(lines, ["caf\u{e9} \u{fffd}\u{fffd} ok"]);
    }

    #[test]
    fn a_long_line_comes_out_in_pieces_whatever_the_chunking() {
        let mut bytes = vec![b'x'; 200 * 1024];
        bytes.extend_from_slice(b"\r\nnext\n");
        let expected_lengths = [MAX_LINE, MAX_LINE, MAX_LINE, 200 * 1024 - 3 * MAX_LINE];
        for size in [1, 1000, MAX_LINE, MAX_LINE + 1, bytes.len()] {
            let lines = split_in_chunks(&bytes, size);
            let lengths: Vec<usize> = lines.iter().map(String::len).collect();
            assert_eq!(lengths[..4], expected_lengths, "chunks of {size}");
            assert_eq!(lines[4], "next", "chunks of {size}");
            assert_eq!(lines.len(), 5, "chunks of {size}");
        }
    }

    #[test]
    fn a_line_of_exactly_the_limit_stays_whole_even_with_crlf() {
        for ending in [&b"\n"[..], b"\r\n"] {
            let mut bytes = vec![b'y'; MAX_LINE];
            bytes.extend_from_slice(ending);
            for size in [1, 4096, MAX_LINE] {
                let lines = split_in_chunks(&bytes, size);
                assert_eq!(lines.len(), 1, "chunks of {size}");
                assert_eq!(lines[0].len(), MAX_LINE);
            }
        }
    }

    #[test]
    fn pieces_are_cut_between_characters() {
        // 'é' is two bytes; starting one byte in, the limit falls inside a character.
        let mut text = String::from("a");
        while text.len() <= MAX_LINE + 10 {
            text.push('é');
        }
        text.push('\n');
        let lines = split_in_chunks(text.as_bytes(), 7000);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), MAX_LINE - 1);
        assert!(!lines.concat().contains('\u{fffd}'));
        assert_eq!(lines.concat(), text.trim_end());
    }

    #[test]
    fn output_without_newlines_holds_bounded_memory() {
        let mut splitter = LineSplitter::new();
        let mut pieces = 0;
        let chunk = vec![b'z'; 10_000];
        for _ in 0..100 {
            splitter.push(&chunk, &mut |_| pieces += 1);
            assert!(splitter.pending.len() < MAX_LINE + 2);
        }
        assert_eq!(pieces, 1_000_000 / MAX_LINE);
    }

    #[test]
    fn one_call_reads_at_most_its_budget_and_the_next_goes_on() {
        // A regular file never runs dry before its end, like a pipe that is always refilled.
        let mut file = tempfile::tempfile().unwrap();
        let line = [[b'w'; 1023].as_slice(), b"\n"].concat();
        for _ in 0..6 * 1024 {
            file.write_all(&line).unwrap();
        }
        file.rewind().unwrap();
        let fd = OwnedFd::from(file);
        let mut splitter = LineSplitter::new();
        let (first, eof) = read_lines(&mut splitter, &fd);
        assert_eq!((first.len(), eof), (READ_BUDGET / 1024, false));
        let (second, eof) = read_lines(&mut splitter, &fd);
        assert_eq!((second.len(), eof), (2 * 1024, true));
        assert!(second.iter().all(|l| l.len() == 1023));
    }

    #[test]
    fn a_tail_keeps_whole_recent_lines_within_its_bound() {
        let mut tail = OutputTail::new(10);
        tail.push(Stream::Stdout, "abc");
        tail.push(Stream::Stderr, "de");
        assert_eq!(tail.text(), "abc\nde\n");
        assert!(!tail.truncated());
        tail.push(Stream::Stdout, "fgh");
        assert_eq!(tail.text(), "de\nfgh\n");
        assert!(tail.truncated());
        assert_eq!(
            tail.lines().collect::<Vec<_>>(),
            [(Stream::Stderr, "de"), (Stream::Stdout, "fgh")]
        );
    }

    #[test]
    fn a_tail_that_fits_exactly_is_not_truncated() {
        let mut tail = OutputTail::new(8);
        tail.push(Stream::Stdout, "abc");
        tail.push(Stream::Stdout, "");
        tail.push(Stream::Stdout, "de");
        assert_eq!(tail.text(), "abc\n\nde\n");
        assert_eq!(tail.text().len(), 8);
        assert!(!tail.truncated());
    }

    #[test]
    fn an_overlong_line_keeps_its_end() {
        let mut tail = OutputTail::new(6);
        tail.push(Stream::Stdout, "ab");
        tail.push(Stream::Stderr, "0123456789");
        assert_eq!(tail.text(), "56789\n");
        assert!(tail.truncated());
        tail.push(Stream::Stdout, "x");
        assert_eq!(tail.text(), "x\n");
    }

    #[test]
    fn an_overlong_line_is_cut_on_a_character_boundary() {
        let mut tail = OutputTail::new(4);
        tail.push(Stream::Stdout, "aéé");
        // The last 3 bytes start inside the first 'é'.
        assert_eq!(tail.text(), "é\n");
    }

    #[test]
    fn an_empty_tail_keeps_nothing_and_says_so() {
        let mut tail = OutputTail::new(0);
        assert!(!tail.truncated());
        tail.push(Stream::Stdout, "");
        assert_eq!(tail.text(), "");
        assert!(tail.truncated());
    }
}
