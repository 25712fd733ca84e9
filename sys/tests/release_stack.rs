//! `sys::memory::release_stack` gives back the main thread's stack pages a deep call dirtied.
//! A test without the harness: the harness runs tests on threads of their own, where the call
//! does nothing by design.

/// Resident KiB of the `[stack]` mapping (the main thread's).
fn stack_rss_kib() -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut in_stack = false;
    for line in smaps.lines() {
        if line.contains('-') && line.split_whitespace().count() >= 5 {
            in_stack = line.ends_with("[stack]");
        } else if in_stack {
            if let Some(v) = line.strip_prefix("Rss:") {
                return v
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .expect("Rss value");
            }
        }
    }
    panic!("no [stack] mapping in /proc/self/smaps");
}

/// Goes `n` frames of 4 KiB deep, writing each frame.
#[inline(never)]
fn deep(n: usize) -> u8 {
    let mut buf = [0u8; 4096];
    buf[n % 4096] = n as u8;
    std::hint::black_box(&mut buf);
    if n == 0 {
        buf[0]
    } else {
        deep(n - 1).wrapping_add(buf[4095])
    }
}

fn main() {
    let before = stack_rss_kib();
    std::hint::black_box(deep(32));
    let dirtied = stack_rss_kib();
    assert!(
        dirtied >= before + 100,
        "128 KiB of frames should leave the stack resident: {before} KiB, then {dirtied} KiB"
    );
    sys::memory::release_stack();
    let after = stack_rss_kib();
    assert!(
        after <= before + 8,
        "release_stack kept the pages: {before} KiB, {dirtied} KiB after the deep call, {after} KiB after"
    );
    // Another thread's call does nothing (and the main stack is still there to return to).
    std::thread::spawn(sys::memory::release_stack)
        .join()
        .expect("release_stack on another thread");
    std::hint::black_box(deep(4));
    println!("release_stack: {before} KiB, {dirtied} KiB deep, {after} KiB after: ok");
}
