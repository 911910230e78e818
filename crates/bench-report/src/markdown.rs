//! Markdown: tables, human-readable times, and the generated blocks of a
//! document.

/// A generated block: the text between `<!-- report:NAME -->` and
/// `<!-- /report:NAME -->`.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) name: &'static str,
    pub(crate) text: String,
}

/// A table from its header and rows.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut out = line(header.iter().map(|s| (*s).to_owned()).collect());
    out += &format!("|{}\n", "---|".repeat(header.len()));
    for row in rows {
        out += &line(row.clone());
    }
    out
}

/// A duration given in nanoseconds, in µs below a millisecond, with three
/// significant digits or so.
pub(crate) fn time(ns: f64) -> String {
    let (value, unit) = if ns < 1e6 {
        (ns / 1e3, "µs")
    } else {
        (ns / 1e6, "ms")
    };
    let decimals = if value < 10.0 {
        2
    } else if value < 100.0 {
        1
    } else {
        0
    };
    format!("{value:.decimals$} {unit}")
}

/// `a / b` as a ratio, e.g. `1.9×`.
pub(crate) fn ratio(a: f64, b: f64) -> String {
    let r = a / b;
    if r < 10.0 {
        format!("{r:.2}×")
    } else {
        format!("{r:.0}×")
    }
}

/// `doc` with each block's markers' content replaced. Every block must
/// have its pair of markers in `doc`.
pub(crate) fn replace_blocks(doc: &str, blocks: &[Block]) -> Result<String, String> {
    let mut doc = doc.to_owned();
    for block in blocks {
        let open = format!("<!-- report:{} -->\n", block.name);
        let close = format!("<!-- /report:{} -->", block.name);
        let start = doc
            .find(&open)
            .ok_or_else(|| format!("BENCHMARKS.md lacks the marker {open:?}"))?
            + open.len();
        let end = doc[start..]
            .find(&close)
            .ok_or_else(|| format!("BENCHMARKS.md lacks the marker {close:?}"))?
            + start;
        doc.replace_range(start..end, &block.text);
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_replaced_between_their_markers_only() {
        let doc = "a\n<!-- report:x -->\nold\n<!-- /report:x -->\nb\n";
        let block = Block {
            name: "x",
            text: "new\n".into(),
        };
        assert_eq!(
            replace_blocks(doc, &[block]).unwrap(),
            "a\n<!-- report:x -->\nnew\n<!-- /report:x -->\nb\n"
        );
        let missing = Block {
            name: "y",
            text: String::new(),
        };
        assert!(replace_blocks(doc, &[missing]).is_err());
    }

    #[test]
    fn times_and_ratios_read_naturally() {
        assert_eq!(time(570.0), "0.57 µs");
        assert_eq!(time(221_000.0), "221 µs");
        assert_eq!(time(219e6), "219 ms");
        assert_eq!(time(1.24e6), "1.24 ms");
        assert_eq!(ratio(2.0, 1.0), "2.00×");
        assert_eq!(
            table(&["a", "b"], &[vec!["1".into(), "2".into()]]),
            "| a | b |\n|---|---|\n| 1 | 2 |\n"
        );
    }
}
