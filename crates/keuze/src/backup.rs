//! `keuze backup` and `keuze restore`: a consistent copy of a SQLite data directory taken
//! while a server may be writing, with a manifest that detects a damaged copy, and a
//! restore that checks the copy, verifies the restored ledger and projection, and puts
//! it in place in one rename.
//!
//! The database is copied with SQLite's `VACUUM INTO`, which reads one snapshot (a read
//! transaction: the server's writer goes on meanwhile) and writes a compact file without
//! free pages, so deleted content (an erased subject's salt) is not copied. The key
//! files come along: without `secret.key` no stored pseudonym can be found again, without
//! `log.key` the log cannot go on under its origin. The decision index snapshot does not:
//! a server rebuilds it from the ledger.

use crate::config::Settings;
use crate::{refused, Failure};
use anyhow::Context;
use keuze_core::checkpoint::LogVerifier;
use keuze_core::{Locale, SubjectId, Timestamp};
use keuze_sqlite::{SqliteStore, DB_FILE};
use keuze_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The manifest's file name inside a backup.
pub const MANIFEST: &str = "manifest.json";

/// The manifest format this version writes and reads.
const FORMAT: u32 = 1;

/// Files a data directory holds keys in.
const KEY_FILES: [&str; 2] = ["secret.key", "log.key"];

/// What a backup holds, written last into it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// When the database snapshot was taken, RFC 3339 and milliseconds since the epoch.
    pub created_at: String,
    pub created_at_ms: i64,
    /// The `keuze` version that wrote the backup.
    pub keuze_version: String,
    pub ledger: LedgerSummary,
    pub latest_checkpoint: Option<CheckpointSummary>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    /// Every ledger entry: consent events and admin actions (they share the seq).
    pub entries: u64,
    /// The Merkle tree's root over every entry, hex; `None` for an empty ledger.
    pub root: Option<String>,
    /// Subjects erased before the backup was taken.
    pub erased_subjects: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointSummary {
    pub size: u64,
    pub root: String,
    pub signed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// What the verification of a data directory found.
struct Verified {
    ledger: LedgerSummary,
    latest_checkpoint: Option<CheckpointSummary>,
    checkpoints: u64,
    nodes_checked: u64,
}

/// A usage error (exit 2).
fn usage(msg: String) -> Failure {
    Failure {
        code: 2,
        error: anyhow::anyhow!(msg),
    }
}

fn sqlite_only(settings: &Settings, command: &str) -> Result<(), Failure> {
    if settings.database.is_some() || settings.database_schema.is_some() {
        return Err(usage(say!("cli-backup-sqlite-only", command = command)));
    }
    Ok(())
}

/// `keuze backup DIR`: see the module docs. `now` is the time written into the manifest.
pub async fn backup(settings: &Settings, dir: &Path, now: Timestamp) -> Result<(), Failure> {
    sqlite_only(settings, "backup")?;
    let started = std::time::Instant::now();
    let data = &settings.data;
    let db = data.join(DB_FILE);
    if !db.is_file() {
        return Err(refused(say!(
            "cli-backup-no-database",
            data = data.display().to_string(),
            file = DB_FILE
        )));
    }
    refuse_non_empty(dir)?;
    let staging = staging_dir(dir, "partial")?;
    let result = async {
        vacuum_into(&db, &staging.join(DB_FILE)).await?;
        let mut names = vec![DB_FILE.to_owned()];
        for key in KEY_FILES {
            let from = data.join(key);
            if from.is_file() {
                copy_private(&from, &staging.join(key))?;
                names.push(key.to_owned());
            } else {
                let message = say!(
                    "cli-backup-key-missing",
                    path = from.display().to_string(),
                    key = key
                );
                eprintln!("{}", say!("cli-warning", message = message));
            }
        }
        let verified = verify_dir(&staging).await.map_err(|f| Failure {
            code: f.code,
            error: f.error.context(say!(
                "cli-backup-copy-does-not-verify",
                data = data.display().to_string()
            )),
        })?;
        let files = names
            .iter()
            .map(|n| file_entry(&staging, n))
            .collect::<Result<Vec<_>, _>>()?;
        let manifest = Manifest {
            format: FORMAT,
            created_at: now.to_rfc3339(),
            created_at_ms: now.unix_millis(),
            keuze_version: env!("CARGO_PKG_VERSION").to_owned(),
            ledger: verified.ledger.clone(),
            latest_checkpoint: verified.latest_checkpoint.clone(),
            files,
        };
        let mut json = serde_json::to_string_pretty(&manifest).map_err(anyhow::Error::from)?;
        json.push('\n');
        write_synced(&staging.join(MANIFEST), json.as_bytes(), 0o644)?;
        sync_dir(&staging)?;
        put_in_place(&staging, dir)?;
        Ok::<_, Failure>(manifest)
    }
    .await;
    let manifest = match result {
        Ok(m) => m,
        Err(f) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(f);
        }
    };
    outln!(
        "{}",
        say!(
            "cli-backed-up",
            entries = manifest.ledger.entries,
            root = manifest.ledger.root.as_deref().unwrap_or("none"),
            erased = manifest.ledger.erased_subjects,
            files = manifest.files.len(),
            from = data.display().to_string(),
            to = dir.display().to_string(),
            seconds = format!("{:.2}", started.elapsed().as_secs_f64())
        )
    );
    Ok(())
}

/// `keuze restore DIR --data TARGET`: see the module docs.
pub async fn restore(
    settings: &Settings,
    dir: &Path,
    force: bool,
    now: Timestamp,
) -> Result<(), Failure> {
    sqlite_only(settings, "restore")?;
    let target = &settings.data;
    let manifest = read_manifest(dir)?;
    check_files(dir, &manifest)?;
    let replaced = !is_empty_or_missing(target)?;
    if replaced && !force {
        return Err(refused(say!(
            "cli-restore-target-not-empty",
            target = target.display().to_string()
        )));
    }
    let staging = staging_dir(target, "restoring")?;
    let result = async {
        for f in &manifest.files {
            copy_private(&dir.join(&f.name), &staging.join(&f.name))?;
        }
        // The copies are checked again: a file that changed between the check and the
        // copy must not slip through.
        check_files(&staging, &manifest)?;
        sync_dir(&staging)?;
        let verified = verify_dir(&staging).await.map_err(|f| Failure {
            code: f.code,
            error: f.error.context(say!(
                "cli-restore-does-not-verify",
                dir = dir.display().to_string()
            )),
        })?;
        if verified.ledger != manifest.ledger {
            return Err(refused(say!(
                "cli-restore-ledger-differs",
                dir = dir.display().to_string(),
                entries = verified.ledger.entries,
                root = verified.ledger.root.as_deref().unwrap_or("none"),
                manifest_entries = manifest.ledger.entries,
                manifest_root = manifest.ledger.root.as_deref().unwrap_or("none")
            )));
        }
        let reapplied = if replaced && target.join(DB_FILE).is_file() {
            reapply_erasures(target, &staging, now).await?
        } else {
            0
        };
        Ok::<_, Failure>((verified, reapplied))
    }
    .await;
    let (verified, reapplied) = match result {
        Ok(v) => v,
        Err(f) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(f);
        }
    };
    let aside = if replaced {
        let aside = sibling(target, &format!("replaced-{}", now.unix_millis()))?;
        std::fs::rename(target, &aside).with_context(|| {
            say!(
                "cli-restore-could-not-move-aside",
                target = target.display().to_string(),
                aside = aside.display().to_string(),
                staging = staging.display().to_string()
            )
        })?;
        Some(aside)
    } else {
        None
    };
    put_in_place(&staging, target)?;
    outln!(
        "{}",
        say!(
            "cli-restore-verified",
            entries = verified.ledger.entries,
            nodes = verified.nodes_checked,
            checkpoints = verified.checkpoints,
            root = verified.ledger.root.as_deref().unwrap_or("none")
        )
    );
    outln!(
        "{}",
        say!(
            "cli-restored",
            created = &manifest.created_at,
            dir = dir.display().to_string(),
            target = target.display().to_string()
        )
    );
    if let Some(aside) = aside {
        outln!(
            "{}",
            say!(
                "cli-restore-aside",
                target = target.display().to_string(),
                aside = aside.display().to_string()
            )
        );
    }
    if reapplied > 0 {
        outln!(
            "{}",
            say!(
                "cli-restore-reapplied",
                count = reapplied,
                target = target.display().to_string()
            )
        );
    }
    let message = say!(
        "cli-restore-erasures-warning",
        erased = manifest.ledger.erased_subjects,
        created = &manifest.created_at,
        replaced = if replaced { "yes" } else { "no" }
    );
    eprintln!("{}", say!("cli-warning", message = message));
    Ok(())
}

/// Verifies the ledger of the data directory `dir` (every leaf, node and checkpoint, as
/// `keuze ledger verify` does, with the keys recorded there) and that its projection is
/// what a rebuild would write. Changes nothing that matters: the database is opened, so
/// its schema is brought up to date, and closed again.
async fn verify_dir(dir: &Path) -> Result<Verified, Failure> {
    let store = SqliteStore::open(dir).await?;
    let result = verify_store(&store, dir).await;
    store.close().await;
    remove_empty_journal(dir)?;
    result
}

async fn verify_store(store: &SqliteStore, dir: &Path) -> Result<Verified, Failure> {
    let mut verifiers: Vec<LogVerifier> = Vec::new();
    for k in store.log_keys().await? {
        if let Ok(v) = LogVerifier::parse(&k.verifier) {
            verifiers.push(v);
        }
    }
    if dir.join("log.key").is_file() {
        verifiers.push(crate::datadir::log_key(dir)?.verifier());
    }
    let report = keuze_app::audit::verify_ledger(store, &verifiers, |_, _| {})
        .await
        .map_err(|m| match m {
            keuze_app::audit::Mismatch::Store(e) => e.into(),
            m => refused(say!("cli-ledger-does-not-verify", mismatch = m.to_string())),
        })?;
    let projection = crate::projection::compare(store).await?;
    if projection.difference_count > 0 {
        return Err(refused(say!(
            "cli-backup-projection-differs",
            count = projection.difference_count,
            differences = projection.differences.join("; ")
        )));
    }
    let latest = store.latest_checkpoint().await?;
    Ok(Verified {
        ledger: LedgerSummary {
            entries: report.events,
            root: report.root,
            erased_subjects: store.erased_subjects().await?.len() as u64,
        },
        latest_checkpoint: latest.map(|c| CheckpointSummary {
            size: c.size,
            root: keuze_core::merkle::hash_to_hex(&c.root),
            signed_at: c.signed_at.to_rfc3339(),
        }),
        checkpoints: report.checkpoints,
        nodes_checked: report.nodes_checked,
    })
}

/// Erases, in the restored copy, every subject the replaced data directory had erased
/// and the backup has not: a restore must not bring back what a customer had erased.
/// The erasure is recorded like one through the API (source `system`, one entry per
/// purpose of the catalog in force). Returns how many were re-applied.
async fn reapply_erasures(old: &Path, restored: &Path, now: Timestamp) -> Result<u64, Failure> {
    let old_erased: BTreeSet<SubjectId> = {
        let store = SqliteStore::open(old).await.map_err(|e| Failure {
            code: 3,
            error: anyhow::Error::from(e).context(say!(
                "cli-restore-erasures-unreadable",
                data = old.display().to_string()
            )),
        })?;
        let erased = store.erased_subjects().await;
        store.close().await;
        erased?.into_iter().collect()
    };
    let store = SqliteStore::open(restored).await?;
    let result = async {
        let already: BTreeSet<SubjectId> = store.erased_subjects().await?.into_iter().collect();
        let missing: Vec<SubjectId> = old_erased.difference(&already).copied().collect();
        if missing.is_empty() {
            return Ok(0);
        }
        let Some(history) = keuze_app::catalogs::load_history(&store).await? else {
            return Err(refused(say!(
                "cli-restore-no-catalog-for-erasures",
                count = missing.len()
            )));
        };
        let current = history.current();
        let locale = Locale::en();
        for subject in &missing {
            let erasure = keuze_core::erasure::events(
                *subject,
                current,
                keuze_core::Source::System,
                &locale,
                now,
            );
            store
                .erase_subject(subject, erasure, &crate::cli_attribution())
                .await?;
        }
        Ok::<_, Failure>(missing.len() as u64)
    }
    .await;
    store.close().await;
    remove_empty_journal(restored)?;
    result
}

/// Copies the database at `db` into `to` from one read snapshot.
async fn vacuum_into(db: &Path, to: &Path) -> Result<(), Failure> {
    use sqlx::sqlite::SqliteConnectOptions;
    use sqlx::{ConnectOptions as _, Connection as _};
    let Some(to_text) = to.to_str() else {
        return Err(usage(say!(
            "cli-backup-path-not-utf8",
            path = to.display().to_string()
        )));
    };
    let mut conn = SqliteConnectOptions::new()
        .filename(db)
        .busy_timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .with_context(|| say!("cli-could-not-open", path = db.display().to_string()))?;
    let copied = sqlx::query("VACUUM INTO ?1")
        .bind(to_text)
        .execute(&mut conn)
        .await
        .with_context(|| {
            say!(
                "cli-could-not-copy",
                from = db.display().to_string(),
                to = to.display().to_string()
            )
        });
    let _ = conn.close().await;
    copied?;
    set_mode(to, 0o600)?;
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .with_context(|| say!("cli-could-not-sync", path = to.display().to_string()))?;
    Ok(())
}

fn read_manifest(dir: &Path) -> Result<Manifest, Failure> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refused(say!(
                "cli-restore-no-manifest",
                dir = dir.display().to_string(),
                manifest = MANIFEST
            )))
        }
        Err(e) => {
            return Err(refused(say!(
                "cli-restore-manifest-unreadable",
                path = path.display().to_string(),
                error = e.to_string()
            )))
        }
    };
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| {
        refused(say!(
            "cli-restore-manifest-invalid",
            path = path.display().to_string(),
            line = e.line(),
            column = e.column(),
            error = e.to_string()
        ))
    })?;
    if manifest.format != FORMAT {
        return Err(refused(say!(
            "cli-restore-manifest-format",
            path = path.display().to_string(),
            format = manifest.format,
            supported = FORMAT,
            version = &manifest.keuze_version
        )));
    }
    let mut seen = BTreeSet::new();
    for f in &manifest.files {
        if !(f.name == DB_FILE || KEY_FILES.contains(&f.name.as_str())) || !seen.insert(&f.name) {
            return Err(refused(say!(
                "cli-restore-manifest-stray-file",
                path = path.display().to_string(),
                file = &f.name
            )));
        }
    }
    if !seen.contains(&DB_FILE.to_owned()) {
        return Err(refused(say!(
            "cli-restore-manifest-no-database",
            path = path.display().to_string(),
            file = DB_FILE
        )));
    }
    Ok(manifest)
}

/// Every file the manifest lists has its size and SHA-256.
fn check_files(dir: &Path, manifest: &Manifest) -> Result<(), Failure> {
    for f in &manifest.files {
        let path = dir.join(&f.name);
        if !path.is_file() {
            return Err(refused(say!(
                "cli-restore-file-missing",
                path = path.display().to_string()
            )));
        }
        let found = file_entry(dir, &f.name)?;
        if found != *f {
            return Err(refused(say!(
                "cli-restore-file-differs",
                path = path.display().to_string(),
                bytes = found.bytes,
                sha256 = &found.sha256,
                manifest_bytes = f.bytes,
                manifest_sha256 = &f.sha256
            )));
        }
    }
    Ok(())
}

fn file_entry(dir: &Path, name: &str) -> Result<FileEntry, Failure> {
    let path = dir.join(name);
    let unreadable = || say!("cli-could-not-read", path = path.display().to_string());
    let mut file = std::fs::File::open(&path).with_context(unreadable)?;
    let mut hasher = Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hasher).with_context(unreadable)?;
    Ok(FileEntry {
        name: name.to_owned(),
        bytes,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn is_empty_or_missing(dir: &Path) -> Result<bool, Failure> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => Ok(false),
        Err(e) => Err(Failure {
            code: 3,
            error: anyhow::Error::from(e)
                .context(say!("cli-could-not-read", path = dir.display().to_string())),
        }),
    }
}

fn refuse_non_empty(dir: &Path) -> Result<(), Failure> {
    if is_empty_or_missing(dir)? {
        return Ok(());
    }
    Err(refused(say!(
        "cli-backup-dir-not-empty",
        dir = dir.display().to_string()
    )))
}

/// `.<name>.<what>-<random>` next to `path`, so the final rename stays on one file system.
fn sibling(path: &Path, what: &str) -> Result<PathBuf, Failure> {
    let Some(name) = path.file_name() else {
        return Err(usage(say!(
            "cli-backup-path-no-directory",
            path = path.display().to_string()
        )));
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok(parent.join(format!("{}.{what}", name.to_string_lossy())))
}

/// A new private directory next to `path` to build its contents in.
fn staging_dir(path: &Path, what: &str) -> Result<PathBuf, Failure> {
    let suffix = hex::encode(rand::random::<[u8; 4]>());
    let staging = sibling(path, &format!("{what}-{suffix}"))?;
    if let Some(parent) = staging.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| say!("cli-could-not-create", path = parent.display().to_string()))?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&staging)
        .with_context(|| say!("cli-could-not-create", path = staging.display().to_string()))?;
    Ok(staging)
}

/// Renames the finished `staging` to `to` (missing or an empty directory).
fn put_in_place(staging: &Path, to: &Path) -> Result<(), Failure> {
    if to.is_dir() {
        std::fs::remove_dir(to)
            .with_context(|| say!("cli-could-not-replace", path = to.display().to_string()))?;
    }
    std::fs::rename(staging, to).with_context(|| {
        say!(
            "cli-could-not-move",
            from = staging.display().to_string(),
            to = to.display().to_string()
        )
    })?;
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Copies a file readable by its owner only, synced.
fn copy_private(from: &Path, to: &Path) -> Result<(), Failure> {
    let bytes = std::fs::read(from)
        .with_context(|| say!("cli-could-not-read", path = from.display().to_string()))?;
    write_synced(to, &bytes, 0o600)
}

fn write_synced(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts
        .open(path)
        .with_context(|| say!("cli-could-not-create", path = path.display().to_string()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| say!("cli-could-not-write", path = path.display().to_string()))?;
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), Failure> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| say!("cli-could-not-restrict", path = path.display().to_string()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), Failure> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| say!("cli-could-not-sync", path = dir.display().to_string()))?;
    Ok(())
}

/// After the last connection closed, SQLite has folded the WAL into the database; what
/// is left of `-wal` and `-shm` is empty and goes, so a backup holds exactly its files.
fn remove_empty_journal(dir: &Path) -> Result<(), Failure> {
    for suffix in ["-wal", "-shm"] {
        let path = dir.join(format!("{DB_FILE}{suffix}"));
        match std::fs::metadata(&path) {
            Ok(m) if suffix == "-wal" && m.len() > 0 => {
                return Err(Failure {
                    code: 3,
                    error: anyhow::anyhow!(say!(
                        "cli-journal-not-empty",
                        path = path.display().to_string(),
                        bytes = m.len()
                    )),
                })
            }
            Ok(_) => std::fs::remove_file(&path)
                .with_context(|| say!("cli-could-not-remove", path = path.display().to_string()))?,
            Err(_) => {}
        }
    }
    Ok(())
}
