//! Secrets never leave the process, TLS certificates are checked unless `--insecure` (which
//! warns even when quiet), and the open-files limit is raised for many workers or the run is
//! refused with the numbers before anything starts.

mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::{closed_port, heavy, num, read_json, run, wait_until, ManyConnServer, TempDir};
use support::{TestServer, BIN};

const SECRETS: [&str; 5] = [
    "k3y-0ne",
    "b3arer-tw0",
    "t0ken-thr3e",
    "qu3ry-f0ur",
    "pa55-f1ve",
];

#[test]
fn secrets_are_redacted_in_stdout_stderr_and_the_json_file() {
    let server = TestServer::start();
    let dir = TempDir::new("secrets");
    let json = dir.file("r.json");
    let url = format!(
        "http://user:{}@127.0.0.1:{}/ok?token={}&plain=seen",
        SECRETS[4], server.port, SECRETS[3]
    );
    let auth = format!("Authorization: Bearer {}", SECRETS[1]);
    let token = format!("X-Auth-Token: {}", SECRETS[2]);
    for output in ["text", "json"] {
        let args = [
            "run",
            "--url",
            &url,
            "-n",
            "3",
            "-c",
            "1",
            "--api-key",
            SECRETS[0],
            "-H",
            &auth,
            "-H",
            &token,
            "-H",
            "X-Trace: visible-value",
            "--json",
            &json,
            "-o",
            output,
        ];
        let out = run(&args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let file = std::fs::read_to_string(&json).unwrap();
        for secret in SECRETS {
            for (place, text) in [
                ("stdout", &out.stdout),
                ("stderr", &out.stderr),
                ("file", &file),
            ] {
                assert!(
                    !text.contains(secret),
                    "{secret} leaked in {place}:\n{text}"
                );
            }
        }
        assert!(
            file.contains("visible-value") && file.contains("plain=seen"),
            "{file}"
        );
        assert!(out.stdout.contains("[redacted]"), "{}", out.stdout);
    }
    // The target still received the real values.
    let bearer = format!("Bearer {}", SECRETS[1]);
    assert_eq!(
        server.last_header("authorization").as_deref(),
        Some(bearer.as_str())
    );
    assert_eq!(server.last_header("x-api-key").as_deref(), Some(SECRETS[0]));
    assert_eq!(server.count(), 6);
}

#[test]
fn secrets_are_redacted_in_the_dashboard_and_the_html_report() {
    let server = TestServer::start();
    let dir = TempDir::new("secrets-live");
    let html = dir.file("r.html");
    let port = closed_port().to_string();
    let listen = format!("127.0.0.1:{port}");
    let url = format!(
        "http://user:{}@127.0.0.1:{}/ok?token={}",
        SECRETS[4], server.port, SECRETS[3]
    );
    let auth = format!("Authorization: Bearer {}", SECRETS[1]);
    let token = format!("X-Auth-Token: {}", SECRETS[2]);
    let args = [
        "run",
        "--url",
        &url,
        "-z",
        "3s",
        "-c",
        "1",
        "--api-key",
        SECRETS[0],
        "-H",
        &auth,
        "-H",
        &token,
        "--dashboard",
        &listen,
        "--html",
        &html,
    ];
    let running = support::spawn(&args, &[]);
    let get = |path: &str| -> Option<String> {
        let mut answer = ureq::get(&format!("http://{listen}{path}")).call().ok()?;
        answer.body_mut().read_to_string().ok()
    };
    let mut pages = vec![];
    wait_until(Duration::from_secs(10), "the dashboard", || {
        get("/api/stats").is_some_and(|s| s.contains("\"totals\""))
    });
    for path in ["/", "/api/stats", "/metrics"] {
        pages.push((path, get(path).unwrap_or_default()));
    }
    let out = running.wait(Duration::from_secs(20));
    assert_eq!(out.code, 0, "{}", out.stderr);
    pages.push(("html", std::fs::read_to_string(&html).unwrap()));
    pages.push(("stderr", out.stderr.clone()));
    for (place, text) in &pages {
        assert!(!text.is_empty(), "{place} is empty");
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked in {place}");
        }
    }
    assert!(pages[1].1.contains("[redacted]"), "{}", pages[1].1);
}

/// Sets the open-files limit of the child before it runs.
fn with_nofile(cmd: &mut Command, soft: u64, hard: u64) {
    // SAFETY: setrlimit is async-signal-safe and only touches the child being started.
    unsafe {
        cmd.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: soft,
                rlim_max: hard,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn run_limited(args: &[&str], soft: u64, hard: u64) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    with_nofile(&mut cmd, soft, hard);
    let out = cmd.output().expect("run fnstress");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_open_files_limit_is_raised_toward_the_hard_limit() {
    let _serial = heavy();
    let server = ManyConnServer::start();
    let dir = TempDir::new("nofile");
    let json = dir.file("r.json");
    let url = format!("http://127.0.0.1:{}/", server.port);
    let args = [
        "run", "--url", &url, "-c", "300", "-n", "3000", "-q", "--json", &json,
    ];
    let (code, stderr) = run_limited(&args, 64, 4096);
    assert_eq!(code, 0, "{stderr}");
    let r = read_json(&json);
    assert_eq!(num(&r["totals"], "success"), 3000);
    assert_eq!(server.count(), 3000);
}

#[test]
fn too_low_a_hard_limit_exits_2_with_the_numbers() {
    let server = ManyConnServer::start();
    let url = format!("http://127.0.0.1:{}/", server.port);
    let (code, stderr) = run_limited(&["run", "--url", &url, "-c", "300", "-n", "10"], 64, 100);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "fnstress: --concurrency 300: needs about 364 open files but the hard limit is 100 \
         (ulimit -Hn); lower --concurrency or raise the limit\n"
    );
    assert_eq!(server.count(), 0);
}

/// True when a tool is installed; otherwise says so, and fails under CI.
fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args([
            "-c",
            &format!("command -v {tool} || test -x /usr/sbin/{tool}"),
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is missing (.ci/run installs it)"
        );
        eprintln!("notice: skipping a TLS test: {tool} is not installed");
    }
    found
}

/// nginx serving HTTPS on 127.0.0.1 with a self-signed certificate; stopped when dropped.
struct TlsServer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl TlsServer {
    fn start() -> TlsServer {
        let dir = TempDir::new("tls");
        let d = dir.path().display().to_string();
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .args([
                "-keyout",
                &format!("{d}/key.pem"),
                "-out",
                &format!("{d}/cert.pem"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run openssl");
        assert!(status.success(), "openssl could not make a certificate");
        let port = closed_port();
        let conf = format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log;\n\
             events {{}}\n\
             http {{ access_log off; client_body_temp_path {d};\n\
               server {{ listen 127.0.0.1:{port} ssl;\n\
                 ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem;\n\
                 location / {{ return 200 '{{\"ok\":true}}'; }} }} }}\n"
        );
        std::fs::write(format!("{d}/nginx.conf"), conf).unwrap();
        let nginx = if std::path::Path::new("/usr/sbin/nginx").exists() {
            "/usr/sbin/nginx"
        } else {
            "nginx"
        };
        let child = Command::new(nginx)
            .args([
                "-e",
                &format!("{d}/error.log"),
                "-c",
                &format!("{d}/nginx.conf"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nginx");
        let mut server = TlsServer {
            child,
            port,
            _dir: dir,
        };
        wait_until(Duration::from_secs(10), "nginx to listen", || {
            if let Some(status) = server.child.try_wait().unwrap() {
                let mut err = String::new();
                let _ = server.child.stderr.take().unwrap().read_to_string(&mut err);
                panic!("nginx exited ({status}): {err}");
            }
            std::net::TcpStream::connect(("127.0.0.1", server.port)).is_ok()
        });
        server
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tls_certificates_are_verified_unless_insecure() {
    if !have("openssl") || !have("nginx") {
        return;
    }
    let server = TlsServer::start();
    let url = format!("https://127.0.0.1:{}/", server.port);

    let out = run(&[
        "run", "--url", &url, "-n", "4", "-c", "1", "-o", "json", "-q",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    assert_eq!(num(&r["totals"], "connect_error"), 4, "{}", r["totals"]);
    let message = r["errors"][0]["message"].as_str().unwrap_or("");
    assert!(message.to_lowercase().contains("certificate"), "{message}");

    let args = [
        "run",
        "--url",
        &url,
        "-n",
        "4",
        "-c",
        "1",
        "-o",
        "json",
        "-q",
        "--insecure",
    ];
    let out = run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(num(&out.json()["totals"], "success"), 4);
    assert!(
        out.stderr
            .starts_with("fnstress: warning: --insecure: TLS certificates are not verified"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["config"]["client"]["insecure"], true);
}
