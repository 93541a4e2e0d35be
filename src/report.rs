//! Messages to stderr: `kstrun: error: ...`, `kstrun: warning: ...`.
//!
//! Coloured only when stderr is a terminal and `NO_COLOR` is unset. Nothing
//! here ever receives a value: callers pass names, paths and reasons.
//!
//! A stderr nobody can write to (a closed pipe, `2>/dev/full`) must not stop
//! kstrun: `eprintln!` panics on a failed write, and a panic there aborts the
//! process, so the program would never start. Every message goes through
//! [`stderr_line`], which drops a line it cannot write; the exit status
//! still tells what happened.
//!
//! Messages name what the user wrote (variable names, paths, arguments),
//! which may hold control characters: written raw, an escape sequence in a
//! manifest could recolour, retitle or rewrite the user's terminal through
//! an error message, and a newline could add a line that seems to be
//! kstrun's own. [`printable_inline`] shows them as escapes instead, and
//! every message is written through it: a message of several lines is
//! given line by line.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

/// `text` with every control character but newline and tab written as its
/// Rust escape (`\u{1b}`, `\r`), so that it reaches a terminal as text: for
/// text of several lines laid out by kstrun (the usage text, `check`'s
/// table, whose cells are escaped with [`printable_inline`]).
pub fn printable(text: &str) -> Cow<'_, str> {
    escaped(text, |c| !c.is_control() || c == '\n' || c == '\t')
}

/// `text` for one cell of a table row: as [`printable`], with newlines and
/// tabs escaped too, so that the cell stays on its row and in its column.
pub fn printable_inline(text: &str) -> Cow<'_, str> {
    escaped(text, |c| !c.is_control())
}

/// `text` with every character `shown_raw` refuses written as its escape.
fn escaped(text: &str, shown_raw: impl Fn(char) -> bool) -> Cow<'_, str> {
    if text.chars().all(&shown_raw) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if shown_raw(c) {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    Cow::Owned(out)
}

/// Writes one line to stderr, dropping it if stderr cannot take it.
pub fn stderr_line(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Where and how messages are printed.
#[derive(Debug, Clone, Copy)]
pub struct Reporter {
    quiet: bool,
    verbose: bool,
}

impl Reporter {
    /// A reporter honouring `-q` and `-v` (and, when it prints, the terminal
    /// and `NO_COLOR`: looked at only then, not on every start).
    pub fn new(quiet: bool, verbose: bool) -> Reporter {
        Reporter { quiet, verbose }
    }

    /// Whether `-v` was given.
    pub fn verbose(&self) -> bool {
        self.verbose
    }

    /// `kstrun: error: ...`, always printed.
    pub fn error(&self, message: &str) {
        self.print("error", "31", message);
    }

    /// `kstrun: error: ` and the first line, then the others as they are
    /// (indented by their writer); always printed.
    pub fn error_lines(&self, lines: &[String]) {
        let Some((first, rest)) = lines.split_first() else {
            return;
        };
        self.error(first);
        for line in rest {
            stderr_line(format_args!("{}", printable_inline(line)));
        }
    }

    /// `kstrun: warning: ...`, unless `-q`.
    pub fn warning(&self, message: &str) {
        if !self.quiet {
            self.print("warning", "33", message);
        }
    }

    /// `kstrun: ...`, only with `-v`.
    pub fn info(&self, message: &str) {
        if self.verbose {
            stderr_line(format_args!("kstrun: {}", printable_inline(message)));
        }
    }

    fn print(&self, label: &str, colour: &str, message: &str) {
        let message = printable_inline(message);
        // A terminal that says it takes no escape sequences (`TERM=dumb`,
        // an editor's shell buffer) gets none, as `NO_COLOR` asks.
        let coloured = std::io::stderr().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            && std::env::var_os("TERM").is_none_or(|v| v != "dumb");
        if coloured {
            stderr_line(format_args!(
                "kstrun: \x1b[1;{colour}m{label}\x1b[0m: {message}"
            ));
        } else {
            stderr_line(format_args!("kstrun: {label}: {message}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_shown_as_escapes() {
        assert_eq!(printable("plain\tline\nnext"), "plain\tline\nnext");
        assert_eq!(
            printable("A\u{1b}[31mRED\u{7}\r\u{9b}"),
            "A\\u{1b}[31mRED\\u{7}\\r\\u{9b}"
        );
    }
}
