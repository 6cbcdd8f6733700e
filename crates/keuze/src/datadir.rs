//! The data directory: the SQLite database and the server secret that keys pseudonyms.

use anyhow::{bail, Context};
use std::io::Write as _;

use std::path::Path;

const SECRET_FILE: &str = "secret.key";

/// Reads the server secret, creating it (32 random bytes, mode 0600) on first start.
pub fn server_secret(data: &Path) -> anyhow::Result<[u8; 32]> {
    std::fs::create_dir_all(data).with_context(|| {
        say!(
            "cli-could-not-create-data-dir",
            path = data.display().to_string()
        )
    })?;
    let path = data.join(SECRET_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let Ok(secret) = <[u8; 32]>::try_from(bytes.as_slice()) else {
                bail!(say!(
                    "cli-secret-damaged",
                    path = path.display().to_string(),
                    bytes = bytes.len()
                ));
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
                .with_context(|| say!("cli-could-not-create", path = path.display().to_string()))?;
            f.write_all(&secret)?;
            f.sync_all()?;
            tracing::info!(path = %path.display(), "created the server secret");
            Ok(secret)
        }
        Err(e) => {
            Err(e).with_context(|| say!("cli-could-not-read", path = path.display().to_string()))
        }
    }
}

const LOG_KEY_FILE: &str = "log.key";

/// The decision index saved at shutdown, so a restart replays only the ledger after it.
pub const INDEX_SNAPSHOT: &str = "index.snapshot";

/// The log's signing key: `log.key` holds the origin and the hex seed of the current key,
/// mode 0600, created on first use. `rotate` replaces the key and keeps the origin.
pub fn log_key(data: &Path) -> anyhow::Result<keuze_core::checkpoint::LogKey> {
    std::fs::create_dir_all(data).with_context(|| {
        say!(
            "cli-could-not-create-data-dir",
            path = data.display().to_string()
        )
    })?;
    let path = data.join(LOG_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse_log_key(&text)
            .with_context(|| say!("cli-log-key-damaged", path = path.display().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let id: [u8; 6] = rand::random();
            let origin = format!("keuze.log/{}", hex::encode(id));
            write_log_key(&path, &origin, rand::random(), true)?;
            tracing::info!(path = %path.display(), %origin, "created the log signing key");
            read_back(&path)
        }
        Err(e) => {
            Err(e).with_context(|| say!("cli-could-not-read", path = path.display().to_string()))
        }
    }
}

/// Replaces the log key with a new one under the same origin; returns (old, new).
pub fn rotate_log_key(
    data: &Path,
) -> anyhow::Result<(
    keuze_core::checkpoint::LogKey,
    keuze_core::checkpoint::LogKey,
)> {
    let old = log_key(data)?;
    let path = data.join(LOG_KEY_FILE);
    let tmp = data.join("log.key.new");
    write_log_key(&tmp, old.name(), rand::random(), false)?;
    std::fs::rename(&tmp, &path)
        .with_context(|| say!("cli-could-not-replace", path = path.display().to_string()))?;
    Ok((old, read_back(&path)?))
}

fn read_back(path: &Path) -> anyhow::Result<keuze_core::checkpoint::LogKey> {
    parse_log_key(&std::fs::read_to_string(path)?)
}

fn parse_log_key(text: &str) -> anyhow::Result<keuze_core::checkpoint::LogKey> {
    let mut lines = text.lines();
    let (Some(origin), Some(seed_hex), None) = (lines.next(), lines.next(), lines.next()) else {
        bail!(say!("cli-log-key-two-lines"));
    };
    let mut seed = [0u8; 32];
    hex::decode_to_slice(seed_hex.trim(), &mut seed)
        .map_err(|e| anyhow::anyhow!(say!("cli-log-key-seed-invalid", error = e.to_string())))?;
    keuze_core::checkpoint::LogKey::from_seed(seed, origin.trim()).map_err(Into::into)
}

fn write_log_key(
    path: &Path,
    origin: &str,
    seed: [u8; 32],
    create_new: bool,
) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if create_new {
        opts.create_new(true);
    } else {
        opts.create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| say!("cli-could-not-create", path = path.display().to_string()))?;
    writeln!(f, "{origin}")?;
    writeln!(f, "{}", hex::encode(seed))?;
    f.sync_all()?;
    Ok(())
}
