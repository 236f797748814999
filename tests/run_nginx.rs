//! A run against a real nginx on 127.0.0.1 completes exactly as many invocations as nginx
//! logged, so the count does not depend on a server written for the tests; nginx's connection
//! serial numbers show what `--no-keepalive` and `--max-requests-per-connection` did.
//!
//! Needs Debian's `nginx` package (`/usr/sbin/nginx`). Without it the test fails when `CI` is
//! set and is skipped with a notice otherwise.

mod support;

use std::collections::HashMap;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{closed_port, num, read_json, run_ok, sum, wait_until, TempDir};

const NGINX: &str = "/usr/sbin/nginx";

/// A foreground nginx in its own directory; stopped (and waited for) when dropped, also when
/// the test panics.
struct Nginx {
    child: Option<Child>,
    port: u16,
    dir: TempDir,
}

impl Nginx {
    fn start() -> Nginx {
        let dir = TempDir::new("nginx");
        let port = closed_port();
        let d = dir.path().display();
        // master_process off keeps one process that never switches user, so running as root
        // or not, it writes only into this directory and one kill stops it.
        let conf = format!(
            "daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    log_format conn '$connection $connection_requests';
    access_log {d}/conn.log conn;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 \"ok\"; }}
    }}
}}
"
        );
        let conf_path = dir.file("nginx.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let child = Command::new(NGINX)
            .args([
                "-p",
                &dir.file(""),
                "-e",
                &dir.file("error.log"),
                "-c",
                &conf_path,
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let mut nginx = Nginx {
            child: Some(child),
            port,
            dir,
        };
        let log = nginx.dir.file("error.log");
        wait_until(Duration::from_secs(10), "nginx to listen", || {
            let exited = nginx.child.as_mut().unwrap().try_wait().unwrap();
            assert!(
                exited.is_none(),
                "nginx exited: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        nginx
    }

    /// Stops nginx; after this the access log is complete.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Requests per connection serial number, from the connection log.
    fn connections(&self) -> HashMap<u64, u64> {
        let text = std::fs::read_to_string(self.dir.file("conn.log")).unwrap();
        let mut per = HashMap::new();
        for line in text.lines() {
            let serial = line.split_whitespace().next().unwrap().parse().unwrap();
            *per.entry(serial).or_default() += 1;
        }
        per
    }

    fn access_log_lines(&self) -> usize {
        let text = std::fs::read_to_string(self.dir.file("access.log")).unwrap();
        text.lines().count()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// True when nginx is installed; fails under CI when it is not.
fn nginx_available() -> bool {
    if Path::new(NGINX).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{NGINX} is missing; install Debian's nginx package"
    );
    eprintln!("notice: {NGINX} is missing (apt-get install nginx); skipping this test");
    false
}

/// Runs `n` invocations against nginx with extra flags; returns the report and nginx's
/// requests per connection.
fn run_connections(n: &str, concurrency: &str, flags: &[&str]) -> (serde_json::Value, Vec<u64>) {
    let mut nginx = Nginx::start();
    let json = nginx.dir.file("r.json");
    let url = format!("http://127.0.0.1:{}/fn", nginx.port);
    let mut args = vec![
        "run",
        "--url",
        &url,
        "-n",
        n,
        "-c",
        concurrency,
        "--body",
        "{}",
        "-q",
        "--json",
        &json,
    ];
    args.extend(flags);
    run_ok(&args);
    let r = read_json(&json);
    nginx.stop();
    let mut per: Vec<u64> = nginx.connections().into_values().collect();
    per.sort_unstable();
    (r, per)
}

#[test]
fn no_keepalive_opens_one_connection_per_invocation() {
    if !nginx_available() {
        return;
    }
    let (r, per) = run_connections("200", "4", &["--no-keepalive"]);
    assert_eq!(num(&r["totals"], "success"), 200);
    assert_eq!(per.len(), 200, "distinct connections in nginx's log");
    assert!(per.iter().all(|n| *n == 1));
    assert_eq!(num(&r["connections"], "opened"), 200);
    // every worker's first connection is not a reconnect
    assert_eq!(num(&r["connections"], "reconnects"), 196);
    assert_eq!(r["config"]["keepalive"], false);
}

#[test]
fn max_requests_per_connection_retires_connections() {
    if !nginx_available() {
        return;
    }
    let (r, per) = run_connections("200", "2", &["--max-requests-per-connection", "10"]);
    assert_eq!(num(&r["totals"], "success"), 200);
    // about one tenth: each worker's last connection may carry fewer than ten
    assert!((20..=22).contains(&per.len()), "{per:?}");
    assert!(per.iter().all(|n| *n <= 10), "{per:?}");
    assert_eq!(num(&r["connections"], "opened"), per.len() as u64);
    assert_eq!(num(&r["connections"], "reconnects"), per.len() as u64 - 2);
    // without a limit the two workers keep their two connections
    let (r, per) = run_connections("200", "2", &[]);
    assert_eq!(per.len(), 2, "{per:?}");
    assert_eq!(per.iter().sum::<u64>(), 200);
    assert_eq!(num(&r["connections"], "opened"), 2);
}

#[test]
fn completed_count_equals_nginx_access_log_lines() {
    if !nginx_available() {
        return;
    }
    let mut nginx = Nginx::start();
    // The readiness probe made a connection but no request, so nothing is logged yet.
    assert_eq!(nginx.access_log_lines(), 0);
    let json = nginx.dir.file("r.json");
    let url = format!("http://127.0.0.1:{}/fn", nginx.port);
    run_ok(&[
        "run", "--url", &url, "-n", "500", "-c", "10", "--body", "{}", "-q", "--json", &json,
    ]);
    let r = read_json(&json);
    nginx.stop();

    let t = &r["totals"];
    assert_eq!(num(t, "completed"), 500);
    assert_eq!(num(t, "success"), 500);
    // nginx answers "ok": 2 bytes each.
    assert_eq!(num(t, "bytes_received"), 1000);
    assert_eq!(r["status_codes"], serde_json::json!({"200": 500}));
    assert_eq!(sum(&r["workers"], "started"), 500);
    assert_eq!(nginx.access_log_lines(), 500);
    let log = std::fs::read_to_string(nginx.dir.file("access.log")).unwrap();
    let posts = log
        .lines()
        .filter(|l| l.contains("\"POST /fn HTTP/1.1\" 200 2 "))
        .count();
    assert_eq!(posts, 500, "{}", log.lines().next().unwrap_or(""));
}
