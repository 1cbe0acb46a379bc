//! Configuration: flags and environment variables, their defaults, and every limit in one place.
//!
//! Each setting has a flag and an environment variable (`--max-mocks` / `MOCKD_MAX_MOCKS`); a flag
//! wins over the environment. `--help` is generated from the same table the parser reads, so it
//! cannot fall behind.

use std::net::SocketAddr;
use std::time::Duration;

use crate::clock::Clock;

/// Every limit the server enforces.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Open connections across all workers; beyond it new ones get a 503 and are closed.
    pub max_connections: usize,
    /// Largest request head (request line and fields).
    pub max_head_bytes: usize,
    /// Longest request target.
    pub max_target_bytes: usize,
    /// Largest request body read (the serving path discards it; the control API parses it).
    pub max_request_body_bytes: u64,
    /// Largest mock response body.
    pub max_mock_body_bytes: usize,
    /// Most custom headers on one mock.
    pub max_mock_headers: usize,
    /// Most bytes of custom header names and values on one mock.
    pub max_mock_header_bytes: usize,
    /// Most live mocks.
    pub max_mocks: usize,
    /// Most bytes all live mocks may take.
    pub max_store_bytes: usize,
    /// Most requests answered from one read before the responses are written.
    pub max_pipeline: usize,
    /// Most unsent response bytes per connection before the server stops reading from it.
    pub max_output_bytes: usize,
    /// Time allowed to receive a whole request head once its first byte arrived.
    pub header_timeout: Duration,
    /// Time allowed between two reads of a request body.
    pub body_timeout: Duration,
    /// Time a keep-alive connection may sit idle between requests.
    pub idle_timeout: Duration,
    /// Time allowed between two writes that make progress, for clients that stop reading.
    pub write_timeout: Duration,
    /// Time in-flight requests (delayed ones too) get to finish after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 65_536,
            max_head_bytes: 16 * 1024,
            max_target_bytes: 8 * 1024,
            max_request_body_bytes: 8 * 1024 * 1024,
            max_mock_body_bytes: 1024 * 1024,
            max_mock_headers: 64,
            max_mock_header_bytes: 16 * 1024,
            max_mocks: 2_000_000,
            max_store_bytes: 2 * 1024 * 1024 * 1024,
            max_pipeline: 256,
            max_output_bytes: 4 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(35),
        }
    }
}

/// Server configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    /// API keys for the control API. Empty means: generate one at start.
    pub api_keys: Vec<String>,
    /// Worker threads, each with its own listener and runtime.
    pub workers: usize,
    pub limits: Limits,
    /// The clock that decides expiry (manual in tests).
    pub clock: Clock,
    /// Whether `GET /metrics` needs an API key (it carries no ids, so public by default).
    pub metrics_require_key: bool,
    /// Milliseconds one TTL second lasts. 1000 unless the soak test shortens lifetimes with
    /// `--test-only-ttl-unit-ms`; never change it in production.
    pub ttl_unit_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            api_keys: Vec::new(),
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            limits: Limits::default(),
            clock: Clock::system(),
            metrics_require_key: false,
            ttl_unit_ms: 1000,
        }
    }
}

/// What the command line asked for.
#[derive(Debug)]
pub enum Command {
    Run(Box<Config>),
    Help(String),
    Version,
}

type Setter = fn(&mut Config, &str) -> Result<(), String>;

struct Flag {
    name: &'static str,
    env: &'static str,
    value: &'static str,
    help: &'static str,
    set: Setter,
}

fn num<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse::<T>()
        .map_err(|_| format!("not a valid number: {v:?}"))
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(v: &str) -> Result<T, String> {
    let n: T = num(v)?;
    if n <= T::default() {
        return Err(format!("must be greater than zero: {v:?}"));
    }
    Ok(n)
}

fn secs(v: &str) -> Result<Duration, String> {
    let s: f64 = num(v)?;
    if !(s.is_finite() && s > 0.0 && s < 1e9) {
        return Err(format!("not a valid number of seconds: {v:?}"));
    }
    Ok(Duration::from_secs_f64(s))
}

const FLAGS: &[Flag] = &[
    Flag {
        name: "--listen",
        env: "MOCKD_LISTEN",
        value: "ADDR",
        help: "address to listen on; port 0 picks a free port [default: 127.0.0.1:8080]",
        set: |c, v| {
            c.listen = v
                .parse()
                .map_err(|_| format!("not a socket address: {v:?}"))?;
            Ok(())
        },
    },
    Flag {
        name: "--api-key",
        env: "MOCKD_API_KEYS",
        value: "KEY",
        help: "API key for the control API; repeat for more (env: comma separated). None given: one is generated and printed",
        set: |c, v| {
            for k in v.split(',').map(str::trim).filter(|k| !k.is_empty()) {
                c.api_keys.push(k.to_string());
            }
            Ok(())
        },
    },
    Flag {
        name: "--workers",
        env: "MOCKD_WORKERS",
        value: "N",
        help: "worker threads, each with its own listener [default: number of CPUs]",
        set: |c, v| {
            c.workers = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-connections",
        env: "MOCKD_MAX_CONNECTIONS",
        value: "N",
        help: "open connections; beyond it new ones get 503 and are closed [default: 65536]",
        set: |c, v| {
            c.limits.max_connections = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-mocks",
        env: "MOCKD_MAX_MOCKS",
        value: "N",
        help: "live mocks; creates beyond it get 507 [default: 2000000]",
        set: |c, v| {
            c.limits.max_mocks = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-store-bytes",
        env: "MOCKD_MAX_STORE_BYTES",
        value: "BYTES",
        help: "memory all live mocks may take; creates beyond it get 507 [default: 2147483648]",
        set: |c, v| {
            c.limits.max_store_bytes = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-body-bytes",
        env: "MOCKD_MAX_BODY_BYTES",
        value: "BYTES",
        help: "largest mock response body [default: 1048576]",
        set: |c, v| {
            c.limits.max_mock_body_bytes = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-request-body-bytes",
        env: "MOCKD_MAX_REQUEST_BODY_BYTES",
        value: "BYTES",
        help: "largest request body accepted; larger gets 413 [default: 8388608]",
        set: |c, v| {
            c.limits.max_request_body_bytes = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-head-bytes",
        env: "MOCKD_MAX_HEAD_BYTES",
        value: "BYTES",
        help: "largest request head; larger gets 431 [default: 16384]",
        set: |c, v| {
            c.limits.max_head_bytes = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-target-bytes",
        env: "MOCKD_MAX_TARGET_BYTES",
        value: "BYTES",
        help: "longest request target; longer gets 414 [default: 8192]",
        set: |c, v| {
            c.limits.max_target_bytes = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-pipeline",
        env: "MOCKD_MAX_PIPELINE",
        value: "N",
        help: "requests answered per read before writing [default: 256]",
        set: |c, v| {
            c.limits.max_pipeline = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--max-output-bytes",
        env: "MOCKD_MAX_OUTPUT_BYTES",
        value: "BYTES",
        help: "unsent response bytes per connection before reading pauses [default: 4194304]",
        set: |c, v| {
            c.limits.max_output_bytes = positive(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--header-timeout",
        env: "MOCKD_HEADER_TIMEOUT",
        value: "SECS",
        help: "time to receive a request head once it started; then 408 [default: 10]",
        set: |c, v| {
            c.limits.header_timeout = secs(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--body-timeout",
        env: "MOCKD_BODY_TIMEOUT",
        value: "SECS",
        help: "time between reads of a request body; then 408 [default: 30]",
        set: |c, v| {
            c.limits.body_timeout = secs(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--idle-timeout",
        env: "MOCKD_IDLE_TIMEOUT",
        value: "SECS",
        help: "keep-alive idle time before the server closes [default: 60]",
        set: |c, v| {
            c.limits.idle_timeout = secs(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--write-timeout",
        env: "MOCKD_WRITE_TIMEOUT",
        value: "SECS",
        help: "time a client may stop reading before it is dropped [default: 30]",
        set: |c, v| {
            c.limits.write_timeout = secs(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--shutdown-grace",
        env: "MOCKD_SHUTDOWN_GRACE",
        value: "SECS",
        help: "time in-flight responses get after SIGTERM/SIGINT [default: 35]",
        set: |c, v| {
            c.limits.shutdown_grace = secs(v)?;
            Ok(())
        },
    },
    Flag {
        name: "--metrics-require-key",
        env: "MOCKD_METRICS_REQUIRE_KEY",
        value: "BOOL",
        help: "whether GET /metrics needs an API key (it carries no mock ids) [default: false]",
        set: |c, v| {
            c.metrics_require_key = match v.trim() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" => false,
                _ => return Err(format!("expected true or false: {v:?}")),
            };
            Ok(())
        },
    },
    Flag {
        name: "--test-only-ttl-unit-ms",
        env: "MOCKD_TEST_ONLY_TTL_UNIT_MS",
        value: "MS",
        help: "TESTING ONLY: how long one ttl_seconds unit lasts, so soak tests see mocks expire quickly [default: 1000]",
        set: |c, v| {
            c.ttl_unit_ms = positive(v)?;
            Ok(())
        },
    },
];

/// The `--help` text.
pub fn help() -> String {
    let mut s = String::from(
        "mockd — a fast HTTP mock server\n\nUsage: mockd [OPTIONS]\n\nOptions (each also read from the environment variable shown):\n",
    );
    for f in FLAGS {
        s.push_str(&format!(
            "  {} {}\n      {}\n      env: {}\n",
            f.name, f.value, f.help, f.env
        ));
    }
    s.push_str("  -h, --help\n      print this help\n  -V, --version\n      print the version\n");
    s
}

/// Parses command-line arguments (without the program name) over environment variables.
///
/// # Errors
/// A message naming the flag or variable and what was wrong with it.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Command, String> {
    let mut config = Config::default();
    for f in FLAGS {
        if let Some(v) = env(f.env) {
            (f.set)(&mut config, &v).map_err(|e| format!("{}: {e}", f.env))?;
        }
    }
    let mut from_env_keys = std::mem::take(&mut config.api_keys);
    let mut flag_keys = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help(help())),
            "-V" | "--version" => return Ok(Command::Version),
            _ => {}
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let flag = FLAGS
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| format!("unknown argument {arg:?} (see --help)"))?;
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("{} needs a value ({})", flag.name, flag.value))?,
        };
        if flag.name == "--api-key" {
            if value.trim().is_empty() {
                return Err("--api-key must not be empty".into());
            }
            flag_keys.push(value.trim().to_string());
        } else {
            (flag.set)(&mut config, &value).map_err(|e| format!("{}: {e}", flag.name))?;
        }
    }
    // Keys from flags and from the environment both count.
    flag_keys.append(&mut from_env_keys);
    config.api_keys = flag_keys;
    config.api_keys.dedup();
    Ok(Command::Run(Box::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match parse(args.iter().map(|s| s.to_string()), |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })? {
            Command::Run(c) => Ok(*c),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let c = run(&[], &[]).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.api_keys.is_empty());
        assert!(c.workers >= 1);
    }

    #[test]
    fn flags_and_env() {
        let c = run(
            &[
                "--listen",
                "0.0.0.0:0",
                "--api-key",
                "a",
                "--api-key=b",
                "--workers",
                "3",
                "--idle-timeout",
                "1.5",
            ],
            &[("MOCKD_API_KEYS", "c, d"), ("MOCKD_MAX_MOCKS", "10")],
        )
        .unwrap();
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.api_keys, ["a", "b", "c", "d"]);
        assert_eq!(c.workers, 3);
        assert_eq!(c.limits.max_mocks, 10);
        assert_eq!(c.limits.idle_timeout, Duration::from_millis(1500));
    }

    #[test]
    fn flag_beats_env() {
        let c = run(&["--workers", "2"], &[("MOCKD_WORKERS", "5")]).unwrap();
        assert_eq!(c.workers, 2);
    }

    #[test]
    fn errors_name_the_culprit() {
        assert!(
            run(&["--workers", "0"], &[])
                .unwrap_err()
                .contains("--workers")
        );
        assert!(
            run(&["--workers"], &[])
                .unwrap_err()
                .contains("needs a value")
        );
        assert!(
            run(&["--nope"], &[])
                .unwrap_err()
                .contains("unknown argument")
        );
        assert!(
            run(&["--listen", "nowhere"], &[])
                .unwrap_err()
                .contains("--listen")
        );
        assert!(
            run(&[], &[("MOCKD_MAX_MOCKS", "x")])
                .unwrap_err()
                .contains("MOCKD_MAX_MOCKS")
        );
        assert!(run(&["--idle-timeout", "-1"], &[]).is_err());
    }

    #[test]
    fn help_lists_every_flag_and_env() {
        let h = help();
        for f in FLAGS {
            assert!(h.contains(f.name) && h.contains(f.env), "{}", f.name);
        }
    }
}
