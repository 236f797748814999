//! A run against a real nginx on 127.0.0.1 completes exactly as many invocations as nginx
//! logged, so the count does not depend on a server written for the tests.
//!
//! Needs Debian's `nginx` package (`/usr/sbin/nginx`). Without it the test fails when `CI` is
//! set and is skipped with a notice otherwise.

mod support;

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

#[test]
fn completed_count_equals_nginx_access_log_lines() {
    if !Path::new(NGINX).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{NGINX} is missing; install Debian's nginx package"
        );
        eprintln!("notice: {NGINX} is missing (apt-get install nginx); skipping this test");
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
