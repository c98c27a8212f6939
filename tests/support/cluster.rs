//! Nodes and a proxy for the cluster test and bench: real `kinerja serve` processes on
//! loopback ports and a real HAProxy (which `scripts/cluster-test.sh` installs).

use crate::kinerja_binary;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Six regions, two to each of the nodes `a`, `b` and `c`: the cluster test's start and the
/// cluster bench's.
pub const SIX_REGIONS: [(&str, &str); 6] = [
    ("jambi", "a"),
    ("jakarta", "a"),
    ("tenayan-raya", "b"),
    ("kota-pekanbaru", "b"),
    ("kota-dumai", "c"),
    ("kota-batam", "c"),
];

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Nodes named `names`, each on a free port with its data dir `root/node-{name}`, started with
/// every node of the set as a peer (`--peers`) and `admin_tokens` as `--admin-tokens`.
pub fn start_nodes(root: &Path, names: &[&str], admin_tokens: &Path) -> Vec<Node> {
    let mut nodes: Vec<Node> = names
        .iter()
        .map(|n| Node {
            name: n.to_string(),
            port: free_port(),
            dir: root.join(format!("node-{n}")),
            child: None,
        })
        .collect();
    let peers = peer_list(&nodes);
    for n in &mut nodes {
        n.start(admin_tokens, &peers);
    }
    nodes
}

/// The `--peers` value naming `nodes`.
pub fn peer_list<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> String {
    nodes
        .into_iter()
        .map(|n| format!("127.0.0.1:{}", n.port))
        .collect::<Vec<_>>()
        .join(",")
}

pub struct Node {
    pub name: String,
    pub port: u16,
    pub dir: PathBuf,
    pub child: Option<Child>,
}

impl Node {
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts (or restarts) the node's server; returns once it listens.
    pub fn start(&mut self, admin_tokens: &Path, peers: &str) {
        let mut child = Command::new(kinerja_binary())
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(&self.dir)
            .args(["--node", &self.name])
            .arg("--admin-tokens")
            .arg(admin_tokens)
            .args(["--peers", peers])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start kinerja");
        let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        while !line.contains("listening on") {
            line.clear();
            assert!(
                out.read_line(&mut line).expect("read") > 0,
                "node {} stopped before listening",
                self.name
            );
        }
        // Keep reading its stdout so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        self.child = Some(child);
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and waits for the clean stop.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let _ = c.wait();
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

pub struct Proxy {
    pub config: PathBuf,
    pub child: Option<Child>,
}

impl Proxy {
    pub fn start(&mut self, base: &str) {
        let child = Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&self.config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start haproxy (scripts/cluster-test.sh installs it)");
        self.child = Some(child);
        let http = reqwest::blocking::Client::new();
        let t = Instant::now();
        while http.get(format!("{base}/health")).send().is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "haproxy did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `kinerja` with `args`: exit code, stdout, stderr.
pub fn kinerja(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(kinerja_binary())
        .args(args)
        .output()
        .expect("run kinerja");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes the cluster file of `nodes` (the first the admin node) and `placement` in `root`,
/// HAProxy's configuration from it with `kinerja cluster haproxy`, and starts the proxy on a
/// free port: answers the cluster file, the proxy and its base URL.
pub fn start_proxy(
    root: &Path,
    nodes: &[&Node],
    placement: &[(&str, &str)],
) -> (PathBuf, Proxy, String) {
    let port = free_port();
    let cluster = serde_json::json!({
        "proxy": {
            "listen": format!("127.0.0.1:{port}"),
            "socket": root.join("haproxy.sock"),
            "map": root.join("regions.map"),
        },
        "admin_node": nodes.first().map(|n| n.name.clone()),
        "nodes": nodes
            .iter()
            .map(|n| (n.name.clone(), serde_json::json!(format!("127.0.0.1:{}", n.port))))
            .collect::<serde_json::Map<_, _>>(),
        "regions": placement
            .iter()
            .map(|(r, n)| (r.to_string(), serde_json::json!(n)))
            .collect::<serde_json::Map<_, _>>(),
    });
    let file = root.join("cluster.json");
    std::fs::write(&file, cluster.to_string()).expect("write the cluster file");
    let config = root.join("haproxy.cfg");
    let (code, _, err) = kinerja(&[
        "cluster",
        "haproxy",
        "--cluster",
        file.to_str().expect("utf-8"),
        "--out",
        config.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{err}");
    let base = format!("http://127.0.0.1:{port}");
    let mut proxy = Proxy {
        config,
        child: None,
    };
    proxy.start(&base);
    (file, proxy, base)
}
