//! `numbind-bench-server`: a measured server in its own process (so its memory can be read from /proc):
//! `platform <dir>` runs the numbind platform on a database in `<dir>`; `hold` runs a hyper server holding every
//! request (the baseline of scenario 3). Prints `listening http=ADDR` on stdout; runs until killed. Logs as the
//! services in the bench's own process do, into the file the bench names (`NUMBIND_BENCH_LOG_FILE`).

use std::io::Write;

#[global_allocator]
static ALLOCATOR: numbind_process::ServerAllocator = numbind_process::SERVER_ALLOCATOR;

#[tokio::main(worker_threads = 2)]
async fn main() {
    let json = std::env::var("NUMBIND_LOG_JSON").is_ok_and(|value| value == "true");
    if let Err(error) = numbind_bench::service_logging::ServiceLogging::install_in_child(json) {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
    if let Err(error) = serve(std::env::args().skip(1).collect()).await {
        eprintln!("Error: {error:#}");
        std::process::exit(1);
    }
}

async fn serve(arguments: Vec<String>) -> anyhow::Result<()> {
    let listener = numbind_bench::system::listen_loopback()?;
    let address = listener.local_addr()?;
    let announce = move || -> anyhow::Result<()> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening http={address}")?;
        stdout.flush()?;
        Ok(())
    };
    match arguments.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["platform", directory] => {
            let config = numbind_bench::system::platform_config(std::path::Path::new(directory))?;
            announce()?;
            numbind_platform::run(config, listener, std::future::pending()).await
        }
        ["hold"] => {
            announce()?;
            numbind_bench::baselines::serve_holding(listener).await
        }
        _ => anyhow::bail!("usage: numbind-bench-server platform <dir> | hold"),
    }
}
