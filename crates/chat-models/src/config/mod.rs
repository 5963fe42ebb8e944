//! What the services' configurations share: where a service runs ([`AppEnv`]) and the secret
//! check; with feature `server`, [`CommonConfig`] (the settings every service reads the same
//! way) and [`UserServiceConfig`] (how the others reach user-service), each flattened into a
//! service's own clap `Config`.

#[cfg(feature = "server")]
mod common;

#[cfg(feature = "server")]
pub use common::{CommonConfig, MongoConfig, MySqlConfig, UserServiceConfig};

/// Where a service runs: production refuses settings that are only fit for development.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppEnv {
    /// Local development and tests (the default).
    #[default]
    Development,
    /// Real users: placeholder secrets and insecure cookies are refused.
    Production,
}

impl std::str::FromStr for AppEnv {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            other => Err(format!(
                "unknown environment {other:?}; use development or production"
            )),
        }
    }
}

/// Words that mark a value copied from an example rather than generated.
const PLACEHOLDERS: &[&str] = &[
    "change-me",
    "changeme",
    "placeholder",
    "example",
    "your-",
    "xxxx",
];

/// Refuses a secret that is too short, or (in production) looks like a placeholder.
pub fn check_secret(name: &str, value: &str, env: AppEnv) -> anyhow::Result<()> {
    if value.len() < 16 {
        anyhow::bail!("{name} must be at least 16 characters (e.g. `openssl rand -hex 32`)");
    }
    let lower = value.to_ascii_lowercase();
    if env == AppEnv::Production && PLACEHOLDERS.iter().any(|word| lower.contains(word)) {
        anyhow::bail!(
            "{name} looks like a placeholder; set a generated secret (`openssl rand -hex 32`) \
             before running with APP_ENV=production"
        );
    }
    Ok(())
}

/// A PEM key given inline (a variable, for platforms that inject secrets so) or as a file
/// (named by the variable `file_var`, for errors): the inline one wins; `None` when neither is
/// set.
#[cfg(feature = "server")]
pub fn key_pem(
    inline: Option<&secrecy::SecretString>,
    file: Option<&std::path::Path>,
    file_var: &str,
) -> anyhow::Result<Option<secrecy::SecretString>> {
    if let Some(pem) = inline {
        return Ok(Some(pem.clone()));
    }
    let Some(path) = file else {
        return Ok(None);
    };
    let pem = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("cannot read {file_var} {}: {error}", path.display()))?;
    Ok(Some(secrecy::SecretString::from(pem)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_pass_in_development_only() {
        let example = "change-me-to-a-long-random-secret";
        assert!(check_secret("SERVICE_TOKEN", example, AppEnv::Development).is_ok());
        let error = check_secret("SERVICE_TOKEN", example, AppEnv::Production).unwrap_err();
        assert!(error
            .to_string()
            .contains("SERVICE_TOKEN looks like a placeholder"));
        assert!(check_secret("SERVICE_TOKEN", "short", AppEnv::Development).is_err());
        let real = "9f2c4e7a1b3d5f60718293a4b5c6d7e8";
        assert!(check_secret("SERVICE_TOKEN", real, AppEnv::Production).is_ok());
    }
}
