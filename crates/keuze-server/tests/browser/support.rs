//! The browser-test harness: Debian's Chromium, headless, driven through its chromedriver
//! over WebDriver (fantoccini). A test starts the real app (the API tests' `spawn_app`),
//! then a [`Browser`], and reads and clicks the page as a person would.
//!
//! Without Chromium or chromedriver the tests are skipped with a loud message, unless
//! `KEUZE_REQUIRE_SERVICES=1` (as in `.ci/run`), which turns the skip into a failure.

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where Debian puts them (`apt-get install chromium chromium-driver`); override with
/// `KEUZE_CHROMIUM` and `KEUZE_CHROMEDRIVER`.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long to wait for a page, an element or chromedriver.
const PATIENCE: Duration = Duration::from_secs(15);

fn program(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A headless Chromium, its chromedriver, and a fresh profile. Dropping it ends both.
pub struct Browser {
    client: Client,
    driver: tokio::process::Child,
    driver_port: u16,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a Chromium session; `None` when the
    /// programs are not installed (and `KEUZE_REQUIRE_SERVICES` is not `1`).
    pub async fn start() -> Option<Self> {
        let chromium = program("KEUZE_CHROMIUM", CHROMIUM);
        let chromedriver = program("KEUZE_CHROMEDRIVER", CHROMEDRIVER);
        for p in [&chromium, &chromedriver] {
            if !p.exists() {
                let msg = format!(
                    "{} is not installed: browser tests need Debian's `chromium` and `chromium-driver` packages",
                    p.display()
                );
                if std::env::var("KEUZE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                    panic!("{msg} (KEUZE_REQUIRE_SERVICES=1)");
                }
                eprintln!("\n!!! SKIPPED browser test: {msg}\n");
                return None;
            }
        }
        let driver_port = free_port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={driver_port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let webdriver = format!("http://127.0.0.1:{driver_port}");
        wait_until_listening(&webdriver).await;

        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1024,900",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({"binary": chromium.to_string_lossy(), "args": args}),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&webdriver)
            .await
            .unwrap_or_else(|e| panic!("chromedriver did not start a Chromium session: {e}"));
        Some(Self {
            client,
            driver,
            driver_port,
            _profile: profile,
        })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits until it has loaded.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// The first element matching the CSS selector, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(el) => el,
            Err(e) => panic!("no element `{css}` on {}: {e}", self.url().await),
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap()
    }

    /// Clicks the element and waits for the page it leads to.
    pub async fn click(&self, css: &str) {
        let before = self.page_id().await;
        self.find(css).await.click().await.unwrap();
        self.wait_for_new_page(before).await;
    }

    /// Types `text` into the element.
    #[allow(dead_code)] // for pages with text fields; /me has none
    pub async fn type_into(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    /// The element's visible text.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }

    /// Runs a script in the page and returns what it returns.
    pub async fn eval(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Presses and releases one key, as a keyboard does.
    pub async fn press(&self, key: Key) {
        let k: char = key.into();
        let actions = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: k })
            .then(KeyAction::Up { value: k });
        self.client.perform_actions(actions).await.unwrap();
    }

    /// Presses a key that leads to another page (Enter or Space on a submit button) and
    /// waits for it.
    pub async fn press_and_wait(&self, key: Key) {
        let before = self.page_id().await;
        self.press(key).await;
        self.wait_for_new_page(before).await;
    }

    /// Presses Tab until `done` holds for the focused element; the number of presses.
    pub async fn tab_until(&self, what: &str, done: &str) -> usize {
        for presses in 1..=80 {
            self.press(Key::Tab).await;
            let found = self
                .eval(&format!(
                    "const el = document.activeElement; return !!({done});"
                ))
                .await;
            if found == json!(true) {
                return presses;
            }
        }
        panic!("Tab never reached {what}");
    }

    /// A marker that changes whenever a new document is loaded.
    async fn page_id(&self) -> Value {
        self.eval(
            "if (!window.__kzPage) { window.__kzPage = Math.random().toString(36); } return window.__kzPage;",
        )
        .await
    }

    async fn wait_for_new_page(&self, before: Value) {
        let started = Instant::now();
        loop {
            // Between documents a script may fail; that counts as "not yet".
            let now = self
                .client
                .execute(
                    "return document.readyState === 'complete' ? (window.__kzPage || 'new') : null;",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            if !now.is_null() && now != before {
                return;
            }
            if started.elapsed() > PATIENCE {
                panic!("no new page after {PATIENCE:?} on {}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves the whole page as `target/screenshots/<name>.png` and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let (width, height) = self.client.get_window_size().await.unwrap();
        let full = self
            .eval("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap_or(height)
            .clamp(height, 12_000);
        self.client
            .set_window_size(u32::try_from(width).unwrap(), u32::try_from(full).unwrap())
            .await
            .unwrap();
        let png = self.client.screenshot().await.unwrap();
        self.client
            .set_window_size(
                u32::try_from(width).unwrap(),
                u32::try_from(height).unwrap(),
            )
            .await
            .unwrap();
        let path = dir.canonicalize().unwrap().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    /// Ends the session and Chromium with it.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ask chromedriver to end its sessions (and their Chromium) before it is killed,
        // so a failed test leaves no browser behind.
        use std::io::Write;
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], self.driver_port));
        if let Ok(mut s) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = s.write_all(
                b"GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            );
            let _ = std::io::Read::read(&mut s, &mut [0u8; 256]);
        }
        let _ = self.driver.start_kill();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

async fn wait_until_listening(webdriver: &str) {
    let started = Instant::now();
    let client = reqwest::Client::new();
    while started.elapsed() < PATIENCE {
        if client
            .get(format!("{webdriver}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not answer on {webdriver} within {PATIENCE:?}");
}
