//! BENCHMARKS.md's sections: each turns results into its tables and chart.

use crate::criterion::{Estimates, get};
use crate::markdown::{Block, ratio, table, time};
use crate::plot::Chart;

/// One section's generated blocks and its plot (`docs/bench/NAME.svg`).
#[derive(Debug)]
pub(crate) struct Section {
    pub(crate) name: &'static str,
    pub(crate) blocks: Vec<Block>,
    pub(crate) chart: Chart,
}

/// SGX hardware's cost of one transition, ~8,000 cycles.
const HARDWARE_ECALL_NS: f64 = 2700.0;
/// The loaded figures must stay within this factor of the idle ones.
const LOAD_BOUND: f64 = 5.0;

/// Transitions, idle and loaded (`transition/KIND/idle|loaded`).
pub(crate) fn transitions(e: &Estimates, date: &str) -> Result<Section, String> {
    let kinds = [
        ("empty ECALL", "empty ECALL", "empty"),
        (
            "ECALL 4 KiB in + 4 KiB out",
            "ECALL with 4 KiB in and 4 KiB out",
            "4 KiB in + out",
        ),
        (
            "ECALL with one OCALL",
            "ECALL that makes one OCALL (two round trips)",
            "one OCALL",
        ),
    ];
    let (mut rows, mut idle, mut loaded) = (Vec::new(), Vec::new(), Vec::new());
    for (id, title, _) in kinds {
        let i = get(e, &format!("transition/{id}/idle"))?;
        let l = get(e, &format!("transition/{id}/loaded"))?;
        if l > LOAD_BOUND * i {
            eprintln!("warning: {title}: loaded is {} of idle", ratio(l, i));
        }
        rows.push(vec![
            title.to_owned(),
            time(i),
            time(l),
            ratio(l, i),
            ratio(i, HARDWARE_ECALL_NS),
        ]);
        idle.push(i / 1e3);
        loaded.push(l / 1e3);
    }
    let text = format!(
        "Criterion medians, {date}:\n\n{}",
        table(
            &[
                "benchmark",
                "idle",
                "loaded",
                "loaded / idle",
                "idle vs. 2.7 µs hardware ECALL",
            ],
            &rows
        )
    );
    Ok(Section {
        name: "transitions",
        blocks: vec![
            Block {
                name: "transitions",
                text,
            },
            payload_split(e, date)?,
        ],
        chart: Chart {
            title: "Enclave transitions (simulation), idle and loaded".into(),
            y_label: "median latency (µs)".into(),
            categories: kinds.iter().map(|k| k.2.to_owned()).collect(),
            series: vec![
                ("idle".into(), idle),
                ("one CPU burner per core but one".into(), loaded),
            ],
        },
    })
}

/// What 4 KiB each way adds to a round trip: on the channel alone (two
/// threads) and in a whole idle ECALL.
fn payload_split(e: &Estimates, date: &str) -> Result<Block, String> {
    let rows = [
        (
            "channel alone (two threads of one process)",
            "channel round trip/empty",
            "channel round trip/4 KiB each way",
        ),
        (
            "ECALL (host and enclave processes, wire encoding)",
            "transition/empty ECALL/idle",
            "transition/ECALL 4 KiB in + 4 KiB out/idle",
        ),
    ];
    let mut cells = Vec::new();
    for (title, empty, full) in rows {
        let (empty, full) = (get(e, empty)?, get(e, full)?);
        cells.push(vec![
            title.to_owned(),
            time(empty),
            time(full),
            time(full - empty),
        ]);
    }
    let text = format!(
        "Criterion medians, idle, {date}:\n\n{}",
        table(
            &["round trip", "empty", "4 KiB each way", "added by 4 KiB"],
            &cells
        )
    );
    Ok(Block {
        name: "payload",
        text,
    })
}

/// Sealing and protected files beside AES-128-GCM alone.
pub(crate) fn services(e: &Estimates, date: &str) -> Result<Section, String> {
    const KIB4: f64 = 4096.0;
    const MIB: f64 = 1048576.0;
    let cases = [
        (
            "seal 4 KiB",
            "seal 4K",
            "seal_4KiB",
            "baseline_aes128gcm_4KiB",
            KIB4,
        ),
        (
            "unseal 4 KiB",
            "unseal 4K",
            "unseal_4KiB",
            "baseline_aes128gcm_4KiB",
            KIB4,
        ),
        (
            "seal 1 MiB",
            "seal 1M",
            "seal_1MiB",
            "baseline_aes128gcm_1MiB",
            MIB,
        ),
        (
            "unseal 1 MiB",
            "unseal 1M",
            "unseal_1MiB",
            "baseline_aes128gcm_1MiB",
            MIB,
        ),
        (
            "protected file, sequential write 64 MiB (create, 1 MiB writes, close)",
            "file write",
            "pfs_64MiB/sequential_write",
            "pfs_64MiB/baseline_aes128gcm",
            64.0 * MIB,
        ),
        (
            "protected file, sequential read 64 MiB (open, 1 MiB reads)",
            "file read",
            "pfs_64MiB/sequential_read",
            "pfs_64MiB/baseline_aes128gcm",
            64.0 * MIB,
        ),
    ];
    let mib_per_s = |bytes: f64, ns: f64| bytes / MIB / (ns / 1e9);
    let (mut rows, mut op, mut gcm) = (Vec::new(), Vec::new(), Vec::new());
    for (title, _, id, baseline, bytes) in cases {
        let t = get(e, id)?;
        let b = get(e, baseline)?;
        rows.push(vec![
            title.to_owned(),
            format!("{} ({:.0} MiB/s)", time(t), mib_per_s(bytes, t)),
            format!("{} ({:.0} MiB/s)", time(b), mib_per_s(bytes, b)),
            ratio(t, b),
        ]);
        op.push(mib_per_s(bytes, t));
        gcm.push(mib_per_s(bytes, b));
    }
    let text = format!(
        "Criterion medians, {date}:\n\n{}",
        table(
            &["benchmark", "median", "baseline AES-128-GCM", "ratio"],
            &rows
        )
    );
    Ok(Section {
        name: "services",
        blocks: vec![Block {
            name: "services",
            text,
        }],
        chart: Chart {
            title: "Sealing and protected files against AES-128-GCM alone".into(),
            y_label: "throughput (MiB/s)".into(),
            categories: cases.iter().map(|c| c.1.to_owned()).collect(),
            series: vec![("operation".into(), op), ("AES-128-GCM alone".into(), gcm)],
        },
    })
}

/// The scripts benchmark prints three markdown tables: the Lua engines per
/// script, the other languages in the enclave and natively, then the
/// shielded run end to end. All go in verbatim.
pub(crate) fn scripts(output: &str, date: &str) -> Result<Section, String> {
    let runs = output
        .lines()
        .find_map(|l| l.strip_suffix(" runs each, median wall time of the whole process"))
        .ok_or("the scripts output lacks its \"N runs each\" line")?;
    let tables = tables(output);
    let [engines, languages, shielded] = tables.as_slice() else {
        return Err(format!(
            "the scripts output has {} tables, not 3",
            tables.len()
        ));
    };
    let (mut names, mut native, mut enclave) = (Vec::new(), Vec::new(), Vec::new());
    // Rows: | script | lua5.4 | exec --native | exec (enclave) | ...
    for row in engines.lines().skip(2) {
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let ms = |i: usize| {
            cells
                .get(i)
                .and_then(|c| c.strip_suffix(" ms"))
                .and_then(|c| c.parse::<f64>().ok())
                .ok_or_else(|| format!("scripts row {row:?}: column {i} is not a time"))
        };
        let lua = ms(1).map_err(|e| format!("{e} (is lua5.4 installed?)"))?;
        let name = cells[0].split(' ').next().unwrap_or_default();
        // `empty` is start-up alone (the table has it): a bar 40× the
        // others would flatten them.
        if name == "empty" {
            continue;
        }
        names.push(name.to_owned());
        native.push(ms(2)? / lua);
        enclave.push(ms(3)? / lua);
    }
    let header = format!("Whole-process wall time, median of {runs} runs, {date}:\n\n");
    Ok(Section {
        name: "scripts",
        blocks: vec![
            Block {
                name: "scripts",
                text: header.clone() + engines,
            },
            Block {
                name: "languages",
                text: header.clone() + languages,
            },
            Block {
                name: "shielded-run",
                text: header + shielded,
            },
        ],
        chart: Chart {
            title: "Lua scripts: our VM native and in the enclave, against C Lua".into(),
            y_label: "wall time / lua5.4's".into(),
            categories: names.clone(),
            series: vec![
                ("lua5.4".into(), vec![1.0; names.len()]),
                ("exec --native".into(), native),
                ("exec (enclave)".into(), enclave),
            ],
        },
    })
}

/// An engine benchmark's own report, as it prints it: its markdown tables
/// and geometric-mean lines, or, when it prints columns of text, all of it
/// as a text block.
pub(crate) fn verbatim(name: &'static str, output: &str, date: &str) -> Result<Block, String> {
    let output = output.trim();
    if output.is_empty() {
        return Err(format!("the {name} benchmark printed nothing"));
    }
    let tables = tables(output);
    let body = if tables.is_empty() {
        format!("```text\n{output}\n```\n")
    } else {
        let notes: Vec<&str> = output
            .lines()
            .filter(|l| l.starts_with("geometric mean") || l.starts_with("SKIPPED"))
            .collect();
        let mut body = tables.join("\n");
        if !notes.is_empty() {
            body += &format!("\n{}\n", notes.join("  \n"));
        }
        body
    };
    Ok(Block {
        name,
        text: format!("One run, {date}:\n\n{body}"),
    })
}

/// The runs of consecutive lines starting with `|`, each with its newlines.
fn tables(output: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut current = String::new();
    for line in output.lines() {
        if line.starts_with('|') {
            current += line;
            current.push('\n');
        } else if !current.is_empty() {
            found.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        found.push(current);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_reports_keep_their_tables_and_means() {
        let output = "warming up\n| program | ours | sq |\n|---|---|---|\n| fib | 1 | 2 |\n\
                      geometric mean ours/sq: 0.50\n";
        let block = verbatim("squirrel", output, "2026-01-01").unwrap();
        assert_eq!(
            block.text,
            "One run, 2026-01-01:\n\n| program | ours | sq |\n|---|---|---|\n| fib | 1 | 2 |\n\
             \ngeometric mean ours/sq: 0.50\n"
        );
        let text = verbatim("x", "program  ours\nfib      1.0\n", "d").unwrap();
        assert_eq!(
            text.text,
            "One run, d:\n\n```text\nprogram  ours\nfib      1.0\n```\n"
        );
        assert!(verbatim("x", "\n", "d").is_err());
    }

    #[test]
    fn the_scripts_output_gives_three_tables_and_ratios_to_lua() {
        let output = "7 runs each, median wall time of the whole process\n\n\
            | script | lua5.4 | exec --native | exec (enclave) | x |\n|---|---|---|---|---|\n\
            | empty | 1.0 ms | 2.0 ms | 40.0 ms | 20.0 |\n\
            | fib 32 | 100.0 ms | 300.0 ms | 310.0 ms | 1.033 |\n\n\
            | language | script | a | b | c | d |\n|---|---|---|---|---|---|\n| JavaScript | empty | 1 | 2 | 2 | — |\n\n\
            | end to end | a | b | c |\n|---|---|---|---|\n| hello | 1 | 2 | 2 |\n";
        let section = scripts(output, "2026-01-01").unwrap();
        assert_eq!(section.blocks.len(), 3);
        assert!(
            section.blocks[0]
                .text
                .starts_with("Whole-process wall time, median of 7 runs")
        );
        assert!(
            section.blocks[1]
                .text
                .ends_with("| JavaScript | empty | 1 | 2 | 2 | — |\n")
        );
        assert!(section.blocks[2].text.ends_with("| hello | 1 | 2 | 2 |\n"));
        assert_eq!(section.chart.categories, ["fib"]);
        assert_eq!(section.chart.series[1].1, [3.0]);
        assert_eq!(section.chart.series[2].1, [3.1]);
    }
}
