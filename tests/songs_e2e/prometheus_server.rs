//! A real Prometheus server (Debian's `prometheus` package) for the scenarios: started on a
//! free port with the scenario's configuration, stopped however the test ends, and asked
//! through its HTTP API.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::exposition;
use crate::support::{Running, Scratch, free_addr, http, url_encode, wait_until};

/// A running Prometheus; dropping it kills the process.
pub(crate) struct Prometheus {
    pub addr: SocketAddr,
    _process: Running,
}

impl Prometheus {
    /// Starts `prometheus` with the configuration `config` (YAML) and the extra `flags`, its
    /// data in `scratch`, and waits until it is ready.
    pub(crate) fn start(scratch: &Scratch, config: &str, flags: &[&str]) -> Prometheus {
        let addr = free_addr();
        let config_path = scratch.0.join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let process = Running::spawn(
            "prometheus",
            Command::new("prometheus")
                .arg(format!("--config.file={}", config_path.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    scratch.0.join("tsdb").display()
                ))
                .arg(format!("--web.listen-address={addr}"))
                .args(flags)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        wait_until("prometheus to be ready", Duration::from_secs(30), || {
            TcpStream::connect(addr)
                .ok()
                .filter(|_| http(addr, "GET", "/-/ready", &[], "").0 == 200)
        });
        Prometheus {
            addr,
            _process: process,
        }
    }

    /// `GET /api/v1/<path>`: its `data`, once the answer says `success`.
    pub(crate) fn api(&self, path: &str) -> serde_json::Value {
        let (status, body) = http(self.addr, "GET", &format!("/api/v1/{path}"), &[], "");
        assert_eq!(status, 200, "/api/v1/{path}: {body}");
        let mut json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["status"], "success", "/api/v1/{path}: {body}");
        json["data"].take()
    }

    /// The instant vector `query`, as a map from the values of the labels `by` (`""` for a
    /// missing label) to the number.
    pub(crate) fn query(&self, query: &str, by: &[&str]) -> BTreeMap<Vec<String>, f64> {
        let data = self.api(&format!("query?query={}", url_encode(query)));
        let mut out = BTreeMap::new();
        for sample in data["result"].as_array().cloned().unwrap_or_default() {
            let key = by
                .iter()
                .map(|l| sample["metric"][*l].as_str().unwrap_or("").to_owned())
                .collect();
            let value = sample["value"][1].as_str().unwrap().parse().unwrap();
            out.insert(key, value);
        }
        out
    }

    /// Prometheus's own counter `name`, summed over the series whose labels `keep` accepts,
    /// read from its `/metrics`.
    pub(crate) fn own_counter(
        &self,
        name: &str,
        keep: impl Fn(&exposition::Labels) -> bool,
    ) -> f64 {
        let (status, text) = http(self.addr, "GET", "/metrics", &[], "");
        assert_eq!(status, 200, "{text}");
        exposition::samples(&text)
            .iter()
            .filter(|s| s.name == name && keep(&s.labels))
            .map(|s| s.value)
            .sum()
    }
}
