//! Server settings: flags of `kinerja serve`, each also readable from a `KINERJA_*` variable.

use clap::Args;
use std::path::PathBuf;
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
    #[arg(long, env = "KINERJA_DEMO_PLUGINS", default_value = "target/wasm32-wasip1/plugin")]
    pub demo_plugins: PathBuf,
    /// Largest JSON request body, in bytes.
    #[arg(long, env = "KINERJA_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,
    /// Longest a request may take, in seconds.
    #[arg(long = "request-timeout", env = "KINERJA_REQUEST_TIMEOUT", default_value = "60", value_parser = parse_secs)]
    pub request_timeout: Duration,
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err("must be a positive number of seconds".into())
    }
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
        }
    }
}
