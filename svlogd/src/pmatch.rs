//! runit's pattern matcher for the `+`, `-`, `e` and `E` config lines (spec/svlogd.md §3.1).
//!
//! The pattern must match the whole text. An ordinary byte matches itself; `*` at the end
//! matches the rest; `*c` skips to the **first** `c` and carries on from there, with no
//! backtracking (so `*pid*` does not match `tcpsvd: info: pid 1977`); `+c` matches one or more
//! `c`s greedily, and if the text runs out while doing so, the pattern matches whatever is left
//! of it. There are no escapes, classes or `?`.
//!
//! One deliberate difference from runit (spec §12 item 7): runit's `+c` compares `c` with the
//! byte just past the line when the line is already used up, so `+ab+c` matched `ab` right after
//! the line `abc` had been read. Here an exhausted text never matches `+c`, and a pattern that
//! ends in a bare `+` never reads past its own end either.

/// Whether `pattern` matches all of `text`, with runit's non-backtracking rules.
pub fn pmatch(pattern: &[u8], text: &[u8]) -> bool {
    let mut p = 0;
    let mut s = 0;
    loop {
        let Some(&c) = pattern.get(p) else {
            return s == text.len();
        };
        p += 1;
        match c {
            b'*' => {
                // `c` stays in the pattern: it is matched next, as whatever it is.
                let Some(&next) = pattern.get(p) else {
                    return true;
                };
                match memchr::memchr(next, &text[s..]) {
                    Some(i) => s += i,
                    None => return false,
                }
            }
            b'+' => {
                // runit reads the byte after `+` even at the pattern's end (its NUL); a NUL
                // there compares like any other byte, and the pattern then ends.
                let want = pattern.get(p).copied().unwrap_or(0);
                p += 1;
                if text.get(s) != Some(&want) {
                    return false;
                }
                while s < text.len() && text[s] == want {
                    s += 1;
                }
                if s == text.len() {
                    return true;
                }
                if p > pattern.len() {
                    return false;
                }
            }
            _ => {
                if text.get(s) != Some(&c) {
                    return false;
                }
                s += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pmatch;

    #[test]
    fn table() {
        // (pattern, text, matches); spec/svlogd.md §3.1 and runit's man page.
        let cases: &[(&str, &str, bool)] = &[
            ("", "", true),
            ("", "a", false),
            ("abc", "abc", true),
            ("abc", "abcd", false),
            ("abc", "ab", false),
            ("*", "", true),
            ("*", "anything", true),
            ("a*", "abc", true),
            ("*c", "abc", true),
            ("*b*", "abc", true),
            ("*x", "abc", false),
            // No backtracking: the first 'p' is in "tcpsvd".
            ("*pid*", "tcpsvd: info: pid 1977", false),
            ("*: *: pid *", "tcpsvd: info: pid 1977", true),
            // `+c`: one or more, greedy.
            ("a+b", "ab", true),
            ("a+b", "abb", true),
            ("a+b", "aab", false),
            ("+a", "aaa", true),
            ("+a", "", false),
            ("x+ay", "xaay", true),
            // The text runs out inside `+c`: whatever is left of the pattern is not looked at.
            ("a+bxyz", "abb", true),
            // `**` skips to the first literal '*' then matches the rest.
            ("**", "a*b", true),
            ("**", "ab", false),
            ("a**b", "a*b", true),
            ("a*+b", "axbb", false),
            ("a*+b", "ax+bb", false),
        ];
        for &(p, t, want) in cases {
            assert_eq!(
                pmatch(p.as_bytes(), t.as_bytes()),
                want,
                "pattern {p:?} text {t:?}"
            );
        }
    }

    #[test]
    fn exhausted_text_never_matches_plus() {
        // spec §3.1 bug: runit matched `ab+c` against "ab" after reading "abc".
        assert!(!pmatch(b"ab+c", b"ab"));
        assert!(pmatch(b"ab+c", b"abc"));
    }

    #[test]
    fn trailing_plus_does_not_read_past_the_pattern() {
        assert!(!pmatch(b"a+", b"ab"));
        assert!(pmatch(b"a+", b"a\0\0"));
        assert!(!pmatch(b"a+", b"a\0b"));
        assert!(!pmatch(b"+", b""));
    }
}
