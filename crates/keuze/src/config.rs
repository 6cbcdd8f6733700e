//! Settings: flags, then `KEUZE_*` environment variables (both through clap), then the
//! config file, then defaults.

use crate::DataArgs;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};

pub const SAMPLE_CONFIG: &str = r#"# Keuze configuration. Flags and KEUZE_* environment variables override these.

# Where Keuze keeps its database and server secret (KEUZE_DATA).
data = "keuze-data"

# The catalog to serve (KEUZE_CATALOG). Published as a new version when it changes.
catalog = "catalog.toml"

# Address to listen on (KEUZE_LISTEN).
listen = "127.0.0.1:8080"
"#;

const DEFAULT_CONFIG: &str = "keuze.toml";

#[derive(Debug, Clone)]
pub struct Settings {
    pub data: PathBuf,
    pub catalog: Option<PathBuf>,
    pub listen: Option<String>,
}

impl Settings {
    pub fn load(args: &DataArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(p) => Some(p.clone()),
            None => Some(PathBuf::from(DEFAULT_CONFIG)).filter(|p| p.exists()),
        };
        let mut settings = match &file {
            Some(path) => Self::from_file(path)?,
            None => Self {
                data: PathBuf::from("keuze-data"),
                catalog: None,
                listen: None,
            },
        };
        if let Some(d) = &args.data {
            settings.data = d.clone();
        }
        Ok(settings)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the config file {}", path.display()))?;
        let doc: toml_edit::DocumentMut = text
            .parse()
            .with_context(|| format!("{} is not valid TOML", path.display()))?;
        // Paths in the file are relative to the file, not to wherever keuze was started.
        let base = path.parent().unwrap_or(Path::new("."));
        let mut settings = Self {
            data: base.join("keuze-data"),
            catalog: None,
            listen: None,
        };
        for (key, item) in doc.iter() {
            let Some(value) = item.as_str() else {
                bail!(
                    "{}: `{key}` must be a string, e.g. {key} = \"...\"",
                    path.display()
                );
            };
            match key {
                "data" => settings.data = base.join(value),
                "catalog" => settings.catalog = Some(base.join(value)),
                "listen" => settings.listen = Some(value.to_owned()),
                other => bail!(
                    "{}: unknown key `{other}`; the config file takes `data`, `catalog` and `listen`",
                    path.display()
                ),
            }
        }
        Ok(settings)
    }
}
