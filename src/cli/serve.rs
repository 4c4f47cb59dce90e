//! `mlp serve MODEL`: the draw-a-digit page and its API for one model (`serve`), on 127.0.0.1
//! unless `--host` says otherwise; one line per request on stderr; Ctrl-C ends it with status 0.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::PathBuf;

use clap::Args;

use super::exit::usage_bail;
use crate::model_file;
use crate::report::Console;
use crate::serve::{self, Api, Config, Served};
use crate::summary::ModelSummary;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The model file written by `mlp train`
    pub model: PathBuf,
    /// The IP address to listen on (or `localhost`); anything but a loopback address (e.g.
    /// 0.0.0.0) makes the page and API reachable from other machines
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// The port to listen on (0: any free one; the address printed says which)
    #[arg(long, default_value = "8000")]
    pub port: u16,
    /// Print no line per request
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let console = Console::new(false, false);
    let wanted = resolve(&args.host, args.port)?;
    let model = model_file::load(&args.model)?;
    let summary = ModelSummary::read(&args.model)?;
    let api = Api::new(model, &summary);
    let addr = probe(&args, wanted)?;
    if !addr.ip().is_loopback() {
        console.note(&format!(
            "warning: --host {}: listening on {addr}, so other machines that reach this one can use \
             the page and the API",
            args.host
        ));
    }
    // Nothing is left half done at any moment (the server writes no file), so Ctrl-C just ends it.
    ctrlc::set_handler(|| std::process::exit(0))?;
    let quiet = args.quiet;
    let server = serve::start(api, Config::on(addr), move |served| {
        if !quiet {
            eprintln!("{}", log_line(served));
        }
    })
    .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    console.line(&format!(
        "serving {} on http://{}/ (open it in a browser; Ctrl-C stops)",
        args.model.display(),
        address_to_open(addr)
    ));
    server.join()?;
    Ok(())
}

/// The socket address of `host` (an IP address, or `localhost`) and `port`. Names are not
/// looked up: an address to listen on is this machine's, and a lookup could ask the network.
fn resolve(host: &str, port: u16) -> anyhow::Result<SocketAddr> {
    let ip = if host.eq_ignore_ascii_case("localhost") {
        Ipv4Addr::LOCALHOST.into()
    } else {
        match host.parse::<IpAddr>() {
            Ok(ip) => ip,
            Err(_) => usage_bail!(
                "--host {host}: not an IP address; give one of this machine's, e.g. 127.0.0.1 (this \
                 machine only), ::1, or 0.0.0.0 (every network it is on)"
            ),
        }
    };
    Ok(SocketAddr::new(ip, port))
}

/// The address the server will listen on, found by listening there for a moment: an address in
/// use or not this machine's fails here, with the flags named, and port 0 becomes the free port
/// the system chose. (oxhttp binds its own listener and does not say which port it got.)
fn probe(args: &ServeArgs, addr: SocketAddr) -> anyhow::Result<SocketAddr> {
    match TcpListener::bind(addr).and_then(|listener| listener.local_addr()) {
        Ok(bound) => Ok(bound),
        Err(e) => usage_bail!(
            "--host {} --port {}: cannot listen on {addr}: {e}",
            args.host,
            args.port
        ),
    }
}

/// Where a browser on this machine finds a server listening on `addr`: the loopback address for
/// 0.0.0.0 and ::, which are not addresses to connect to.
fn address_to_open(addr: SocketAddr) -> SocketAddr {
    let mut open = addr;
    if addr.ip().is_unspecified() {
        open.set_ip(match addr {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        });
    }
    open
}

/// `POST /api/predict 200 1.4 ms → 7`.
fn log_line(served: &Served) -> String {
    let mut line = format!(
        "{} {} {} {:.1} ms",
        served.method,
        served.path,
        served.status,
        served.elapsed.as_secs_f64() * 1e3
    );
    if let Some(note) = &served.note {
        line.push(' ');
        line.push_str(note);
    }
    line
}
