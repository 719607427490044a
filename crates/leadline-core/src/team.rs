//! Teams, as `[[teams]]` configure them: every family that groups by team (flow, capacity,
//! health areas) reads the same definition.

/// A team: its members (emails or forge logins), the repositories it owns and the paths it
/// owns within any repository (CODEOWNERS patterns).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Team {
    pub name: String,
    pub members: Vec<String>,
    pub repositories: Vec<String>,
    pub paths: Vec<String>,
}
