//! What this machine can give a run: memory, read once from the kernel, so
//! that a run too large for it stops with a message instead of being killed.

use std::sync::OnceLock;

/// Bytes of memory this process can still take: the kernel's
/// `MemAvailable`, lowered by the process's own limits on data and address
/// space (`ulimit -d`, `ulimit -v`, as batch schedulers set them); None
/// where the kernel does not say (not Linux).
pub fn available_memory() -> Option<u64> {
    static AVAILABLE: OnceLock<Option<u64>> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
        let available = parse_meminfo(&info)?;
        Some(parse_limits(&limits).map_or(available, |limit| limit.min(available)))
    })
}

/// `MemAvailable:   123456 kB` in bytes.
fn parse_meminfo(info: &str) -> Option<u64> {
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The lowest soft limit on data or address space in /proc/self/limits
/// (`Max data size   209715200   unlimited   bytes`), if any is set.
fn parse_limits(limits: &str) -> Option<u64> {
    limits
        .lines()
        .filter_map(|l| {
            let soft = l
                .strip_prefix("Max data size")
                .or_else(|| l.strip_prefix("Max address space"))?;
            soft.split_whitespace().next()?.parse::<u64>().ok()
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_available_memory() {
        let info = "MemTotal:       24000000 kB\nMemFree:  1 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(parse_meminfo(info), Some(20_000_000 * 1024));
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max data size             209715200            unlimited            bytes\n\
                      Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(parse_limits(limits), Some(209_715_200));
        assert_eq!(
            parse_limits(&limits.replace("209715200", "unlimited")),
            None
        );
    }
}
