//! The `mockd` binary: flags → `Config`, start the server, print where it listens, stop on
//! SIGTERM/SIGINT.

use std::process::ExitCode;

use mockd::config::{self, Command};

fn main() -> ExitCode {
    let command = match config::parse(std::env::args().skip(1), |k| std::env::var(k).ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mockd: {e}");
            return ExitCode::from(2);
        }
    };
    let config = match command {
        Command::Help(text) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("mockd {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Command::Run(config) => *config,
    };
    let workers = config.workers;
    // Signal handlers go in before the server starts, so a SIGTERM sent the moment the
    // "listening" line appears already means "shut down gracefully".
    let signals = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mockd: cannot watch signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let stop = match signals.block_on(async { Stop::install() }) {
        Ok(stop) => stop,
        Err(e) => {
            eprintln!("mockd: cannot watch signals: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match mockd::Server::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mockd: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(key) = server.generated_key() {
        println!("no API key configured; generated one for this run: {key}");
    }
    let addr = server.local_addr();
    println!(
        "mockd {} listening on http://{addr} ({workers} workers)",
        env!("CARGO_PKG_VERSION")
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();

    signals.block_on(stop.wait());
    println!("mockd: shutting down; letting in-flight responses finish");
    server.shutdown();
    server.join();
    println!("mockd: stopped");
    ExitCode::SUCCESS
}

/// SIGTERM and SIGINT, registered up front.
struct Stop {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Stop {
    fn install() -> std::io::Result<Stop> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Stop {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}
