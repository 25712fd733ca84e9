//! runsvdir: placeholder module, filled next.
