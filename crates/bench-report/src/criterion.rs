//! Criterion's results: `<home>/**/new/benchmark.json` names a benchmark,
//! `estimates.json` beside it holds its median.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// Median time per iteration in nanoseconds, by criterion's full id
/// (`group/function/parameter`).
pub(crate) type Estimates = BTreeMap<String, f64>;

/// Every benchmark criterion has results for under `home`.
pub(crate) fn read_all(home: &Path) -> Result<Estimates, String> {
    let mut found = Estimates::new();
    visit(home, &mut found)?;
    Ok(found)
}

fn visit(dir: &Path, found: &mut Estimates) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            let id = json(&path.join("benchmark.json"))?;
            let estimates = json(&path.join("estimates.json"))?;
            let full_id = id["full_id"].as_str();
            let median = estimates["median"]["point_estimate"].as_f64();
            if let (Some(full_id), Some(median)) = (full_id, median) {
                found.insert(full_id.to_owned(), median);
            }
        } else {
            visit(&path, found)?;
        }
    }
    Ok(())
}

fn json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The median of benchmark `id`, or an error naming the bench to run.
pub(crate) fn get(estimates: &Estimates, id: &str) -> Result<f64, String> {
    estimates
        .get(id)
        .copied()
        .ok_or_else(|| format!("no criterion result for {id:?}: run its benchmark"))
}
