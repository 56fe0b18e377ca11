//! Third-party text made safe to print on a terminal.
//!
//! An `OauthToken.AppName` is chosen by whoever registered the connected app, a record value
//! by any Salesforce user. Printed raw, an escape sequence in it can recolour or clear the
//! screen, retitle the window, hide the rest of a line, forge a hyperlink (OSC 8) or, on some
//! terminals, write to the clipboard (OSC 52). Every escape sequence is removed whole (CSI,
//! OSC, DCS, SOS, PM, APC and the short `ESC x` forms, in their 7-bit and C1 spellings), as is
//! every other C0 and C1 control and DEL; all other text, any script, passes unchanged.
//!
//! It lives here, not in `sfmcp-salesforce`, because what needs it is printing for people: the
//! audit's table and HTML exports, and the binary's `sfmcp call` (which already depends on
//! this crate). Nothing in it knows about Salesforce.

use std::borrow::Cow;

const ESC: char = '\u{1b}';
const BEL: char = '\u{7}';
/// C1 String Terminator.
const ST: char = '\u{9c}';

/// For one line (a table cell, a title): line breaks and tabs become spaces, so a value
/// cannot forge a row.
pub fn printable_line(text: &str) -> Cow<'_, str> {
    sanitize(text, false)
}

/// For multi-line text (`sfmcp call`'s tool output): keeps `\n` and `\t`, drops `\r` (which
/// would let a line overwrite itself) along with every other control.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    sanitize(text, true)
}

/// At most `width` characters, cut on a character boundary, `…` marking a cut. Clip after
/// sanitising: clipping first could cut an escape sequence in half and leave its tail to
/// the terminal.
pub fn clip(text: &str, width: usize) -> Cow<'_, str> {
    if text.chars().count() <= width {
        return Cow::Borrowed(text);
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

/// [`printable_line`], then [`clip`].
pub fn printable_clipped(text: &str, width: usize) -> String {
    clip(&printable_line(text), width).into_owned()
}

fn sanitize(text: &str, multiline: bool) -> Cow<'_, str> {
    // Most text holds no control at all: hand it back without copying.
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ESC => skip_escape(&mut chars),
            // C1 CSI: parameters and a final byte follow, as after `ESC [`.
            '\u{9b}' => skip_csi(&mut chars),
            // C1 DCS, SOS, OSC, PM, APC: a string runs to its terminator.
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' | '\t' if multiline => out.push(c),
            '\n' | '\t' | '\u{b}' | '\u{c}' if !multiline => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

/// After ESC (ECMA-48 §5.3): `[` starts a CSI; `]`, `P`, `X`, `^` and `_` a control string;
/// otherwise intermediates (0x20–0x2F) and one final byte (0x30–0x7E), e.g. `ESC ( B`.
fn skip_escape(chars: &mut Chars<'_>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_string(chars);
        }
        _ => {
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
        }
    }
}

/// Parameter bytes (0x30–0x3F), intermediates (0x20–0x2F), then one final byte (0x40–0x7E).
/// Anything else ends the sequence there and is judged on its own.
fn skip_csi(chars: &mut Chars<'_>) {
    while chars
        .next_if(|c| ('\u{30}'..='\u{3f}').contains(c))
        .is_some()
    {}
    while chars
        .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
        .is_some()
    {}
    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
}

/// A control string runs to ST (`ESC \` or C1 ST) or, for OSC as xterm accepts it, BEL. An
/// unterminated one is dropped to the end of the text: a terminal would swallow it too.
fn skip_string(chars: &mut Chars<'_>) {
    while let Some(c) = chars.next() {
        match c {
            BEL | ST => return,
            ESC if chars.peek() == Some(&'\\') => {
                chars.next();
                return;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_go_whole_and_the_text_around_them_stays() {
        let cases = [
            ("\u{1b}[31mred\u{1b}[0m app", "red app"),
            ("\u{1b}[2J\u{1b}[Hclear", "clear"),
            ("\u{1b}]0;pwned\u{7}title", "title"),
            (
                "\u{1b}]8;;https://evil.example\u{1b}\\click\u{1b}]8;;\u{1b}\\",
                "click",
            ),
            ("\u{1b}]52;c;ZXZpbA==\u{7}clipboard", "clipboard"),
            ("\u{1b}P1$r\u{1b}\\dcs", "dcs"),
            ("\u{1b}(Bcharset \u{1b}7saved", "charset saved"),
            ("\u{9b}1;31mc1 csi", "c1 csi"),
            ("\u{9d}0;title\u{9c}c1 osc", "c1 osc"),
            ("bell\u{7} nul\u{0} del\u{7f} nel\u{85}", "bell nul del nel"),
            ("unterminated \u{1b}]0;title", "unterminated "),
            ("trailing \u{1b}", "trailing "),
        ];
        for (input, want) in cases {
            assert_eq!(printable_line(input), want, "{input:?}");
        }
    }

    #[test]
    fn line_breaks_become_spaces_in_a_line_and_stay_in_lines() {
        assert_eq!(printable_line("a\nb\tc\r\nd"), "a b c d");
        assert_eq!(printable_lines("a\nb\tc\r\nd\u{1b}[1m"), "a\nb\tc\nd");
    }

    #[test]
    fn clipping_after_sanitising_never_leaves_half_an_escape() {
        let name = format!("{}\u{1b}]8;;https://evil.example\u{7}x", "a".repeat(35));
        let cell = printable_clipped(&name, 40);
        assert_eq!(cell, format!("{}x", "a".repeat(35)));
        let long = "é".repeat(50);
        let cell = printable_clipped(&long, 10);
        assert_eq!(cell.chars().count(), 10);
        assert!(cell.ends_with('…'));
    }

    proptest! {
        #[test]
        fn no_output_holds_a_control(text in any::<String>(), width in 1usize..80) {
            for out in [printable_line(&text).into_owned(), printable_clipped(&text, width)] {
                prop_assert!(!out.chars().any(char::is_control), "{out:?}");
            }
            let lines = printable_lines(&text);
            prop_assert!(
                !lines.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{lines:?}"
            );
        }

        /// Escape-heavy input: ESC and C1 introducers mixed with the bytes sequences are
        /// made of.
        #[test]
        fn escape_soup_leaves_no_control(
            text in proptest::collection::vec(
                prop_oneof![
                    Just('\u{1b}'), Just('\u{9b}'), Just('\u{9d}'), Just('\u{9c}'), Just('\u{7}'),
                    Just('['), Just(']'), Just('\\'), Just(';'), Just('P'), Just('m'),
                    any::<char>(),
                ],
                0..64,
            ).prop_map(|v| v.into_iter().collect::<String>())
        ) {
            let out = printable_line(&text);
            prop_assert!(!out.chars().any(char::is_control), "{out:?}");
        }

        #[test]
        fn plain_text_passes_unchanged(text in "[^\\p{Cc}]*") {
            prop_assert_eq!(printable_line(&text), text.as_str());
            prop_assert_eq!(printable_lines(&text), text.as_str());
        }

        #[test]
        fn clipping_keeps_at_most_width_characters(text in "[^\\p{Cc}]*", width in 1usize..60) {
            let out = printable_clipped(&text, width);
            prop_assert!(out.chars().count() <= width);
            if text.chars().count() <= width {
                prop_assert_eq!(out, text);
            }
        }
    }
}
