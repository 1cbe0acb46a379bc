//! The real `mockd` executable: `--help`, flag and environment handling, the printed listen
//! address and generated key, argument errors, and graceful stop on SIGTERM/SIGINT.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::delay::wait_for_hits;
use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_mockd");

/// A running `mockd` process; killed on drop if the test did not stop it.
struct Proc {
    child: Child,
    /// Kept open so the process can still print while it shuts down.
    _stdout: BufReader<ChildStdout>,
    /// Every stdout line read so far.
    lines: Vec<String>,
    addr: SocketAddr,
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A command for the binary with every `MOCKD_*` variable of the test environment removed.
fn command() -> Command {
    let mut cmd = Command::new(BIN);
    for (k, _) in std::env::vars() {
        if k.starts_with("MOCKD_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// The binary on a free port with key `k1`, plus `extra` arguments.
fn command_k1(extra: &[&str]) -> Command {
    let mut cmd = command();
    cmd.args(["--listen", "127.0.0.1:0", "--api-key", "k1"])
        .args(extra);
    cmd
}

/// Spawns the binary and reads stdout until the `listening on http://HOST:PORT` line.
fn spawn(mut cmd: Command) -> Proc {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mockd");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let addr = loop {
        let mut line = String::new();
        let n = stdout.read_line(&mut line).expect("read stdout");
        if n == 0 {
            let mut err = String::new();
            let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            panic!("mockd exited before listening; stdout {lines:?}, stderr {err:?}");
        }
        let line = line.trim_end().to_string();
        lines.push(line.clone());
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let hostport = rest.split_whitespace().next().unwrap();
            break hostport.parse::<SocketAddr>().expect("listen address");
        }
    };
    Proc {
        child,
        _stdout: stdout,
        lines,
        addr,
    }
}

/// Runs the binary to completion and returns its status, stdout and stderr.
fn run(mut cmd: Command) -> (ExitStatus, String, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("run mockd");
    (
        out.status,
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Sends `signal` to the process with the `kill` utility.
fn signal(p: &Proc, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(p.child.id().to_string())
        .status()
        .expect("run kill");
    assert!(status.success());
}

/// Waits (bounded) for the process to exit, polling its real status, and returns it.
fn wait_exit(p: &mut Proc) -> ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = p.child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "mockd did not exit");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `--help` exits 0 and lists every flag together with its environment variable.
#[test]
fn help_lists_flags_and_env_vars() {
    let mut cmd = command();
    cmd.arg("--help");
    let (status, out, _) = run(cmd);
    assert!(status.success());
    for needle in [
        "--listen",
        "MOCKD_LISTEN",
        "--api-key",
        "MOCKD_API_KEYS",
        "--workers",
        "MOCKD_WORKERS",
        "--max-mocks",
        "MOCKD_MAX_MOCKS",
        "--max-body-bytes",
        "--header-timeout",
        "--idle-timeout",
        "--shutdown-grace",
        "--help",
        "--version",
    ] {
        assert!(out.contains(needle), "--help lacks {needle}:\n{out}");
    }
    // Every `--flag VALUE` entry is followed by its `env: MOCKD_...` line.
    let lines: Vec<&str> = out.lines().collect();
    let mut flags = 0;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if t.starts_with("--") && t.contains(' ') {
            flags += 1;
            let env = lines[i + 1..]
                .iter()
                .take_while(|l| !l.trim().starts_with("--") && !l.trim().starts_with('-'))
                .find(|l| l.trim().starts_with("env: MOCKD_"));
            assert!(env.is_some(), "{t} has no env line:\n{out}");
        }
    }
    assert!(flags >= 10, "{out}");
    let mut cmd = command();
    cmd.arg("-h");
    assert_eq!(run(cmd).1, out);
}

/// `--version` prints the crate version and exits 0.
#[test]
fn version_flag() {
    let mut cmd = command();
    cmd.arg("--version");
    let (status, out, _) = run(cmd);
    assert!(status.success());
    assert!(out.contains(env!("CARGO_PKG_VERSION")), "{out}");
}

/// An unknown flag, a missing value and a bad value exit with code 2 and name the problem.
#[test]
fn bad_arguments_exit_2() {
    for (args, needle) in [
        (&["--bogus"][..], "--bogus"),
        (&["--workers"][..], "--workers"),
        (&["--workers", "0"][..], "--workers"),
        (&["--listen", "nowhere"][..], "--listen"),
        (&["--api-key", ""][..], "--api-key"),
        (&["--idle-timeout", "-1"][..], "--idle-timeout"),
    ] {
        let mut cmd = command();
        cmd.args(args);
        let (status, out, err) = run(cmd);
        assert_eq!(
            status.code(),
            Some(2),
            "{args:?}: stdout {out:?} stderr {err:?}"
        );
        assert!(err.contains(needle), "{args:?}: stderr {err:?}");
        assert!(!out.contains("listening on"), "{args:?}");
    }
    let mut cmd = command();
    cmd.env("MOCKD_MAX_MOCKS", "many");
    let (status, _, err) = run(cmd);
    assert_eq!(status.code(), Some(2));
    assert!(err.contains("MOCKD_MAX_MOCKS"), "{err:?}");
}

/// With `--api-key`, the printed address serves and only the given keys authenticate.
#[test]
fn listens_where_it_says_with_given_keys() {
    let p = spawn(command_k1(&["--api-key=k2", "--workers", "2"]));
    assert_ne!(p.addr.port(), 0);
    let id = create_id_as(p.addr, "k1", &json!({"body": "from the binary"}));
    assert_eq!(hit(p.addr, &id).body, b"from the binary");
    create_id_as(p.addr, "k2", &json!({}));
    assert_eq!(create(p.addr, "k3", &json!({})).status, 401);
    assert_eq!(get_mock(p.addr, "k2", &id).status, 404);
    assert_eq!(status(p.addr)["live_mocks"], json!(2));
}

/// Without a key the binary generates a `tk_` key, prints it, and that key works.
#[test]
fn generated_key_is_printed_and_works() {
    let mut cmd = command();
    cmd.args(["--listen", "127.0.0.1:0", "--workers", "1"]);
    let p = spawn(cmd);
    let key = p
        .lines
        .iter()
        .flat_map(|l| l.split_whitespace())
        .find(|w| w.starts_with("tk_"))
        .unwrap_or_else(|| panic!("no tk_ key printed before listening: {:?}", p.lines))
        .to_string();
    assert!(key.len() > 20, "{key}");
    let id = create_id_as(p.addr, &key, &json!({"body": "generated"}));
    assert_eq!(get_mock(p.addr, &key, &id).status, 200);
    assert_eq!(create(p.addr, "tk_wrong", &json!({})).status, 401);
    assert_eq!(create(p.addr, "", &json!({})).status, 401);
}

/// `MOCKD_API_KEYS` (comma separated) configures several keys, each owning its own mocks.
#[test]
fn api_keys_from_environment() {
    let mut cmd = command();
    cmd.args(["--listen", "127.0.0.1:0", "--workers", "1"])
        .env("MOCKD_API_KEYS", "alpha, beta");
    let p = spawn(cmd);
    assert!(
        !p.lines.iter().any(|l| l.contains("tk_")),
        "no key should be generated when MOCKD_API_KEYS is set: {:?}",
        p.lines
    );
    let a = create_id_as(p.addr, "alpha", &json!({}));
    let b = create_id_as(p.addr, "beta", &json!({}));
    assert_eq!(get_mock(p.addr, "beta", &a).status, 404);
    assert_eq!(get_mock(p.addr, "alpha", &b).status, 404);
    assert_eq!(get_mock(p.addr, "alpha", &a).status, 200);
    assert_eq!(create(p.addr, "alpha,beta", &json!({})).status, 401);
}

/// Limits set through the environment apply (here `MOCKD_MAX_MOCKS=1`).
#[test]
fn limits_from_environment() {
    let mut cmd = command_k1(&["--workers", "1"]);
    cmd.env("MOCKD_MAX_MOCKS", "1");
    let p = spawn(cmd);
    create_id(p.addr, &json!({}));
    assert_eq!(create(p.addr, K1, &json!({})).status, 507);
}

/// A flag wins over its environment variable (`--max-mocks 2` over `MOCKD_MAX_MOCKS=1`).
#[test]
fn flag_wins_over_environment() {
    let mut cmd = command_k1(&["--max-mocks", "2"]);
    cmd.env("MOCKD_MAX_MOCKS", "1");
    let p = spawn(cmd);
    create_id(p.addr, &json!({}));
    create_id(p.addr, &json!({}));
    assert_eq!(create(p.addr, K1, &json!({})).status, 507);
}

/// SIGTERM during a 1500 ms response: the client gets all of it and the process exits 0.
#[test]
fn sigterm_finishes_in_flight_delayed_response() {
    let mut p = spawn(command_k1(&["--workers", "2"]));
    let addr = p.addr;
    let id = create_id(addr, &json!({"delay_ms": 1500, "body": "worth the wait"}));
    let mut c = Client::connect(addr);
    let t0 = Instant::now();
    c.send(&request_bytes("GET", &format!("/v1/mock/{id}"), &[], None));
    wait_for_hits(addr, &id, 1);
    signal(&p, "TERM");
    let signalled = t0.elapsed();
    let r = c.read_response();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"worth the wait");
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1500),
        "the 1500 ms response came after {took:?}"
    );
    assert!(
        signalled < Duration::from_millis(1500),
        "SIGTERM was sent after the response was due ({signalled:?}); the test proved nothing"
    );
    c.expect_eof();
    let status = wait_exit(&mut p);
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(std::net::TcpStream::connect(addr).is_err());
}

/// SIGINT stops an idle server with exit code 0.
#[test]
fn sigint_stops_idle_server() {
    let mut p = spawn(command_k1(&["--workers", "1"]));
    assert_eq!(status(p.addr)["live_mocks"], json!(0));
    signal(&p, "INT");
    let status = wait_exit(&mut p);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// SIGTERM stops an idle server with an open idle keep-alive connection, exit code 0.
#[test]
fn sigterm_closes_idle_connections() {
    let mut p = spawn(command_k1(&["--workers", "1"]));
    let mut c = Client::connect(p.addr);
    assert_eq!(c.get("/v1/status").status, 200);
    signal(&p, "TERM");
    c.expect_eof();
    let status = wait_exit(&mut p);
    assert_eq!(status.code(), Some(0), "{status:?}");
}

/// SIGTERM sent right after the `listening on` line always gives a clean exit 0.
#[test]
fn sigterm_right_after_ready_exits_0() {
    // What a supervisor that waits for readiness does; repeated because it is a race.
    let mut failures = Vec::new();
    for _ in 0..50 {
        let mut p = spawn(command_k1(&["--workers", "1"]));
        signal(&p, "TERM");
        let status = wait_exit(&mut p);
        if status.code() != Some(0) {
            failures.push(status);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 50 runs did not exit 0: {failures:?}",
        failures.len()
    );
}
