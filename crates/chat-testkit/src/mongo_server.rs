//! A MongoDB-compatible server of a test's own (`secantusd-rs`, as `scripts/test.sh` runs it:
//! durable commits), to kill and start again on the same data: for fault tests, which must not
//! touch the server other tests share.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running (or killed) private Mongo server.
pub struct MongoServer {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl MongoServer {
    /// Starts one on a free port with an empty data directory.
    pub async fn start() -> Self {
        let port = crate::free_port();
        let dir = std::env::temp_dir().join(format!("chat-test-mongo-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut server = Self {
            port,
            dir,
            child: None,
        };
        server.start_again().await;
        server
    }

    /// Its URL.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/?directConnection=true", self.port)
    }

    /// Kills it (`SIGKILL`: no shutdown, nothing flushed that was not committed).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port and data; returns once it answers.
    pub async fn start_again(&mut self) {
        let child = Command::new("secantusd-rs")
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .arg("--storage-path")
            .arg(&self.dir)
            .args(["--cache-size", "128M", "--log-file-max", "16MB"])
            .args(["--log-level", "WARNING", "--sync-on-commit"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("secantusd-rs is installed (scripts/test.sh installs it)");
        self.child = Some(child);
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("secantusd-rs did not listen on port {}", self.port);
    }
}

impl Drop for MongoServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
