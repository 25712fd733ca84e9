//! Selection by expression a chunk at a time. When every pattern line of a directory names
//! texts one of which any match contains (`Patterns::needles`: `~+error|warn` needs `error`
//! or `warn`), the input chunk is searched once for them, with memchr's vectorised search
//! over the whole chunk, and a line whose head holds none of them skips the patterns: none
//! can match it, so it goes to the log and not to stderr, as when no pattern matches. Most
//! lines of a busy log hold none, and one search of 128 KiB costs far less than a search
//! per line.

use std::ops::Range;

/// Occurrences more frequent than one in this many bytes are not worth listing.
pub const SPARSE: usize = 1024;

/// Where the needles occur in a chunk.
#[derive(Debug, Default)]
pub struct Hits {
    /// Each occurrence as (start, end), sorted by start.
    spans: Vec<(usize, usize)>,
    /// The first span that may lie in a later head.
    next: usize,
}

impl Hits {
    /// Finds every occurrence of each of `needles` in `buf`. Returns false (do not filter)
    /// when they are common, more than one in [`SPARSE`] bytes: then most lines hold one, and
    /// looking at each line alone is cheaper than keeping a list.
    pub fn find(&mut self, buf: &[u8], needles: &[&[u8]]) -> bool {
        self.spans.clear();
        self.next = 0;
        let cap = buf.len() / SPARSE + 16;
        for n in needles {
            let finder = memchr::memmem::Finder::new(n);
            for s in finder.find_iter(buf) {
                if self.spans.len() == cap {
                    return false;
                }
                self.spans.push((s, s + n.len()));
            }
        }
        if needles.len() > 1 {
            self.spans.sort_unstable();
        }
        true
    }

    /// Whether an occurrence lies wholly in `head`. Heads are asked about in the order they
    /// come in the chunk. (An occurrence cannot cross a line's end: the needles come from one
    /// config line, so they hold no newline; find_iter's leftmost occurrence starting in a
    /// head is the first to end, so skipping overlapping ones loses none.)
    pub fn any_in(&mut self, head: &Range<usize>) -> bool {
        while self.spans.get(self.next).is_some_and(|s| s.0 < head.start) {
            self.next += 1;
        }
        self.spans[self.next..]
            .iter()
            .take_while(|s| s.0 < head.end)
            .any(|s| s.1 <= head.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;

    /// The heads of `text`'s lines (at most `max` bytes each).
    fn heads(text: &[u8], max: usize) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut start = 0;
        for line in text.split(|&b| b == b'\n') {
            out.push(start..start + line.len().min(max));
            start += line.len() + 1;
        }
        out
    }

    #[test]
    fn a_line_without_a_needle_is_never_one_a_pattern_selects() {
        let text: &[u8] = b"ok\nerror here\nwarnings\nerrwarn\nfoo error\n\nxerror\nerrorerror\n";
        for config in [
            "~+error|warn\n",
            "-*\n~+error\n",
            "~-^warn\n~eerr(or)?\n",
            "~+error$\n~Ewarn\n",
            "~+^errorerror$\n",
        ] {
            let (cfg, _) = config::parse(config.as_bytes());
            let Some(needles) = cfg.patterns.needles() else {
                // A glob: no needles, every line is looked at.
                assert!(config.starts_with('-'), "{config}");
                continue;
            };
            for max in [3, 5, 1000] {
                let mut hits = Hits::default();
                assert!(hits.find(text, &needles));
                for h in heads(text, max) {
                    let sel = cfg.select(&text[h.clone()]);
                    if !hits.any_in(&h) {
                        assert!(sel.log && !sel.alert, "{config:?} {max} {:?}", &text[h]);
                    }
                }
            }
        }
    }
}
