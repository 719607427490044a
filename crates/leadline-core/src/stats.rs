//! The statistics every family reports with: nearest-rank percentiles, as docs/metrics.md
//! defines them (no interpolation: every reported value is one that was measured).

/// Nearest-rank percentile of `sorted` (ascending): the value at rank `ceil(p/100 × n)`.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}
