//! Service level objectives: definitions read from OpenSLO v1 files ([`openslo`]) and the
//! arithmetic of error budgets, burn rates and multiwindow alerts ([`burn`]).

pub mod burn;
pub mod openslo;
pub mod rules;
