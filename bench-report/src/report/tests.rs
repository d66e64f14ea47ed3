//! Tests of the report: parsing, aggregation, formatting and the page.

use super::*;

/// One result line, as `scripts/bench.sh` writes it.
fn line(backend: &str, op: &str, users: u64, run: u64, tput: f64, p50: f64, p99: f64) -> String {
    format!(
        r#"{{"impl":"rust","backend":"{backend}","op":"{op}","users":{users},"concurrency":32,"ops":20000,"secs":1.0,"ops_per_sec":{tput},"p50_us":{p50},"p99_us":{p99},"seed_secs":{seed},"seeding":"bulk","run":{run}}}"#,
        seed = if users > 10_000 {
            40.0 + run as f64
        } else {
            0.4 + 0.2 * run as f64
        },
    )
}

/// Two operations in two runs on each of `backends`, given as (name,
/// `raw_lookup` ops/s, sizes it ran at). Latency is 10% higher above
/// 10,000 users; throughput does not change.
fn rows(backends: &[(&str, f64, &[u64])]) -> String {
    let mut lines = Vec::new();
    for users in [10_000, 100_000, 1_000_000] {
        let slower = if users > 10_000 { 1.1 } else { 1.0 };
        for run in [1, 2] {
            let noise = run as f64 * 100.0;
            for &(backend, base, sizes) in backends {
                if !sizes.contains(&users) {
                    continue;
                }
                let p50 = (1_000.0 + noise) * slower;
                lines.push(line(
                    backend,
                    "get_session_and_user",
                    users,
                    run,
                    base * 0.8 + noise,
                    p50,
                    p50 * 3.0,
                ));
                lines.push(line(
                    backend,
                    "raw_lookup",
                    users,
                    run,
                    base + noise,
                    p50 / 2.0,
                    p50 * 2.0,
                ));
            }
        }
    }
    lines.join("\n") + "\n"
}

/// Two backends, two operations, two sizes, two runs.
pub(crate) fn two_sizes() -> String {
    rows(&[
        ("postgres", 10_000.0, &[10_000, 1_000_000]),
        ("redis", 40_000.0, &[10_000, 1_000_000]),
    ])
}

/// Four backends: sqlite and postgres ran the scale run at 1,000,000
/// users, mongodb at 100,000, redis not at all.
pub(crate) fn mixed_scales() -> String {
    rows(&[
        ("sqlite", 20_000.0, &[10_000, 1_000_000]),
        ("postgres", 10_000.0, &[10_000, 1_000_000]),
        ("mongodb", 5_000.0, &[10_000, 100_000]),
        ("redis", 40_000.0, &[10_000]),
    ])
}

/// A `notes.md` as the script's author might write it.
pub(crate) const NOTES: &str = "### MongoDB scale size\n\nThe MongoDB-wire server seeds about 400 users/s, so `--scale-users mongodb=100000`.\n\n- one\n- two\n";

fn report(text: &str) -> Report {
    Report::from_rows(&parse_rows(text, "results.jsonl".into()).unwrap())
}

/// [`report`], for where a local `report` hides it.
fn report_of(text: &str) -> Report {
    report(text)
}

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[7.0]), Some(7.0));
    assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 10.0]), Some(3.5));
    assert_eq!(median(&[2.0, 8.0]), Some(5.0));
}

#[test]
fn runs_reduce_to_their_median() {
    let text = [
        line("sqlite", "raw_lookup", 10_000, 1, 900.0, 10.0, 40.0),
        line("sqlite", "raw_lookup", 10_000, 2, 1_000.0, 30.0, 90.0),
        line("sqlite", "raw_lookup", 10_000, 3, 2_000.0, 20.0, 50.0),
    ]
    .join("\n");
    let report = report(&text);
    let cell = report.cell("sqlite", "raw_lookup", 10_000).unwrap();
    assert_eq!(
        *cell,
        Cell {
            runs: 3,
            ops_per_sec: 1_000.0,
            p50_us: 20.0,
            p99_us: 50.0
        }
    );
    assert_eq!(report.runs(), (3, 3));
    // Seeding 0.6, 0.8 and 1.0 s in runs 1 to 3.
    let seed = report.seeding("sqlite", 10_000).unwrap().secs.unwrap();
    assert!((seed - 0.8).abs() < 1e-9, "{seed}");
}

#[test]
fn ratio_to_raw_lookup_of_the_same_backend_and_size() {
    let report = report(&two_sizes());
    // postgres at 10,000: get_session_and_user 8,000+150, raw_lookup 10,000+150.
    let ratio_pg = report
        .vs_raw_lookup("postgres", "get_session_and_user", 10_000)
        .unwrap();
    assert!((ratio_pg - 8_150.0 / 10_150.0).abs() < 1e-12);
    assert_eq!(
        report.vs_raw_lookup("redis", "raw_lookup", 10_000),
        Some(1.0)
    );
    assert_eq!(report.vs_raw_lookup("mysql", "raw_lookup", 10_000), None);
    assert_eq!(ratio(ratio_pg), "0.80×");
    assert_eq!(ratio(1.0), "1.00×");
}

#[test]
fn order_of_first_appearance_and_sizes() {
    let report = report(&two_sizes());
    assert_eq!(report.backends, ["postgres", "redis"]);
    assert_eq!(report.ops, ["get_session_and_user", "raw_lookup"]);
    assert_eq!(report.sizes, [10_000, 1_000_000]);
    assert_eq!(report.small(), 10_000);
    assert_eq!(report.scale("postgres"), Some(1_000_000));
    assert_eq!(report.scale("redis"), Some(1_000_000));
    assert_eq!(report.common_scale(), Some(1_000_000));
}

#[test]
fn scale_size_is_per_backend() {
    let report = report(&mixed_scales());
    assert_eq!(report.backends, ["sqlite", "postgres", "mongodb", "redis"]);
    assert_eq!(report.sizes, [10_000, 100_000, 1_000_000]);
    assert_eq!(report.small(), 10_000);
    assert_eq!(report.scale("sqlite"), Some(1_000_000));
    assert_eq!(report.scale("mongodb"), Some(100_000));
    assert_eq!(report.scale("redis"), None);
    assert_eq!(report.scale("mysql"), None);
    assert_eq!(
        report.scale_runs(),
        [
            ("sqlite", 1_000_000),
            ("postgres", 1_000_000),
            ("mongodb", 100_000)
        ]
    );
    assert_eq!(report.common_scale(), Some(1_000_000));

    // A tie goes to the larger size.
    let tie = report_of(&rows(&[
        ("mongodb", 5_000.0, &[10_000, 100_000]),
        ("sqlite", 20_000.0, &[10_000, 1_000_000]),
    ]));
    assert_eq!(tie.common_scale(), Some(1_000_000));
    let md = markdown(&tie, Extras::default(), "b");
    assert!(
        md.contains("The scale run seeds 1,000,000 users, but mongodb ran at 100,000 users. "),
        "{md}"
    );
}

#[test]
fn and_lists() {
    assert_eq!(and_list(&[]), "");
    assert_eq!(and_list(&["a"]), "a");
    assert_eq!(and_list(&["a", "b"]), "a and b");
    assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
}

#[test]
fn thousands_separators() {
    assert_eq!(thousands(0), "0");
    assert_eq!(thousands(999), "999");
    assert_eq!(thousands(1_000), "1,000");
    assert_eq!(thousands(16_207), "16,207");
    assert_eq!(thousands(1_000_000), "1,000,000");
    assert_eq!(count(16_206.6), "16,207");
    assert_eq!(count(f64::NAN), "–");
}

#[test]
fn signed_percentages() {
    assert_eq!(signed_percent(100.0, 112.0), "+12%");
    assert_eq!(signed_percent(100.0, 97.0), "-3%");
    assert_eq!(signed_percent(100.0, 100.4), "0%");
    assert_eq!(signed_percent(100.0, 99.6), "0%");
    assert_eq!(signed_percent(1_000.0, 2_500.0), "+150%");
    assert_eq!(signed_percent(0.0, 5.0), "–");
}

#[test]
fn markdown_with_two_sizes() {
    let machine = "cpu: Test CPU\ncores: 2\n\n";
    let extras = Extras {
        machine: Some(machine),
        notes: None,
    };
    let md = markdown(&report(&two_sizes()), extras, "benchmarks");
    for expected in [
        "# Benchmarks\n",
        "`bash scripts/bench.sh --scale`",
        "32 concurrent tasks share 20,000 operations",
        "medians of 2 runs on a machine with 2 cores (see [Machine](#machine)).",
        "the workload of [`docs/workload.md`](workload.md)",
        "## Throughput and latency at 10,000 users\n",
        "| backend | operation | ops/s | p50 (µs) | p99 (µs) | vs raw_lookup |\n",
        // p50 runs 1,100 and 1,200; p99 3,300 and 3,600.
        "| postgres | get_session_and_user | 8,150 | 1,150 | 3,450 | 0.80× |\n",
        "| postgres | raw_lookup | 10,150 | 575 | 2,300 | 1.00× |\n",
        "| redis | get_session_and_user | 32,150 | 1,150 | 3,450 | 0.80× |\n",
        "| backend | get_session_and_user ops/s | raw_lookup ops/s | ratio | seeding (s) for 10,000 users |\n",
        "| postgres | 8,150 | 10,150 | 0.80× | 0.7 |\n",
        "![Throughput per operation and backend](benchmarks/throughput.svg)",
        "`bash scripts/bench.sh --scale` for the scale run, 1,000,000 users)",
        "## From 10,000 users to the scale run\n",
        "The scale run seeds 1,000,000 users. `change` is the change of the median from 10,000 users to the backend's scale run",
        "| postgres | 1,000,000 | get_session_and_user | 1,150 → 1,265 | +10% | 3,450 → 3,795 | +10% | 8,150 → 8,150 |\n",
        "| redis | 1,000,000 | raw_lookup | 575 → 633 | +10% | 2,300 → 2,530 | +10% | 40,150 → 40,150 |\n",
        "| backend | scale users | seeding path | seeding (s) for 10,000 users | seeding (s), scale run |\n",
        "| postgres | 1,000,000 | bulk | 0.7 | 41.5 |\n",
        "![p50 and p99 latency of get_session_and_user at 10,000 users and in each backend's scale run](benchmarks/scale.svg)",
        "## Machine\n\n- cpu: Test CPU\n- cores: 2\n",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    for absent in ["but ", "Not in the scale run", "## Notes"] {
        assert!(!md.contains(absent), "unexpected {absent:?} in:\n{md}");
    }
    // One table grouped by backend, operations in file order.
    let table: Vec<String> = md
        .lines()
        .skip_while(|l| !l.starts_with("| backend | operation | ops/s"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.split(" | ").take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        table,
        [
            "| postgres get_session_and_user",
            "| postgres raw_lookup",
            "| redis get_session_and_user",
            "| redis raw_lookup",
        ]
    );
}

/// The rows of `text` at 10,000 users: a results file without a scale run.
fn only_10_000_users(text: &str) -> String {
    text.lines()
        .filter(|l| l.contains(r#""users":10000,"#))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn markdown_with_one_size_has_no_scale_section() {
    let text = only_10_000_users(&two_sizes());
    let report = report(&text);
    assert_eq!(report.scale("postgres"), None);
    assert_eq!(report.common_scale(), None);
    assert!(report.scale_runs().is_empty());
    let md = markdown(&report, Extras::default(), "benchmarks");
    assert!(!md.contains("## From"));
    assert!(!md.contains("scale.svg"));
    assert!(md.contains("The scale run is not in this results file"));
    assert!(md.contains("`bash scripts/bench.sh --scale`"));
    assert!(md.contains("The machine was not recorded"));
}

#[test]
fn malformed_line_is_named() {
    let text = format!(
        "{}\n\n{{\"backend\": \"sqlite\"\n",
        line("sqlite", "raw_lookup", 10_000, 1, 1.0, 1.0, 1.0)
    );
    let error = parse_rows(&text, "results.jsonl".into()).unwrap_err();
    assert!(
        matches!(error, ReportError::Malformed { line: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("results.jsonl: line 3 is not a result row")
    );

    let missing_field = r#"{"backend":"sqlite","op":"raw_lookup","users":1}"#;
    let error = parse_rows(missing_field, "r".into()).unwrap_err();
    assert!(
        matches!(error, ReportError::Malformed { line: 1, .. }),
        "{error:?}"
    );
}

#[test]
fn blank_file_is_empty() {
    let error = parse_rows("\n  \n", "results.jsonl".into()).unwrap_err();
    assert!(matches!(error, ReportError::Empty { .. }));
    assert_eq!(error.to_string(), "results.jsonl: no result rows");
}

#[test]
fn optional_fields_may_be_missing() {
    let text = r#"{"backend":"redis","op":"raw_lookup","users":10,"concurrency":1,"ops":5,"ops_per_sec":2.5,"p50_us":1,"p99_us":2}"#;
    let report = report(text);
    assert_eq!(
        report.cell("redis", "raw_lookup", 10).unwrap().ops_per_sec,
        2.5
    );
    assert_eq!(report.seeding("redis", 10).unwrap().secs, None);
    assert!(markdown(&report, Extras::default(), "b").contains("| redis | – | 3 | – | – |"));
}

/// The lines of the scale section, from its heading to the next one.
fn scale_lines(md: &str) -> Vec<&str> {
    md.lines()
        .skip_while(|l| !l.starts_with("## From"))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .collect()
}

#[test]
fn markdown_with_per_backend_scale_sizes_and_notes() {
    let report = report(&mixed_scales());
    let extras = Extras {
        machine: None,
        notes: Some(NOTES),
    };
    let md = markdown(&report, extras, "benchmarks");
    for expected in [
        "## From 10,000 users to the scale run\n",
        "The scale run seeds 1,000,000 users, but mongodb ran at 100,000 users (see the notes below). \
         Not in the scale run: redis. `change` is",
        "| backend | scale users | operation | p50 small → scale (µs) | change | p99 small → scale (µs) | change | ops/s small → scale |\n",
        "| sqlite | 1,000,000 | get_session_and_user | 1,150 → 1,265 | +10% | 3,450 → 3,795 | +10% | 16,150 → 16,150 |\n",
        "| postgres | 1,000,000 | raw_lookup | 575 → 633 | +10% | 2,300 → 2,530 | +10% | 10,150 → 10,150 |\n",
        "| mongodb | 100,000 | get_session_and_user | 1,150 → 1,265 | +10% | 3,450 → 3,795 | +10% | 4,150 → 4,150 |\n",
        "| mongodb | 100,000 | raw_lookup | 575 → 633 | +10% | 2,300 → 2,530 | +10% | 5,150 → 5,150 |\n",
        "| sqlite | 1,000,000 | bulk | 0.7 | 41.5 |\n",
        "| mongodb | 100,000 | bulk | 0.7 | 41.5 |\n",
        // redis is still in the tables at 10,000 users.
        "| redis | get_session_and_user | 32,150 | 1,150 | 3,450 | 0.80× |\n",
        "| redis | 32,150 | 40,150 | 0.80× | 0.7 |\n",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    // The scale tables list the backends in the scale run only.
    let backends: Vec<&str> = scale_lines(&md)
        .into_iter()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| backend") && !l.starts_with("| ---"))
        .filter_map(|l| l.split(" | ").next())
        .collect();
    assert_eq!(
        backends,
        [
            "| sqlite",
            "| sqlite",
            "| postgres",
            "| postgres",
            "| mongodb",
            "| mongodb",
            "| sqlite",
            "| postgres",
            "| mongodb",
        ]
    );
    // notes.md verbatim under its own heading, before the machine.
    assert!(
        md.contains(&format!(
            "![p50 and p99 latency of get_session_and_user at 10,000 users and in each backend's scale run](benchmarks/scale.svg)\n\n\
             ## Notes\n\n{NOTES}\n## Machine\n"
        )),
        "{md}"
    );

    // Without notes.md there is no section to point to.
    let md = markdown(&report, Extras::default(), "benchmarks");
    assert!(md.contains("but mongodb ran at 100,000 users. Not in the scale run: redis."));
    assert!(!md.contains("see the notes"));
    assert!(!md.contains("## Notes"));
    // Blank notes make no section either.
    let blank = Extras {
        machine: None,
        notes: Some("\n  \n"),
    };
    assert!(!markdown(&report, blank, "b").contains("## Notes"));
}

#[test]
fn notes_without_a_scale_run() {
    let text = only_10_000_users(&mixed_scales());
    let extras = Extras {
        machine: Some("cpu: X\n"),
        notes: Some("Some note.\r\n"),
    };
    let md = markdown(&report(&text), extras, "b");
    assert!(
        md.contains(
            "{} users.\n\n## Notes\n\nSome note.\n\n## Machine\n\n- cpu: X\n"
                .replace("{}", "10,000")
                .as_str()
        ),
        "{md}"
    );
}

#[test]
fn the_machine_comes_from_machine_txt_only() {
    assert_eq!(
        machine_phrase(Some("cpu: X\ncores: 8\n")),
        "a machine with 8 cores (see [Machine](#machine))"
    );
    assert_eq!(
        machine_phrase(Some("cpu: X\n")),
        "the machine under [Machine](#machine)"
    );
    assert_eq!(machine_phrase(None), "a machine that was not recorded");
    assert_eq!(
        machine_phrase(Some("\n\n")),
        "a machine that was not recorded"
    );
    let md = markdown(
        &report(&two_sizes()),
        Extras {
            machine: Some("cores: 64\n"),
            notes: None,
        },
        "benchmarks",
    );
    assert!(md.contains("on a machine with 64 cores"), "{md}");
    assert!(!md.contains("2 cores"), "{md}");
}
