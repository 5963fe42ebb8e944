//! Free ports for the servers the tests start.

/// A port nobody listens on right now, for a server started on it next (a service process, a
/// test server, a provider whose URL must be known before it binds). Taken from below the
/// kernel's ephemeral range (32768-60999 by default), where no socket bound to port 0 (another
/// test's server, any client) lands between this check and the bind that uses the port; each
/// test process starts at a place of its own and hands out each port once.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};
    const FIRST: u32 = 20_000;
    const PORTS: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let start = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|now| now.subsec_nanos())
        .unwrap_or_default()
        ^ std::process::id().wrapping_mul(2_654_435_761);
    // The first call picks this process's starting place.
    let _ = NEXT.compare_exchange(
        u32::MAX,
        start % PORTS,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..PORTS {
        let port = FIRST + NEXT.fetch_add(1, Ordering::Relaxed) % PORTS;
        let port = u16::try_from(port).expect("below 32,000");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port between {FIRST} and {}", FIRST + PORTS)
}
