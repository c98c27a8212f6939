//! Server settings: flags of `kinerja serve`, each also readable from a `KINERJA_*` variable.

use clap::{Args, FromArgMatches};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Directory of the database, the compiled-plugin cache and `admin.token`.
    #[arg(long, env = "KINERJA_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, env = "KINERJA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Load the demo dataset when the data dir is empty, and activate the region plugins.
    #[arg(long, env = "KINERJA_DEMO", default_value_t = false)]
    pub demo: bool,
    /// Where `--demo` finds the built region plugins.
    #[arg(
        long,
        env = "KINERJA_DEMO_PLUGINS",
        default_value = "target/wasm32-wasip1/plugin"
    )]
    pub demo_plugins: PathBuf,
    /// Largest JSON request body, in bytes.
    #[arg(long, env = "KINERJA_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,
    /// Longest a request may take, in seconds.
    #[arg(long = "request-timeout", env = "KINERJA_REQUEST_TIMEOUT", default_value = "60", value_parser = parse_secs)]
    pub request_timeout: Duration,
    /// Fuel (about one unit per Wasm instruction) a plugin call may burn.
    #[arg(long, env = "KINERJA_PLUGIN_FUEL", default_value_t = kinerja_runtime::Limits::default().fuel)]
    pub plugin_fuel: u64,
    /// Wall time a plugin call may take, in milliseconds.
    #[arg(long, env = "KINERJA_PLUGIN_WALL_MS", default_value_t = kinerja_runtime::Limits::default().wall_time.as_millis() as u64)]
    pub plugin_wall_ms: u64,
    /// Linear memory a plugin instance may grow to, in MiB.
    #[arg(long, env = "KINERJA_PLUGIN_MEMORY_MIB", default_value_t = kinerja_runtime::Limits::default().memory_bytes / (1024 * 1024))]
    pub plugin_memory_mib: usize,
    /// Largest stdout (the response) of a plugin call, in bytes.
    #[arg(long, env = "KINERJA_PLUGIN_STDOUT", default_value_t = kinerja_runtime::Limits::default().stdout_bytes)]
    pub plugin_stdout: usize,
    /// Largest stderr (the log) of a plugin call, in bytes.
    #[arg(long, env = "KINERJA_PLUGIN_STDERR", default_value_t = kinerja_runtime::Limits::default().stderr_bytes)]
    pub plugin_stderr: usize,
    /// Largest module accepted at upload, in bytes.
    #[arg(long, env = "KINERJA_PLUGIN_MODULE_BYTES", default_value_t = kinerja_runtime::Limits::default().module_bytes)]
    pub plugin_module_bytes: usize,
    /// Plugin calls in flight at once, server-wide, shared fairly between the regions calling;
    /// more get 503.
    #[arg(long, env = "KINERJA_PLUGIN_MAX_IN_FLIGHT", default_value_t = 32)]
    pub plugin_max_in_flight: usize,
    /// Fuel or wall-time failures in a row after which a region's plugin is paused (its calls
    /// answered 503 at once, so a looping module stops taking the cores); 0: never.
    #[arg(long, env = "KINERJA_PLUGIN_PAUSE_AFTER", default_value_t = kinerja_runtime::RuntimeConfig::DEFAULT_PAUSE_AFTER)]
    pub plugin_pause_after: u32,
    /// Seconds the first pause lasts; each pause in a row doubles it (up to ten minutes). A new
    /// activation ends it.
    #[arg(long = "plugin-pause", env = "KINERJA_PLUGIN_PAUSE", default_value = "30", value_parser = parse_secs)]
    pub plugin_pause: Duration,
    /// Seconds a module no activation uses stays loaded after its last call; then it is
    /// unloaded, and its next call loads it back from the compiled cache in milliseconds.
    #[arg(long = "plugin-idle-unload", env = "KINERJA_PLUGIN_IDLE_UNLOAD", default_value = "600", value_parser = parse_secs)]
    pub plugin_idle_unload: Duration,
    /// Appraisal cases per plugin call.
    #[arg(long, env = "KINERJA_BATCH_SIZE", default_value_t = 200)]
    pub batch_size: usize,
    /// Connections open at once; over it, the oldest idle connection is closed to make room
    /// (a new one is refused only when every connection is busy). Lowered at start to what the
    /// open-files limit allows.
    #[arg(long, env = "KINERJA_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Connections open at once from one client address (IPv6: one /64), handled the same way:
    /// one client cannot hold every connection.
    #[arg(
        long,
        env = "KINERJA_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 256
    )]
    pub max_connections_per_client: usize,
    /// Seconds a connection has to send a request's headers before it is closed.
    #[arg(long = "header-read-timeout", env = "KINERJA_HEADER_READ_TIMEOUT", default_value = "10", value_parser = parse_secs)]
    pub header_read_timeout: Duration,
    /// Seconds a connection may stay open with no request in flight.
    #[arg(long = "idle-timeout", env = "KINERJA_IDLE_TIMEOUT", default_value = "60", value_parser = parse_secs)]
    pub idle_timeout: Duration,
    /// Failed authentications one client address may make per window before further failures
    /// are answered 429 (0: no limit). 20 a minute is far above a person mistyping or a script
    /// with a stale token retrying, and far below a program guessing. A working token is never
    /// refused.
    #[arg(long, env = "KINERJA_AUTH_FAILURE_LIMIT", default_value_t = 20)]
    pub auth_failure_limit: u32,
    /// The window of `--auth-failure-limit`, in seconds; an address over the limit is refused
    /// for one more window.
    #[arg(long = "auth-failure-window", env = "KINERJA_AUTH_FAILURE_WINDOW", default_value = "60", value_parser = parse_secs)]
    pub auth_failure_window: Duration,
    /// Seconds a sign-in session lasts (12 hours: a working day, so nobody signs in twice a
    /// day and a session left open on a shared computer is over by the next morning).
    #[arg(long = "session-ttl", env = "KINERJA_SESSION_TTL", default_value = "43200", value_parser = parse_secs)]
    pub session_ttl: Duration,
    /// Failed sign-ins for one NIP per window before every sign-in for it is refused (429)
    /// for a window; one client address may fail ten times as often (an office behind one
    /// NAT). From half the limit on, each failure is answered more slowly. 0: no limit.
    #[arg(long, env = "KINERJA_SIGN_IN_FAILURE_LIMIT", default_value_t = 6)]
    pub sign_in_failure_limit: u32,
    /// The window of `--sign-in-failure-limit`, in seconds.
    #[arg(long = "sign-in-failure-window", env = "KINERJA_SIGN_IN_FAILURE_WINDOW", default_value = "900", value_parser = parse_secs)]
    pub sign_in_failure_window: Duration,
    /// This node's name in a cluster: a request for a region it does not hold is then answered
    /// 421 (Misdirected Request), naming the region, instead of 404.
    #[arg(long, env = "KINERJA_NODE")]
    pub node: Option<String>,
    /// A file of admin tokens to provision at start, one per line: `id sha256-of-the-secret
    /// [label]` (the same file on every node of a cluster, so national admins sign in on each).
    #[arg(long, env = "KINERJA_ADMIN_TOKENS")]
    pub admin_tokens: Option<PathBuf>,
    /// The other nodes of the cluster (`host:port`, comma-separated): the only places this
    /// node sends a region's file to, with the mover's credentials, and the nodes whose
    /// regions an admin's `GET /api/v1/regions` here takes in.
    #[arg(long, env = "KINERJA_PEERS", value_delimiter = ',', value_parser = parse_peer)]
    pub peers: Vec<String>,
}

/// A peer as `host:port` (a stray comma would otherwise make an empty peer that every admin
/// list fails on).
fn parse_peer(s: &str) -> Result<String, String> {
    let s = s.trim();
    match s.rsplit_once(':') {
        Some((host, port))
            if !host.is_empty()
                && !host.contains('/')
                && !host.contains(char::is_whitespace)
                && port.parse::<u16>().is_ok_and(|p| p > 0) =>
        {
            Ok(s.to_string())
        }
        _ => Err(format!("`{s}` is not a peer's host:port")),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err("must be a positive number of seconds".into())
    }
}

/// The cores this process may use, read once: `available_parallelism` opens and reads the
/// cgroup files on every call, which, asked per request, is a large share of the CPU of a
/// one-employee HTTP appraisal.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

impl Config {
    /// Settings for tests and embedding: a data dir, a free port, and otherwise every default
    /// of `kinerja serve`, read from the flags' own declarations above (without their
    /// environment variables), so that each default is written once.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        let cmd = Config::augment_args(clap::Command::new("kinerja"))
            .mut_args(|a| a.env(None::<&'static str>));
        let mut config = cmd
            .try_get_matches_from(["kinerja"])
            .and_then(|m| Config::from_arg_matches(&m))
            .unwrap_or_else(|e| unreachable!("every flag of Config has a default: {e}"));
        config.data_dir = data_dir.into();
        config.listen = "127.0.0.1:0".into();
        config
    }

    /// The runtime's limits from these settings.
    pub fn limits(&self) -> kinerja_runtime::Limits {
        kinerja_runtime::Limits {
            fuel: self.plugin_fuel,
            wall_time: Duration::from_millis(self.plugin_wall_ms.max(10)),
            memory_bytes: self.plugin_memory_mib.max(1) * 1024 * 1024,
            stdout_bytes: self.plugin_stdout,
            stderr_bytes: self.plugin_stderr,
            module_bytes: self.plugin_module_bytes,
            module: kinerja_runtime::ModuleBounds::default(),
        }
    }

    /// The runtime's settings: limits, slots, pauses and the compiled cache under the data dir.
    pub fn runtime(&self) -> kinerja_runtime::RuntimeConfig {
        kinerja_runtime::RuntimeConfig {
            limits: self.limits(),
            max_in_flight: self.plugin_max_in_flight,
            cache_dir: self.data_dir.join("cache"),
            pause_after: self.plugin_pause_after,
            pause_for: self.plugin_pause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--peers` takes `host:port` entries; an empty one (a stray comma) or a URL is refused
    /// when the server starts, not at the first admin list.
    #[test]
    fn peers_are_host_and_port() {
        for ok in ["10.0.0.11:8080", "node-b.internal:9000", "[::1]:8080"] {
            assert_eq!(parse_peer(ok).as_deref(), Ok(ok));
        }
        for bad in [
            "",
            "10.0.0.11",
            "http://10.0.0.11:8080",
            "a:0",
            "a:port",
            ":80",
        ] {
            assert!(parse_peer(bad).is_err(), "{bad:?}");
        }
    }

    /// The defaults come from the flags' declarations: a few spot checks against what the
    /// docs promise, and the two settings `for_data_dir` chooses itself.
    #[test]
    fn for_data_dir_takes_the_flags_defaults() {
        let c = Config::for_data_dir("/tmp/x");
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"));
        assert_eq!(c.listen, "127.0.0.1:0");
        assert!(!c.demo);
        assert_eq!(c.body_limit, 2 * 1024 * 1024);
        assert_eq!(c.request_timeout, Duration::from_secs(60));
        assert_eq!(c.batch_size, 200);
        assert_eq!(c.plugin_max_in_flight, 32);
        assert_eq!(c.plugin_fuel, kinerja_runtime::Limits::default().fuel);
        assert_eq!(c.auth_failure_window, Duration::from_secs(60));
    }
}
