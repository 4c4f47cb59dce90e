//! `mlp serve`'s API against the binary listening on 127.0.0.1: real MNIST digits written as PNG
//! are recognised as `mlp predict` recognises them, the summary is `mlp info --json`'s, and every
//! bad request gets its status (400, 404, 405, 413) without the server reading more than it must;
//! 200 requests at once are all answered right, a stalled client neither blocks the others nor
//! stays connected past 10 s, and Ctrl-C ends the server at once with status 0.

mod common;
mod serve_support;

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{json_stdout, mlp};
use predicates::prelude::*;
use serve_support::{Server, connect, digit_png, mnist_model, read_reply, request, test_digits};

/// Test digits used: the first one of each class in the test set, 0 to 9.
fn one_of_each_class(test: &mlp::data::dataset::Dataset) -> Vec<usize> {
    (0..10u16)
        .map(|class| test.labels().iter().position(|&l| l == class).unwrap())
        .collect()
}

#[test]
fn real_digits_as_png_are_recognised_as_mlp_predict_recognises_them() {
    let Some((model, mnist)) = mnist_model() else { return };
    let test = test_digits(mnist);
    let server = Server::start(model, &[]);
    let work = tempfile::tempdir().unwrap();
    let mut right = 0;
    for (class, i) in one_of_each_class(&test).into_iter().enumerate() {
        let png = digit_png(&test, i);
        let reply = server.request("POST", "/api/predict", &png);
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let mut answer = reply.json();

        // `seen` is the image the network saw: the same pixels `mlp predict` prepares.
        let seen = answer.as_object_mut().unwrap().remove("seen").unwrap();
        let png_seen = STANDARD
            .decode(seen.as_str().unwrap().strip_prefix("data:image/png;base64,").unwrap())
            .unwrap();
        let seen = image::load_from_memory(&png_seen).unwrap().to_luma8();
        let file = work.path().join(format!("digit{i}.png"));
        std::fs::write(&file, &png).unwrap();
        let prepared = mlp::predict::read_inputs(&file, mlp::data::dataset::ImageSize::grey(28, 28)).unwrap();
        assert_eq!(seen.dimensions(), (28, 28));
        assert_eq!(seen.as_raw(), &prepared[0].pixels);

        // The rest is `mlp predict --json`'s prediction for the same picture, every class ranked.
        let cli = json_stdout(
            mlp()
                .arg("predict")
                .arg(model)
                .arg(&file)
                .args(["--top", "10", "--json"]),
        );
        let mut expected = cli["predictions"][0].clone();
        expected["input"] = "request body".into();
        assert_eq!(answer, expected, "digit {i} (a {class})");
        let top = answer["top"].as_array().unwrap();
        assert_eq!(top.len(), 10);
        let total: f64 = top.iter().map(|t| t["probability"].as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4, "probabilities add up to {total}");
        if top[0]["class"] == class {
            right += 1;
        }
    }
    assert!(right >= 9, "only {right} of the 10 digits recognised");
    let log = server.log_when(|log| log.matches("POST /api/predict 200").count() >= 10);
    assert_eq!(log.matches("POST /api/predict 200").count(), 10, "{log}");
}

#[test]
fn the_model_summary_is_mlp_info_json() {
    let Some((model, _)) = mnist_model() else { return };
    let server = Server::start(model, &["--quiet"]);
    let reply = server.request("GET", "/api/model", b"");
    assert_eq!(reply.status, 200);
    let info = json_stdout(mlp().arg("info").arg(model).arg("--json"));
    assert_eq!(reply.json(), info);
    assert_eq!(server.log(), "", "--quiet logs no request");
}

#[test]
fn the_page_is_served_from_the_binary_and_nothing_else_is() {
    let Some((model, _)) = mnist_model() else { return };
    let server = Server::start(model, &[]);
    for (path, kind) in [
        ("/", "text/html"),
        ("/page.css", "text/css"),
        ("/page.js", "text/javascript"),
    ] {
        let reply = server.request("GET", path, b"");
        assert_eq!(reply.status, 200, "{path}");
        assert!(reply.header("content-type").unwrap().starts_with(kind), "{path}");
        assert!(
            reply
                .header("content-security-policy")
                .unwrap()
                .starts_with("default-src 'self'")
        );
        let served = mlp::serve::ASSETS.iter().find(|a| a.path == path).unwrap();
        assert_eq!(reply.body, served.content.as_bytes(), "{path}");
    }
    // Files that exist on disk, next to the binary or in the source tree, are not served.
    for path in [
        "/index.html",
        "/Cargo.toml",
        "/src/serve/page/index.html",
        "/../Cargo.toml",
        "/%2e%2e/Cargo.toml",
        "/api",
        "/api/predict/",
    ] {
        let reply = server.request("GET", path, b"");
        assert_eq!(reply.status, 404, "{path}");
        assert!(
            reply.json()["error"].as_str().unwrap().contains("no such page"),
            "{path}"
        );
    }
    let log = server.log_when(|log| log.contains("GET /Cargo.toml 404"));
    assert!(log.contains("GET /Cargo.toml 404"), "{log}");
}

#[test]
fn other_methods_are_refused_with_405_and_allow() {
    let Some((model, _)) = mnist_model() else { return };
    let server = Server::start(model, &["--quiet"]);
    for (method, path, allowed) in [
        ("GET", "/api/predict", "POST"),
        ("PUT", "/api/predict", "POST"),
        ("POST", "/api/model", "GET"),
        ("DELETE", "/api/model", "GET"),
        ("POST", "/", "GET"),
    ] {
        let reply = server.request(method, path, b"some body");
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("allow"), Some(allowed), "{method} {path}");
        assert!(
            reply.json()["error"]
                .as_str()
                .unwrap()
                .contains(&format!("not {method}"))
        );
    }
}

#[test]
fn a_body_that_is_not_a_usable_picture_gets_400_and_a_json_error() {
    let Some((model, _)) = mnist_model() else { return };
    let server = Server::start(model, &["--quiet"]);
    let blank = {
        let mut png = Vec::new();
        image::GrayImage::from_pixel(50, 50, image::Luma([200]))
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    };
    let mut cut = blank.clone();
    cut.truncate(40);
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
    for (body, expected) in [
        (b"hello".to_vec(), "request body: not a PNG, JPEG or PGM picture"),
        (Vec::new(), "request body: not a PNG, JPEG or PGM picture"),
        (gif, "request body: a Gif picture; mlp reads PNG, JPEG and PGM"),
        (cut, "request body: not a readable picture"),
        (blank, "request body: no digit found"),
    ] {
        let reply = server.request("POST", "/api/predict", &body);
        assert_eq!(reply.status, 400);
        let error = reply.json()["error"].as_str().unwrap().to_owned();
        assert!(error.starts_with(expected), "{error}");
    }
    // Exactly the limit is still read: 4 MB of zeros is refused as a picture, not for its size.
    let reply = server.request("POST", "/api/predict", &vec![0; 4 << 20]);
    assert_eq!(reply.status, 400);
}

#[test]
fn a_body_over_4_mb_is_refused_with_413_before_it_is_read_whole() {
    let Some((model, _)) = mnist_model() else { return };
    let server = Server::start(model, &[]);

    // Declared too large: answered at once, though not a byte of the body was sent.
    let mut stream = connect(server.addr);
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    write!(
        stream,
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        5 << 20
    )
    .unwrap();
    let reply = read_reply(&mut stream);
    assert_eq!(reply.status, 413);
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    let error = reply.json()["error"].as_str().unwrap().to_owned();
    assert!(error.contains("larger than 4 MB"), "{error}");

    // Chunked, of no declared length: cut off once it passes 4 MB. The body never ends (no last
    // chunk), so an answer means the server stopped reading.
    let mut stream = connect(server.addr);
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        stream,
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    // One chunk past the limit: the rest stays in the sockets' buffers while the server answers.
    stream.set_write_timeout(Some(Duration::from_secs(5))).unwrap();
    let chunk = vec![b'x'; 64 << 10];
    for _ in 0..(4 << 20) / chunk.len() + 1 {
        write!(stream, "{:x}\r\n", chunk.len()).unwrap();
        stream.write_all(&chunk).unwrap();
        stream.write_all(b"\r\n").unwrap();
    }
    let reply = read_reply(&mut stream);
    assert_eq!(reply.status, 413);
    // ...and the connection is closed, not left to read the rest.
    let mut rest = Vec::new();
    let closed = stream.read_to_end(&mut rest);
    assert!(
        matches!(closed, Ok(0)) || closed.is_err(),
        "the connection stayed open: {closed:?}"
    );
    let log = server.log_when(|log| log.matches("POST /api/predict 413").count() >= 2);
    assert_eq!(log.matches("POST /api/predict 413").count(), 2, "{log}");
}

#[test]
fn two_hundred_requests_at_once_are_all_answered_right() {
    let Some((model, mnist)) = mnist_model() else { return };
    let test = test_digits(mnist);
    let server = Server::start(model, &["--quiet"]);
    let digits: Vec<(Vec<u8>, serde_json::Value)> = one_of_each_class(&test)
        .into_iter()
        .map(|i| {
            let png = digit_png(&test, i);
            let answer = server.request("POST", "/api/predict", &png).json();
            (png, answer)
        })
        .collect();
    let digits = std::sync::Arc::new(digits);
    let start = std::sync::Arc::new(std::sync::Barrier::new(200));
    let clients: Vec<_> = (0..200)
        .map(|k| {
            let (digits, start, addr) = (digits.clone(), start.clone(), server.addr);
            thread::spawn(move || {
                let (png, expected) = &digits[k % digits.len()];
                start.wait();
                let reply = request(addr, "POST", "/api/predict", png);
                assert_eq!(reply.status, 200);
                assert_eq!(&reply.json(), expected, "request {k}");
            })
        })
        .collect();
    for client in clients {
        client.join().unwrap();
    }
}

#[test]
fn a_stalled_client_blocks_no_one_and_is_dropped_after_10_s() {
    let Some((model, mnist)) = mnist_model() else { return };
    let test = test_digits(mnist);
    let server = Server::start(model, &[]);
    let png = digit_png(&test, 0);
    // Three ways to stall: say nothing, stop inside the headers, stop inside the body.
    let stalls = [
        "",
        "POST /api/predict HTTP/1.1\r\nHost: x\r\n",
        "POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789",
    ];
    let started = Instant::now();
    let mut stalled: Vec<_> = stalls
        .iter()
        .map(|sent| {
            let mut stream = connect(server.addr);
            stream.write_all(sent.as_bytes()).unwrap();
            stream
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    for _ in 0..20 {
        let asked = Instant::now();
        assert_eq!(server.request("POST", "/api/predict", &png).status, 200);
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "answered after {:?}",
            asked.elapsed()
        );
    }
    // Each stalled connection is closed by the server (after whatever it answers) once nothing
    // has come for 10 s: not before 9 s, and well before the test's own 30 s read timeout.
    for (stream, sent) in stalled.iter_mut().zip(stalls) {
        let mut answer = Vec::new();
        let end = stream.read_to_end(&mut answer);
        let after = started.elapsed();
        assert!(end.is_ok(), "{sent:?}: {end:?}");
        assert!(
            after >= Duration::from_secs(9) && after < Duration::from_secs(25),
            "{sent:?}: closed after {after:?}"
        );
    }
    let log = server.log_when(|log| log.contains("POST /api/predict 408"));
    assert!(log.contains("POST /api/predict 408"), "{log}");
}

#[test]
fn ctrl_c_stops_the_server_at_once_with_status_0() {
    let Some((model, _)) = mnist_model() else { return };
    let mut server = Server::start(model, &["--quiet"]);
    // A connection in the middle of a request does not hold it up.
    let mut open = connect(server.addr);
    open.write_all(b"POST /api/predict HTTP/1.1\r\n").unwrap();
    let pid = server.child.id() as libc::pid_t;
    let sent = Instant::now();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "still running 5 s after SIGINT"
        );
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
}

#[test]
fn it_listens_on_127_0_0_1_unless_told_and_warns_when_told() {
    let Some((model, _)) = mnist_model() else { return };
    let local = Server::start(model, &["--quiet"]);
    assert!(local.addr.ip().is_loopback());
    assert!(!local.log().contains("warning"));
    let open = Server::start(model, &["--quiet", "--host", "0.0.0.0"]);
    // The address printed is one to open here; the server answers on loopback.
    assert!(open.addr.ip().is_loopback(), "{}", open.addr);
    assert_eq!(open.request("GET", "/api/model", b"").status, 200);
    let log = open.log_when(|log| log.contains("other machines"));
    assert!(
        log.contains("warning: --host 0.0.0.0: listening on 0.0.0.0:") && log.contains("other machines"),
        "{log}"
    );
}

#[test]
fn bad_flags_and_files_are_named() {
    let Some((model, _)) = mnist_model() else { return };
    mlp()
        .args(["serve", "no-such-model.bin"])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("no-such-model.bin"));
    mlp()
        .arg("serve")
        .arg(model)
        .args(["--host", "example.org"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--host example.org: not an IP address"));
    mlp()
        .arg("serve")
        .arg(model)
        .args(["--port", "65536"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--port"));
    // A port in use: the error names the flags and the address.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    mlp()
        .arg("serve")
        .arg(model)
        .args(["--port", &port])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "--host 127.0.0.1 --port {port}: cannot listen on 127.0.0.1:{port}"
        )));
}
