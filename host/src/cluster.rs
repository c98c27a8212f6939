//! Kinerja on several nodes: the cluster file, the HAProxy configuration and map made from it,
//! HAProxy's Runtime API, and the live move of a region from one node to another
//! (`kinerja cluster …`, `kinerja region move`).
//!
//! The region is the shard key. Each node serves the region files in its data dir; HAProxy
//! routes `/api/v1/regions/{region}/…` to the region's node by a map file (region → backend),
//! and everything else to the admin node. A node answers a request for a region it does not
//! hold with 421, so a stale map can never write to the wrong node. There is no replication:
//! a node's disk is its regions' durability, and backups are the recovery path.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// The cluster file: the nodes, the proxy, and where each region lives.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub proxy: Proxy,
    /// The node of the routes that name no region (regions list, tokens, audit, …).
    pub admin_node: String,
    /// Node name → its `host:port`.
    pub nodes: BTreeMap<String, String>,
    /// Region → the node that holds it.
    pub regions: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proxy {
    /// Where HAProxy listens, `host:port`.
    pub listen: String,
    /// HAProxy's Runtime API socket.
    pub socket: PathBuf,
    /// The map file of region → backend.
    pub map: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a cluster file: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("HAProxy's Runtime API at {socket} answered `{command}` with: {answer}")]
    Runtime {
        socket: PathBuf,
        command: String,
        answer: String,
    },
    #[error("{what}: {source}")]
    Http {
        what: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{what}: HTTP {status}: {body}")]
    Refused {
        what: String,
        status: u16,
        body: String,
    },
}

type Result<T, E = ClusterError> = std::result::Result<T, E>;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ClusterError + '_ {
    move |source| ClusterError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The backend of node `name` in the HAProxy configuration.
fn backend(name: &str) -> String {
    format!("node_{name}")
}

impl Cluster {
    pub fn read(path: &Path) -> Result<Cluster> {
        let text = std::fs::read_to_string(path).map_err(io(path))?;
        let c: Cluster = serde_json::from_str(&text).map_err(|source| ClusterError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        c.check()?;
        Ok(c)
    }

    /// Writes the file whole (a new file renamed over the old one).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| ClusterError::Invalid(format!("cannot encode the cluster: {e}")))?;
        replace_file(path, (text + "\n").as_bytes())
    }

    fn check(&self) -> Result<()> {
        let known = |n: &String| self.nodes.contains_key(n);
        if !known(&self.admin_node) {
            return Err(ClusterError::Invalid(format!(
                "admin_node `{}` is not one of the nodes",
                self.admin_node
            )));
        }
        for (region, node) in &self.regions {
            crate::domain::region::validate_region_id(region)
                .map_err(|e| ClusterError::Invalid(e.to_string()))?;
            if !known(node) {
                return Err(ClusterError::Invalid(format!(
                    "region `{region}` is placed on `{node}`, which is not one of the nodes"
                )));
            }
        }
        for name in self.nodes.keys() {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
                return Err(ClusterError::Invalid(format!(
                    "node name `{name}` must be letters, digits and hyphens"
                )));
            }
        }
        Ok(())
    }

    /// The address of node `name`.
    pub fn address(&self, name: &str) -> Result<&str> {
        self.nodes
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ClusterError::Invalid(format!("no node `{name}` in the cluster file")))
    }

    /// The map file's text: one `region backend` line per region, by region.
    pub fn map_text(&self) -> String {
        self.regions
            .iter()
            .map(|(r, n)| format!("{r} {}\n", backend(n)))
            .collect()
    }

    /// HAProxy's configuration. The region is taken from the path (its fifth `/`-field) and
    /// looked up exactly in the map: a prefix match (`map_beg`) of `jambi` would also route
    /// `jambi-timur`. A request whose path names no region (`/api/v1/tokens/self`, signing
    /// out) goes by its token: a region's secrets are `knj_{region}_{hex}`, so the region is
    /// the bearer's second `_`-field (an admin's `knj_{hex}` gives 64 hex digits, no region
    /// id, and so the admin node). A node is marked down after two failed health checks 300 ms apart, so
    /// its regions fail fast (503) instead of waiting on it, and up again after one.
    pub fn haproxy_config(&self) -> String {
        let map = self.proxy.map.display();
        let admin = backend(&self.admin_node);
        let mut cfg = format!(
            "# Written by `kinerja cluster haproxy` from the cluster file; regions move by the\n\
             # Runtime API and the map file, not by editing this.\n\
             global\n    stats socket {socket} mode 600 level admin\n\n\
             defaults\n    mode http\n    timeout connect 1s\n    timeout client 60s\n    \
             timeout server 120s\n    timeout http-request 10s\n    retries 1\n\n\
             frontend kinerja\n    bind {listen}\n    \
             http-request set-var(txn.region) path,field(5,/) if {{ path_beg /api/v1/regions/ }}\n    \
             http-request set-var(txn.region) req.hdr(authorization),field(2,_) if !{{ path_beg /api/v1/regions/ }} {{ req.hdr(authorization) -m sub knj_ }}\n    \
             use_backend %[var(txn.region),map({map},{admin})] if {{ var(txn.region) -m found }}\n    \
             default_backend {admin}\n",
            socket = self.proxy.socket.display(),
            listen = self.proxy.listen,
        );
        for (name, addr) in &self.nodes {
            cfg.push_str(&format!(
                "\nbackend {b}\n    option httpchk GET /health\n    http-check expect status 200\n    \
                 server {name} {addr} check inter 300ms fall 2 rise 1\n",
                b = backend(name)
            ));
        }
        cfg
    }
}

/// Writes `bytes` to a new file beside `path` and renames it over `path`: a reader (HAProxy
/// at its restart) sees the old file or the new one, never half of one.
fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// `kinerja cluster haproxy`: writes HAProxy's configuration to `out` and the map file where
/// the cluster file says.
pub fn write_haproxy(cluster: &Cluster, out: &Path) -> Result<()> {
    replace_file(out, cluster.haproxy_config().as_bytes())?;
    replace_file(&cluster.proxy.map, cluster.map_text().as_bytes())
}

/// One command to HAProxy's Runtime API; its answer.
pub fn runtime_api(socket: &Path, command: &str) -> Result<String> {
    let mut s = std::os::unix::net::UnixStream::connect(socket).map_err(io(socket))?;
    s.write_all(format!("{command}\n").as_bytes())
        .map_err(io(socket))?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(io(socket))?;
    Ok(answer.trim().to_string())
}

/// Points `region` at `node` in the running proxy (`set map`, or `add map` for a region it
/// has no entry for yet).
pub fn route(cluster: &Cluster, region: &str, node: &str) -> Result<()> {
    let (socket, map) = (&cluster.proxy.socket, cluster.proxy.map.display());
    let set = format!("set map {map} {region} {}", backend(node));
    let answer = runtime_api(socket, &set)?;
    if answer.is_empty() {
        return Ok(());
    }
    let add = format!("add map {map} {region} {}", backend(node));
    let again = runtime_api(socket, &add)?;
    if again.is_empty() {
        return Ok(());
    }
    Err(ClusterError::Runtime {
        socket: socket.clone(),
        command: add,
        answer: format!("{answer}; {again}"),
    })
}

/// What `kinerja region move` did.
#[derive(Debug, Serialize)]
pub struct Moved {
    pub region: String,
    pub from: String,
    pub to: String,
    /// The region file's manifest as the target checked it.
    pub manifest: serde_json::Value,
}

/// `kinerja region move`: moves `region` to node `to`. The source pauses the region's writes
/// (clients get 503 with `Retry-After`; reads go on), snapshots its file, sends it to the
/// target, which checks it whole and opens it, and both compare every table's digest; then
/// the proxy's map entry is flipped through the Runtime API and the map file rewritten (and
/// the cluster file), and the source lets go of the region (421 from then on) and keeps its
/// file aside. Any failure before the flip resumes the region's writes on the source, where
/// it stays, with nothing lost.
pub fn move_region(cluster_file: &Path, region: &str, to: &str, token: &str) -> Result<Moved> {
    // One move at a time per cluster file: each rewrites the map and the cluster file whole.
    let lock = cluster_file.with_extension("moving");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&lock)
        .map_err(|e| {
            ClusterError::Invalid(format!(
                "{} exists ({e}): another move is under way (or one was cut short: remove the \
                 file once no move runs)",
                lock.display()
            ))
        })?;
    let moved = move_locked(cluster_file, region, to, token);
    let _ = std::fs::remove_file(&lock);
    moved
}

fn move_locked(cluster_file: &Path, region: &str, to: &str, token: &str) -> Result<Moved> {
    let mut cluster = Cluster::read(cluster_file)?;
    let from = cluster
        .regions
        .get(region)
        .cloned()
        .ok_or_else(|| ClusterError::Invalid(format!("region `{region}` is placed nowhere")))?;
    if from == to {
        return Err(ClusterError::Invalid(format!(
            "region `{region}` is on `{to}` already"
        )));
    }
    let (source, target) = (
        cluster.address(&from)?.to_string(),
        cluster.address(to)?.to_string(),
    );
    let http = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()
        .map_err(|source| ClusterError::Http {
            what: "an HTTP client".into(),
            source,
        })?;
    let post = |addr: &str, path: &str, body: serde_json::Value| -> Result<serde_json::Value> {
        let what = format!("POST http://{addr}{path}");
        let r = http
            .post(format!("http://{addr}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .map_err(|source| ClusterError::Http {
                what: what.clone(),
                source,
            })?;
        let status = r.status().as_u16();
        let text = r.text().unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(ClusterError::Refused {
                what,
                status,
                body: text,
            });
        }
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    };
    let base = format!("/api/v1/regions/{region}");
    // Paused, sent, checked by both sides: or resumed on the source, and the error. A copy
    // the target may have taken in before the failure (its answer lost, say) is set aside
    // there, so that only the source serves the region.
    let sent = match post(
        &source,
        &format!("{base}/move"),
        serde_json::json!({ "to": format!("http://{target}") }),
    ) {
        Ok(sent) => sent,
        Err(e) => {
            let _ = post(&target, &format!("{base}/release"), serde_json::json!({}));
            return Err(e);
        }
    };
    let flipped = route(&cluster, region, to).and_then(|()| {
        cluster.regions.insert(region.to_string(), to.to_string());
        replace_file(&cluster.proxy.map, cluster.map_text().as_bytes())?;
        cluster.write(cluster_file)
    });
    if let Err(e) = flipped {
        // The proxy still routes to the source (or is pointed back here, and its map file
        // with it): the region stays.
        let _ = route(&cluster, region, &from);
        cluster.regions.insert(region.to_string(), from.clone());
        let _ = replace_file(&cluster.proxy.map, cluster.map_text().as_bytes());
        // The target's copy is set aside (kept, not served), the source serves on.
        let _ = post(&target, &format!("{base}/release"), serde_json::json!({}));
        let _ = post(&source, &format!("{base}/resume"), serde_json::json!({}));
        return Err(e);
    }
    post(&source, &format!("{base}/release"), serde_json::json!({}))?;
    Ok(Moved {
        region: region.to_string(),
        from,
        to: to.to_string(),
        manifest: sent,
    })
}
