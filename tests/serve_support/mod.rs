//! What the `mlp serve` tests share: a model trained once per test binary on real MNIST, the
//! server run as the `mlp` binary on a free port of 127.0.0.1, a plain HTTP/1.1 client on a
//! `TcpStream` (so a test can also send what no polite client would), and MNIST test digits as
//! PNG.
#![allow(dead_code)] // each test binary uses its own subset of these helpers

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use image::{GrayImage, ImageFormat};
use mlp::cli::data_dir;
use mlp::data::catalog::KnownDataset;
use mlp::data::dataset::{Dataset, load_split};
use mlp::data::split::Split;

use crate::common;

/// A model of the classic recipe after one epoch on real MNIST (about 92% on the test set), and
/// the MNIST directory; trained at the first call. `None` (the test skips, with a printed reason)
/// when MNIST is not found, except under `CI`, where that fails.
pub fn mnist_model() -> Option<(&'static Path, &'static Path)> {
    static MODEL: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    let mnist = common::mnist_dir()?;
    let (_work, model, mnist) = MODEL.get_or_init(|| {
        let work = tempfile::tempdir().unwrap();
        let model = work.path().join("model.bin");
        common::train(&mnist, &model, &["--quiet", "--epochs", "1"])
            .assert()
            .success();
        (work, model, mnist)
    });
    Some((model, mnist))
}

/// The MNIST test split.
pub fn test_digits(mnist: &Path) -> Dataset {
    load_split(&data_dir(Some(mnist), KnownDataset::Mnist), Split::Test).unwrap()
}

/// Test digit `i` as a 28x28 grey PNG, light ink on black as MNIST stores it.
pub fn digit_png(test: &Dataset, i: usize) -> Vec<u8> {
    let image = GrayImage::from_raw(28, 28, test.images().row(i).to_vec()).unwrap();
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    png
}

/// `mlp serve` running on a free port of 127.0.0.1; killed when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    /// Everything the server wrote to stderr so far.
    log: Arc<Mutex<String>>,
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// `mlp serve model --port 0` with `args`, once it says where it listens.
    pub fn start(model: &Path, args: &[&str]) -> Self {
        let mut child = common::mlp_process()
            .arg("serve")
            .arg(model)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let sink = Arc::clone(&log);
        thread::spawn(move || {
            let mut line = String::new();
            while stderr.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| {
                panic!(
                    "mlp serve printed {first:?} instead of its address; stderr: {}",
                    log.lock().unwrap()
                )
            })
            .parse()
            .unwrap();
        Self {
            child,
            addr,
            log,
            _stdout: stdout,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// What the server has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once `complete` says it is, or as it stands after 5 s: a line is logged as its
    /// answer goes out, and reaches the log through a pipe and a reader thread a moment later.
    pub fn log_when(&self, complete: impl Fn(&str) -> bool) -> String {
        let started = std::time::Instant::now();
        loop {
            let log = self.log();
            if complete(&log) || started.elapsed() > std::time::Duration::from_secs(5) {
                return log;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// One request on a fresh connection.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> Reply {
        request(self.addr, method, path, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP response: status, header lines (lowercase names) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// `method path` with `body` (and its `Content-Length`) on a fresh connection to `addr`, closed
/// after the answer.
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &[u8]) -> Reply {
    let mut stream = connect(addr);
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    read_reply(&mut stream)
}

/// A connection to `addr` whose reads give up after 30 s, so a server that never answers fails
/// the test instead of hanging it.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream
}

/// Reads one response, to the end of its `Content-Length` body.
pub fn read_reply(stream: &mut TcpStream) -> Reply {
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Reply { status, headers, body }
}
