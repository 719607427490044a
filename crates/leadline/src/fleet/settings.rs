//! `[fleet]` in leadline.toml: the repositories and sources a fleet of workers keeps fresh,
//! and how the queue behaves (interval, lease, retries).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetFileConfig {
    /// Where bare mirrors are kept [default: `leadline-mirrors` beside a SQLite store, else in
    /// the working directory]. Shared by the workers of one host.
    pub mirror_dir: Option<PathBuf>,
    /// How often each target is synced [default: 15m].
    pub every: Option<String>,
    /// How long a claimed job is a worker's before others may take it over; renewed every
    /// third of it while the job runs [default: 60s].
    pub lease: Option<String>,
    /// The first retry's wait, doubled on each further attempt [default: 30s].
    pub retry: Option<String>,
    /// Attempts before a job is marked failed until its target is due again [default: 5].
    pub max_attempts: Option<i64>,
    /// How often an idle worker looks for work [default: 1s].
    pub poll: Option<String>,
    #[serde(default)]
    pub repository: Vec<RepositoryConfig>,
    #[serde(default)]
    pub source: Vec<SourceConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositoryConfig {
    /// Anything `git clone` takes: a URL or a local path.
    pub url: String,
    /// The name in the store [default: the URL's last part, without `.git`].
    pub name: Option<String>,
    /// `github:OWNER/REPO` or `gitlab:GROUP/PROJECT`: also sync its pull requests and CI.
    pub forge: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A GitHub organisation (or user) whose repositories are discovered and synced.
    pub github: Option<String>,
    /// A GitLab group whose projects (and its subgroups') are discovered and synced.
    pub gitlab: Option<String>,
    /// Only repositories whose full name contains this (case-insensitive).
    pub filter: Option<String>,
    /// Also mirror and mine each discovered repository, cloned from this URL with `{repo}`
    /// replaced by its full name, e.g. `https://github.com/{repo}.git`.
    pub clone_url: Option<String>,
    /// An incident tool: `pagerduty` or `opsgenie` (keys from PAGERDUTY_TOKEN,
    /// OPSGENIE_API_KEY).
    pub incidents: Option<String>,
    /// The API root of the forge or incident tool.
    pub api_url: Option<String>,
    /// Opsgenie's EU instance.
    pub eu: Option<bool>,
    /// The first incident sync starts here (YYYY-MM-DD) [default: a year ago].
    pub since: Option<String>,
}

/// A forge-hosted repository: `github` or `gitlab`, and its full name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeRepo {
    pub forge: String,
    pub repo: String,
}

impl ForgeRepo {
    /// `github:OWNER/REPO`, `gitlab:GROUP/PROJECT`.
    pub fn target(&self) -> String {
        format!("{}:{}", self.forge, self.repo)
    }
}

#[derive(Debug, Clone)]
pub struct Repository {
    pub url: String,
    pub name: String,
    pub forge: Option<ForgeRepo>,
}

#[derive(Debug, Clone)]
pub enum Source {
    Forge {
        forge: String,
        owner: String,
        filter: Option<String>,
        clone_url: Option<String>,
        api_url: Option<String>,
    },
    Incidents {
        vendor: String,
        api_url: Option<String>,
        eu: bool,
        since: Option<String>,
    },
}

/// What `[fleet]` resolved to.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mirror_dir: PathBuf,
    pub every: Duration,
    pub lease: Duration,
    pub retry: Duration,
    pub max_attempts: i64,
    pub poll: Duration,
    pub repositories: Vec<Repository>,
    pub sources: Vec<Source>,
}

impl Settings {
    /// Resolves `[fleet]`; `beside` is the SQLite store's directory, where mirrors go by default.
    pub fn resolve(file: &FleetFileConfig, beside: Option<&Path>) -> Result<Settings> {
        let mirror_dir = match (&file.mirror_dir, beside) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => dir.join("leadline-mirrors"),
            (None, None) => PathBuf::from("leadline-mirrors"),
        };
        let mut names = std::collections::HashSet::new();
        let mut repositories = Vec::with_capacity(file.repository.len());
        for (i, r) in file.repository.iter().enumerate() {
            let repo = repository(i, r)?;
            if !names.insert(repo.name.clone()) {
                bail!(
                    "fleet.repository[{i}]: the name {:?} is taken by an earlier repository (set `name`)",
                    repo.name
                );
            }
            repositories.push(repo);
        }
        let sources = file
            .source
            .iter()
            .enumerate()
            .map(|(i, s)| source(i, s))
            .collect::<Result<_>>()?;
        let max_attempts = file.max_attempts.unwrap_or(5);
        if !(1..=100).contains(&max_attempts) {
            bail!("fleet.max_attempts: {max_attempts} is not between 1 and 100");
        }
        Ok(Settings {
            mirror_dir,
            every: duration("fleet.every", &file.every, 15 * 60)?,
            lease: duration("fleet.lease", &file.lease, 60)?,
            retry: duration("fleet.retry", &file.retry, 30)?,
            max_attempts,
            poll: duration("fleet.poll", &file.poll, 1)?,
            repositories,
            sources,
        })
    }

    /// Whether anything is defined to keep fresh.
    pub fn is_empty(&self) -> bool {
        self.repositories.is_empty() && self.sources.is_empty()
    }
}

fn repository(i: usize, r: &RepositoryConfig) -> Result<Repository> {
    let url = r.url.trim();
    if url.is_empty() {
        bail!("fleet.repository[{i}].url: must not be empty");
    }
    let name = match &r.name {
        Some(n) if n.trim().is_empty() => bail!("fleet.repository[{i}].name: must not be empty"),
        Some(n) => n.trim().to_owned(),
        None => default_name(url),
    };
    let forge = match &r.forge {
        Some(f) => Some(forge_repo(f).ok_or_else(|| {
            anyhow::anyhow!(
                "fleet.repository[{i}].forge: {f:?} is not `github:OWNER/REPO` or `gitlab:GROUP/PROJECT`"
            )
        })?),
        None => None,
    };
    Ok(Repository {
        url: url.to_owned(),
        name,
        forge,
    })
}

fn source(i: usize, s: &SourceConfig) -> Result<Source> {
    let key = format!("fleet.source[{i}]");
    let forge = match (&s.github, &s.gitlab, &s.incidents) {
        (Some(org), None, None) => Some(("github", org)),
        (None, Some(group), None) => Some(("gitlab", group)),
        (None, None, Some(_)) => None,
        _ => bail!("{key}: give exactly one of `github`, `gitlab` or `incidents`"),
    };
    if let Some((forge, owner)) = forge {
        if owner.trim().is_empty() || owner.contains(char::is_whitespace) {
            bail!("{key}.{forge}: {owner:?} is not an organisation or group");
        }
        if s.eu.is_some() || s.since.is_some() {
            bail!("{key}: `eu` and `since` apply to incident tools");
        }
        if let Some(template) = &s.clone_url
            && !template.contains("{repo}")
        {
            bail!("{key}.clone_url: must contain {{repo}}");
        }
        return Ok(Source::Forge {
            forge: forge.to_owned(),
            owner: owner.trim().to_owned(),
            filter: s.filter.clone(),
            clone_url: s.clone_url.clone(),
            api_url: s.api_url.clone(),
        });
    }
    let vendor = s.incidents.clone().unwrap_or_default();
    if vendor != "pagerduty" && vendor != "opsgenie" {
        bail!("{key}.incidents: {vendor:?} is not `pagerduty` or `opsgenie`");
    }
    if s.filter.is_some() || s.clone_url.is_some() {
        bail!("{key}: `filter` and `clone_url` apply to forges");
    }
    if s.eu.is_some() && vendor != "opsgenie" {
        bail!("{key}.eu: applies to opsgenie");
    }
    if let Some(since) = &s.since {
        leadline_metrics::window::parse_instant(&format!("{key}.since"), since)?;
    }
    Ok(Source::Incidents {
        vendor,
        api_url: s.api_url.clone(),
        eu: s.eu.unwrap_or(false),
        since: s.since.clone(),
    })
}

/// `github:OWNER/REPO` or `gitlab:GROUP/PROJECT` (subgroups allowed).
pub fn forge_repo(text: &str) -> Option<ForgeRepo> {
    let (forge, repo) = text.split_once(':')?;
    let parts: Vec<&str> = repo.split('/').collect();
    let shaped = match forge {
        "github" => parts.len() == 2,
        "gitlab" => parts.len() >= 2,
        _ => false,
    };
    let clean = parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains(char::is_whitespace));
    (shaped && clean).then(|| ForgeRepo {
        forge: forge.to_owned(),
        repo: repo.to_owned(),
    })
}

/// What `leadline ingest git` names a clone of `url`: its last part without `.git`.
pub fn default_name(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let last = trimmed
        .rsplit(['/', ':', '\\'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("repository");
    last.strip_suffix(".git").unwrap_or(last).to_owned()
}

/// `30s`, `15m`, `2h`, `1d`.
fn duration(key: &str, value: &Option<String>, default_secs: u64) -> Result<Duration> {
    let Some(text) = value else {
        return Ok(Duration::from_secs(default_secs));
    };
    let text = text.trim();
    let unit = text.chars().last().unwrap_or(' ');
    let n: u64 = match text[..text.len() - unit.len_utf8().min(text.len())].parse() {
        Ok(n) if n > 0 && n <= 10_000_000 => n,
        _ => bail!("{key}: {text:?} is not a duration such as 30s, 15m, 2h or 1d"),
    };
    let secs = match unit {
        's' => n,
        'm' => n * 60,
        'h' => n * 3600,
        'd' => n * 86_400,
        _ => bail!("{key}: {text:?} is not a duration such as 30s, 15m, 2h or 1d"),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(text: &str) -> Result<Settings> {
        #[derive(Deserialize)]
        struct File {
            fleet: FleetFileConfig,
        }
        let file: File = toml::from_str(text)?;
        Settings::resolve(&file.fleet, None)
    }

    #[test]
    fn names_come_from_the_url_as_ingest_git_would_give_them() {
        assert_eq!(
            default_name("https://github.com/rust-lang/cargo.git"),
            "cargo"
        );
        assert_eq!(default_name("/srv/git/app/"), "app");
        assert_eq!(default_name("git@github.com:org/api.git"), "api");
        assert_eq!(default_name("file:///tmp/fleet/lib.git"), "lib");
    }

    #[test]
    fn forges_are_checked() {
        assert_eq!(
            forge_repo("github:octo/app").map(|f| f.target()),
            Some("github:octo/app".into())
        );
        assert!(forge_repo("gitlab:group/sub/project").is_some());
        for bad in [
            "github:octo",
            "github:a/b/c",
            "bitbucket:a/b",
            "github:../b",
            "octo/app",
        ] {
            assert!(forge_repo(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn durations_and_defaults() {
        let s = resolve("[fleet]\nevery = \"2h\"\nlease = \"45s\"").unwrap();
        assert_eq!(s.every, Duration::from_secs(7200));
        assert_eq!(s.lease, Duration::from_secs(45));
        assert_eq!(s.retry, Duration::from_secs(30));
        assert_eq!(s.max_attempts, 5);
        for bad in ["0s", "15", "15x", "m", "-3m"] {
            let e = resolve(&format!("[fleet]\nevery = \"{bad}\"")).unwrap_err();
            assert!(e.to_string().contains("fleet.every"), "{bad}: {e}");
        }
    }

    #[test]
    fn bad_entries_are_refused_naming_them() {
        let cases = [
            (
                "[[fleet.repository]]\nurl = \"\"",
                "fleet.repository[0].url",
            ),
            (
                "[[fleet.repository]]\nurl = \"a/x\"\n[[fleet.repository]]\nurl = \"b/x\"",
                "fleet.repository[1]",
            ),
            (
                "[[fleet.repository]]\nurl = \"x\"\nforge = \"github:x\"",
                "fleet.repository[0].forge",
            ),
            (
                "[[fleet.source]]\ngithub = \"o\"\ngitlab = \"g\"",
                "fleet.source[0]",
            ),
            (
                "[[fleet.source]]\nincidents = \"statuspage\"",
                "fleet.source[0].incidents",
            ),
            (
                "[[fleet.source]]\ngithub = \"o\"\nclone_url = \"https://x\"",
                "fleet.source[0].clone_url",
            ),
        ];
        for (text, key) in cases {
            let e = resolve(text).unwrap_err().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }
}
