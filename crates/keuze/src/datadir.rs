//! The data directory: the SQLite database and the server secret that keys pseudonyms.

use anyhow::{bail, Context};
use std::io::Write;
use std::path::Path;

const SECRET_FILE: &str = "secret.key";

/// Reads the server secret, creating it (32 random bytes, mode 0600) on first start.
pub fn server_secret(data: &Path) -> anyhow::Result<[u8; 32]> {
    std::fs::create_dir_all(data)
        .with_context(|| format!("could not create the data directory {}", data.display()))?;
    let path = data.join(SECRET_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                bail!(
                    "{} holds {} bytes, not 32: it is damaged. Restore it from a backup; a new secret would make every stored pseudonym unreachable",
                    path.display(),
                    bytes.len()
                );
            };
            Ok(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let secret: [u8; 32] = rand::random();
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts
                .open(&path)
                .with_context(|| format!("could not create {}", path.display()))?;
            f.write_all(&secret)?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "created the server secret");
            Ok(secret)
        }
        Err(e) => Err(e).with_context(|| format!("could not read {}", path.display())),
    }
}
