//! The OS limits that bound how many worker threads can start, and the one-line errors that
//! name them.

use crate::error::Error;

/// Worker threads only hold an HTTP client and a few buffers; small stacks let 10,000 of
/// them start on an ordinary machine.
pub const WORKER_STACK: usize = 256 * 1024;

/// Address space a worker takes beyond its stack: guard pages, the signal stack and the
/// thread's own descriptor and TLS.
const WORKER_EXTRA: u64 = 64 * 1024;

/// glibc gives threads their own malloc arenas, up to eight per CPU, and each reserves this
/// much address space up front.
const ARENA: u64 = 64 * 1024 * 1024;

const MIB: u64 = 1024 * 1024;

/// Refuses, before anything starts, a `--concurrency` whose threads cannot fit under
/// `ulimit -v`. Past that limit a thread may start and then fail to map its signal stack,
/// which the runtime can only abort on, so the clear error has to come first.
pub fn check_address_space(concurrency: usize) -> Result<(), Error> {
    let Some(limit) = soft_limit(libc::RLIMIT_AS) else {
        return Ok(());
    };
    let in_use = vm_size().unwrap_or(0);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let arenas = (concurrency as u64).min(8 * cpus);
    let stacks = concurrency as u64 * (WORKER_STACK as u64 + WORKER_EXTRA);
    let need = stacks + arenas * ARENA;
    if in_use.saturating_add(need) <= limit {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--concurrency {concurrency}: the workers need about {} MiB of address space \
         ({} KiB of stack and guard pages each, and {arenas} malloc arenas of 64 MiB) and the \
         OS allows {} MiB (ulimit -v), of which {} MiB are in use; lower --concurrency or \
         raise the limit",
        need.div_ceil(MIB),
        (WORKER_STACK as u64 + WORKER_EXTRA) / 1024,
        limit / MIB,
        in_use.div_ceil(MIB)
    )))
}

/// The error for a worker thread the OS refused to start.
pub fn spawn_error(id: usize, wanted: usize, e: &std::io::Error) -> Error {
    let threads_max = std::fs::read_to_string("/proc/sys/kernel/threads-max")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let text = |limit: Option<u64>, unit: &str, per: u64| match limit {
        Some(n) => format!("{}{unit}", n / per),
        None => "unlimited".into(),
    };
    Error::usage(format!(
        "--concurrency {wanted}: could not start worker thread {} ({e}); the OS allows \
         {} processes per user (ulimit -u), {threads_max} threads in all and \
         {} of address space (ulimit -v; each worker reserves a \
         {} KiB stack); lower --concurrency or raise the limit",
        id + 1,
        text(soft_limit(libc::RLIMIT_NPROC), "", 1),
        text(soft_limit(libc::RLIMIT_AS), " MiB", MIB),
        WORKER_STACK / 1024
    ))
}

/// A soft resource limit, or None when it is unlimited or cannot be read.
fn soft_limit(resource: libc::__rlimit_resource_t) -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct it is given.
    if unsafe { libc::getrlimit(resource, &mut lim) } != 0 || lim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(lim.rlim_cur)
}

/// This process's mapped address space in bytes, from /proc.
fn vm_size() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
