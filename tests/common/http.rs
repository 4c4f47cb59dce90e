//! A small HTTP/1.1 server on 127.0.0.1 for the download tests: it serves the files of a directory
//! and can misbehave on purpose (404, a body cut short, a corrupted byte, a stall).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// What the server does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// 200 with the file, or 404 when the directory has no such file.
    Serve,
    /// 404 whatever is asked.
    NotFound,
    /// Announces the whole length, sends only the first `n` bytes and closes the connection.
    Truncate(usize),
    /// Sends the file with one byte in its middle inverted.
    Corrupt,
    /// Reads the request and never answers.
    Stall,
}

/// A running server; it lives until the test process ends.
pub struct TestServer {
    /// Base URL ending in `/`.
    pub url: String,
    requests: Arc<AtomicUsize>,
}

impl TestServer {
    /// Serves `dir`, behaving for the k-th request (0-based) as `script[k]`, and as the last entry
    /// of `script` for every request after that.
    pub fn start(dir: PathBuf, script: &[Behaviour]) -> Self {
        assert!(!script.is_empty());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        let script = script.to_vec();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let k = counter.fetch_add(1, Ordering::SeqCst);
                let behaviour = script[k.min(script.len() - 1)];
                let dir = dir.clone();
                thread::spawn(move || answer(stream, &dir, behaviour));
            }
        });
        Self { url, requests }
    }

    /// Requests received so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(mut stream: TcpStream, dir: &std::path::Path, behaviour: Behaviour) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut header = String::new();
    while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
        header.clear();
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let body = std::fs::read(dir.join(path.trim_start_matches('/'))).ok();
    let (status, mut body) = match (behaviour, body) {
        (Behaviour::Stall, _) => {
            thread::sleep(Duration::from_secs(60));
            return;
        }
        (Behaviour::NotFound, _) | (_, None) => ("404 Not Found", b"not here".to_vec()),
        (_, Some(body)) => ("200 OK", body),
    };
    let length = body.len();
    match behaviour {
        Behaviour::Truncate(n) => body.truncate(n),
        Behaviour::Corrupt => {
            let middle = body.len() / 2;
            body[middle] ^= 0xff;
        }
        _ => {}
    }
    let head = format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n");
    // The client may hang up first (it gave up, or saw enough); that is not the server's problem.
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
}
