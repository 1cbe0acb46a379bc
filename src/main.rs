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

    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    match signals {
        Ok(rt) => rt.block_on(wait_for_signal()),
        Err(e) => {
            eprintln!("mockd: cannot watch signals: {e}");
            return ExitCode::FAILURE;
        }
    }
    println!("mockd: shutting down; letting in-flight responses finish");
    server.shutdown();
    server.join();
    println!("mockd: stopped");
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
