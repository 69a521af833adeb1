//! The process's peak resident memory, for benchmarks that report memory next to time, and
//! the memory the machine has free, for commands that size buffers from user input.

/// Peak resident set size in bytes (`VmHWM` of `/proc/self/status`); `None` where the
/// kernel does not report it.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Memory the kernel could hand out now without swapping (`MemAvailable` of
/// `/proc/meminfo`); `None` where it does not report it.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_grows_with_a_large_allocation() {
        let before = super::peak_rss_bytes().expect("Linux reports VmHWM");
        let big = vec![1u8; 64 << 20];
        let after = super::peak_rss_bytes().unwrap();
        assert!(after >= before && after >= 64 << 20, "{before} -> {after}");
        drop(big);
    }
}
