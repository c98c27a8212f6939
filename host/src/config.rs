//! Server settings: flags of `kinerja serve`, each also readable from a `KINERJA_*` variable.

use clap::Args;
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
    /// Plugin calls in flight at once, server-wide; more get 503.
    #[arg(long, env = "KINERJA_PLUGIN_MAX_IN_FLIGHT", default_value_t = 32)]
    pub plugin_max_in_flight: usize,
    /// Appraisal cases per plugin call.
    #[arg(long, env = "KINERJA_BATCH_SIZE", default_value_t = 200)]
    pub batch_size: usize,
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
/// cgroup files on every call, which was 13% of the CPU of a one-employee HTTP appraisal when
/// it was asked per request.
pub fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

impl Config {
    /// Settings for tests and embedding: a data dir, a free port, defaults otherwise.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            listen: "127.0.0.1:0".into(),
            demo: false,
            demo_plugins: PathBuf::from("target/wasm32-wasip1/plugin"),
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            plugin_fuel: kinerja_runtime::Limits::default().fuel,
            plugin_wall_ms: kinerja_runtime::Limits::default().wall_time.as_millis() as u64,
            plugin_memory_mib: kinerja_runtime::Limits::default().memory_bytes / (1024 * 1024),
            plugin_stdout: kinerja_runtime::Limits::default().stdout_bytes,
            plugin_stderr: kinerja_runtime::Limits::default().stderr_bytes,
            plugin_module_bytes: kinerja_runtime::Limits::default().module_bytes,
            plugin_max_in_flight: 32,
            batch_size: 200,
            auth_failure_limit: 20,
            auth_failure_window: Duration::from_secs(60),
        }
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
        }
    }
}
