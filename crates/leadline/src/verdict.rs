//! The verdicts of the CI gates: not failures of leadline, but answers a pipeline acts on
//! (exit 1), told apart from invalid input (exit 2).

#[derive(Debug, thiserror::Error)]
pub enum Verdict {
    #[error("{0} open debt item(s) past their deadline")]
    DebtBreached(usize),
    #[error("{0} open P0/P1 action item(s) past their due date")]
    ActionsOverdue(usize),
    #[error("{0} blameless-language finding(s) (--strict)")]
    LintFindings(usize),
    #[error("{0} SLO(s) below the budget remaining asked for")]
    BudgetSpent(usize),
}

impl Verdict {
    pub fn code(&self) -> u8 {
        1
    }
}
