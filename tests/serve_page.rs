//! `mlp serve`'s page in a real browser: headless Chromium, driven over its DevTools protocol,
//! opens the page at a laptop's and a phone's size, draws a digit on the pad with real input
//! events (the mouse on the laptop, a finger on the phone), waits for `#prediction` and reads the
//! class from it, and saves a screenshot (the paths are printed).
//!
//! Without Chromium the test is skipped with a printed reason, except when `CI` is set: there it
//! fails (`.ci/run` installs Debian's `chromium`).

mod common;
mod serve_support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use serve_support::{Server, mnist_model};
use tungstenite::{Message, WebSocket};

/// Chromium's program, from `PATH`. `None` skips the test with a printed reason, except under
/// `CI`, where it fails.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        let reason = "no chromium on PATH (Debian: apt-get install chromium)";
        if std::env::var_os("CI").is_some() {
            panic!("CI is set, so the browser test may not skip: {reason}");
        }
        eprintln!("skipping: {reason}");
    }
    found
}

/// A headless Chromium and one page of it, spoken to over the DevTools protocol.
struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
    /// Every URL the page asked for, from `Network.requestWillBeSent`.
    requested: Vec<String>,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch(program: &Path) -> Self {
        let profile = tempfile::tempdir().unwrap();
        let mut child = Command::new(program)
            .args([
                "--headless",
                "--no-sandbox", // the tests may run as root, where the sandbox refuses to start
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Chromium says where its DevTools listen on stderr; the rest of stderr is drained so
        // that it never blocks on a full pipe.
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let url = loop {
            let mut line = String::new();
            if stderr.read_line(&mut line).unwrap() == 0 {
                panic!("chromium exited without a DevTools address; it said:\n{seen}");
            }
            if let Some(at) = line.find("ws://") {
                break line[at..].trim().to_owned();
            }
            seen.push_str(&line);
        };
        thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let host = url.trim_start_matches("ws://").split('/').next().unwrap().to_owned();
        let stream = TcpStream::connect(&host).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let (socket, _) = tungstenite::client(url.as_str(), stream).unwrap();
        let mut browser = Self {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            requested: Vec::new(),
            _profile: profile,
        };
        let target = browser.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.call("Network.enable", json!({}));
        browser.call("Page.enable", json!({}));
        browser
    }

    /// A command to the browser itself.
    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        self.send(json!({"method": method, "params": params}))
    }

    /// A command to the page.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.send(json!({"method": method, "params": params, "sessionId": session}))
    }

    fn send(&mut self, mut message: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        message["id"] = id.into();
        let method = message["method"].clone();
        self.socket.send(Message::text(message.to_string())).unwrap();
        loop {
            let Message::Text(text) = self.socket.read().unwrap() else {
                continue;
            };
            let reply: Value = serde_json::from_str(text.as_str()).unwrap();
            if reply["method"] == "Network.requestWillBeSent" {
                let url = reply["params"]["request"]["url"].as_str().unwrap_or_default();
                self.requested.push(url.to_owned());
            }
            if reply["id"] == id {
                assert!(reply.get("error").is_none(), "{method}: {}", reply["error"]);
                return reply["result"].clone();
            }
        }
    }

    /// The value of the JavaScript `expression` in the page.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true}),
        );
        assert!(result.get("exceptionDetails").is_none(), "{expression}: {result}");
        result["result"]["value"].clone()
    }

    /// Waits (up to 20 s) until `expression` is true in the page.
    fn wait_for(&mut self, expression: &str) {
        let started = Instant::now();
        while self.eval(expression) != Value::Bool(true) {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "still not true after 20 s: {expression}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn screenshot(&mut self, path: &Path) {
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = STANDARD.decode(shot["data"].as_str().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A screen to test on, and how a person draws on it.
struct Screen {
    name: &'static str,
    width: u32,
    height: u32,
    scale: f64,
    touch: bool,
}

const LAPTOP: Screen = Screen {
    name: "laptop",
    width: 1280,
    height: 800,
    scale: 1.0,
    touch: false,
};

const PHONE: Screen = Screen {
    name: "phone",
    width: 390,
    height: 844,
    scale: 2.0,
    touch: true,
};

/// A "7" as strokes, in fractions of the pad: the bar, then the stem down to the left.
const SEVEN: [(f64, f64); 3] = [(0.28, 0.22), (0.72, 0.22), (0.42, 0.82)];
/// A "1": one stroke down, slightly slanted.
const ONE: [(f64, f64); 2] = [(0.54, 0.18), (0.46, 0.84)];

/// Draws the polyline `points` (fractions of the pad) on the pad with the mouse or a finger, as
/// `screen` says; returns how many move events were sent.
fn draw(browser: &mut Browser, screen: &Screen, points: &[(f64, f64)]) -> usize {
    let pad = browser.eval("(() => { const r = document.getElementById('pad').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()");
    let [left, top, width, height] = [0, 1, 2, 3].map(|i| pad[i].as_f64().unwrap());
    let at = |(x, y): (f64, f64)| (left + x * width, top + y * height);
    let mut path = vec![at(points[0])];
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (at(pair[0]), at(pair[1]));
        for step in 1..=16 {
            let t = f64::from(step) / 16.0;
            path.push((x0 + t * (x1 - x0), y0 + t * (y1 - y0)));
        }
    }
    let (first, rest) = path.split_first().unwrap();
    if screen.touch {
        let touch = |kind: &str, (x, y): (f64, f64)| json!({"type": kind, "touchPoints": [{"x": x, "y": y, "id": 1}]});
        browser.call("Input.dispatchTouchEvent", touch("touchStart", *first));
        for &p in rest {
            browser.call("Input.dispatchTouchEvent", touch("touchMove", p));
        }
        browser.call(
            "Input.dispatchTouchEvent",
            json!({"type": "touchEnd", "touchPoints": []}),
        );
    } else {
        let mouse = |kind: &str, (x, y): (f64, f64), buttons: u32| json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1});
        browser.call("Input.dispatchMouseEvent", mouse("mouseMoved", *first, 0));
        browser.call("Input.dispatchMouseEvent", mouse("mousePressed", *first, 1));
        for &p in rest {
            browser.call("Input.dispatchMouseEvent", mouse("mouseMoved", p, 1));
        }
        browser.call(
            "Input.dispatchMouseEvent",
            mouse("mouseReleased", *path.last().unwrap(), 0),
        );
    }
    rest.len()
}

/// Opens the page on `screen`, draws `digit`, and returns what `#prediction` shows once the
/// prediction came; saves a screenshot to `shot`.
fn draw_and_read(browser: &mut Browser, server: &Server, screen: &Screen, digit: &[(f64, f64)], shot: &Path) -> String {
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": screen.width, "height": screen.height, "deviceScaleFactor": screen.scale, "mobile": screen.touch}),
    );
    browser.call(
        "Emulation.setTouchEmulationEnabled",
        json!({"enabled": screen.touch, "maxTouchPoints": 5}),
    );
    browser.call("Page.navigate", json!({"url": server.url()}));
    browser.wait_for("document.body?.dataset.ready === 'true' && document.querySelectorAll('#bars li').length === 10");
    let before = server.log().matches("POST /api/predict").count();
    let moves = draw(browser, screen, digit);
    browser.wait_for("document.getElementById('prediction').dataset.class !== undefined && document.getElementById('seen').src.startsWith('data:image/png')");
    // Debounced: far fewer predictions than pointer moves.
    thread::sleep(Duration::from_millis(400));
    let predictions = server.log().matches("POST /api/predict").count() - before;
    assert!(
        (1..=moves / 4).contains(&predictions),
        "{}: {predictions} predictions for {moves} moves",
        screen.name
    );
    let shown = browser.eval("document.getElementById('prediction').textContent");
    let top_bar = browser.eval("document.querySelector('#bars li.top .class-name')?.textContent");
    assert_eq!(shown, top_bar, "{}: the top bar is the class shown", screen.name);
    browser.screenshot(shot);
    shown.as_str().unwrap().to_owned()
}

#[test]
fn a_digit_drawn_on_the_page_is_recognised_on_a_laptop_and_a_phone() {
    let Some(program) = chromium() else { return };
    let Some((model, _)) = mnist_model() else { return };
    let server = Server::start(model, &[]);
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-page");
    std::fs::create_dir_all(&shots).unwrap();
    let mut browser = Browser::launch(&program);

    let laptop = shots.join("laptop.png");
    assert_eq!(draw_and_read(&mut browser, &server, &LAPTOP, &SEVEN, &laptop), "7");
    let phone = shots.join("phone.png");
    assert_eq!(draw_and_read(&mut browser, &server, &PHONE, &ONE, &phone), "1");

    // Clear empties the pad and the answer.
    browser.eval("document.getElementById('clear').click()");
    assert_eq!(browser.eval("document.getElementById('prediction').textContent"), "–");

    let origin = server.url();
    let elsewhere: Vec<&String> = browser
        .requested
        .iter()
        .filter(|url| !url.starts_with(&origin) && !url.starts_with("data:") && *url != "about:blank")
        .collect();
    assert!(elsewhere.is_empty(), "the page asked for {elsewhere:?}");
    eprintln!("screenshots: {} and {}", laptop.display(), phone.display());
}
