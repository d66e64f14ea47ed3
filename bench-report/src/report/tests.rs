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
        .vs_ceiling("postgres", "get_session_and_user", 10_000)
        .unwrap();
    assert!((ratio_pg - 8_150.0 / 10_150.0).abs() < 1e-12);
    // A ceiling row has no ceiling; an absent backend has no ratio.
    assert_eq!(report.vs_ceiling("redis", "raw_lookup", 10_000), None);
    assert_eq!(
        report.vs_ceiling("mysql", "get_session_and_user", 10_000),
        None
    );
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
        ..Extras::default()
    };
    let md = markdown(&report(&two_sizes()), extras, "benchmarks");
    for expected in [
        "# Benchmarks\n",
        "`bash scripts/bench.sh --scale`",
        "32 concurrent tasks share 20,000 operations",
        "medians of 2 runs on a machine with 2 cores (see [Machine](#machine)).",
        "the workload of [`docs/workload.md`](workload.md)",
        "## Throughput and latency at 10,000 users\n",
        "| backend | operation | ops/s | p50 (µs) | p99 (µs) | vs ceiling |\n",
        // p50 runs 1,100 and 1,200; p99 3,300 and 3,600.
        "| postgres | get_session_and_user | 8,150 | 1,150 | 3,450 | 0.80× |\n",
        "| postgres | raw_lookup | 10,150 | 575 | 2,300 | ceiling |\n",
        "| redis | get_session_and_user | 32,150 | 1,150 | 3,450 | 0.80× |\n",
        "| backend | get_session_and_user ops/s | ceiling (raw_lookup) ops/s | ratio | seeding (s) for 10,000 users |\n",
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
        ..Extras::default()
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
    // The memory section after the scale section, then notes.md verbatim
    // under its own heading, before the machine.
    assert!(
        md.contains(
            "![p50 and p99 latency of get_session_and_user at 10,000 users and in each backend's scale run](benchmarks/scale.svg)\n\n\
             ## Memory\n"
        ),
        "{md}"
    );
    assert!(
        md.contains(&format!(
            "| redis | – | – |\n\n## Notes\n\n{NOTES}\n## Machine\n"
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
        ..Extras::default()
    };
    assert!(!markdown(&report, blank, "b").contains("## Notes"));
}

#[test]
fn notes_without_a_scale_run() {
    let text = only_10_000_users(&mixed_scales());
    let extras = Extras {
        machine: Some("cpu: X\n"),
        notes: Some("Some note.\r\n"),
        ..Extras::default()
    };
    let md = markdown(&report(&text), extras, "b");
    assert!(
        md.contains("| redis | – |\n\n## Notes\n\nSome note.\n\n## Machine\n\n- cpu: X\n"),
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
            ..Extras::default()
        },
        "benchmarks",
    );
    assert!(md.contains("on a machine with 64 cores"), "{md}");
    assert!(!md.contains("2 cores"), "{md}");
}

/// A result row of run 1 with the given throughput and p99 (p50 is half the
/// p99), and `peak_rss_kib` when given.
fn op_row(backend: &str, op: &str, users: u64, tput: f64, p99: f64, rss: Option<u64>) -> String {
    let rss = rss.map_or(String::new(), |kib| format!(r#","peak_rss_kib":{kib}"#));
    format!(
        r#"{{"impl":"rust","backend":"{backend}","op":"{op}","users":{users},"concurrency":32,"ops":20000,"secs":1.0,"ops_per_sec":{tput},"p50_us":{p50},"p99_us":{p99},"seed_secs":0.5,"seeding":"bulk"{rss},"run":1}}"#,
        p50 = p99 / 2.0,
    )
}

/// The rows of `rows`, given as (backend, operation, users, ops/s, p99 µs),
/// in that order.
fn table(rows: &[(&str, &str, u64, f64, f64)]) -> String {
    rows.iter()
        .map(|&(backend, op, users, tput, p99)| op_row(backend, op, users, tput, p99, None) + "\n")
        .collect()
}

/// The table lines of the section headed `heading`, without the header.
fn section_rows<'m>(md: &'m str, heading: &str) -> Vec<&'m str> {
    md.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| backend") && !l.starts_with("| ---"))
        .collect()
}

#[test]
fn ceiling_ratio_per_op() {
    assert_eq!(ceiling_of("get_session_and_user").unwrap(), "raw_lookup");
    assert_eq!(ceiling_of("update_session").unwrap(), "raw_update_session");
    assert_eq!(ceiling_of("raw_lookup"), None);
    assert_eq!(ceiling_of("raw_update_session"), None);
    assert!(is_ceiling("raw_create_session") && !is_ceiling("create_session"));

    let text = table(&[
        ("postgres", "get_session_and_user", 10_000, 8_000.0, 900.0),
        ("postgres", "raw_lookup", 10_000, 10_000.0, 500.0),
        ("postgres", "update_session", 10_000, 3_000.0, 900.0),
        ("postgres", "raw_update_session", 10_000, 5_000.0, 500.0),
        ("postgres", "create_session", 10_000, 4_000.0, 900.0),
        (
            "diesel-postgres",
            "get_session_and_user",
            10_000,
            6_000.0,
            900.0,
        ),
        ("diesel-postgres", "raw_lookup", 10_000, 12_000.0, 500.0),
        ("diesel-postgres", "update_session", 10_000, 2_000.0, 900.0),
    ]);
    let report = report(&text);
    let vs = |backend, op| report.vs_ceiling(backend, op, 10_000);
    assert_eq!(vs("postgres", "get_session_and_user"), Some(0.8));
    // Each operation over its own ceiling, not over raw_lookup.
    assert_eq!(vs("postgres", "update_session"), Some(0.6));
    assert_eq!(vs("postgres", "create_session"), None);
    assert_eq!(vs("postgres", "raw_update_session"), None);
    assert_eq!(vs("diesel-postgres", "get_session_and_user"), Some(0.5));
    assert_eq!(vs("diesel-postgres", "update_session"), None);

    let md = markdown(&report, Extras::default(), "b");
    assert_eq!(
        section_rows(&md, "## Throughput and latency at 10,000 users")[..8],
        [
            "| postgres | get_session_and_user | 8,000 | 450 | 900 | 0.80× |",
            "| postgres | raw_lookup | 10,000 | 250 | 500 | ceiling |",
            "| postgres | update_session | 3,000 | 450 | 900 | 0.60× |",
            "| postgres | raw_update_session | 5,000 | 250 | 500 | ceiling |",
            "| postgres | create_session | 4,000 | 450 | 900 | – |",
            "| diesel-postgres | get_session_and_user | 6,000 | 450 | 900 | 0.50× |",
            "| diesel-postgres | raw_lookup | 12,000 | 250 | 500 | ceiling |",
            "| diesel-postgres | update_session | 2,000 | 450 | 900 | – |",
        ]
    );
    assert!(
        md.contains("| postgres | 8,000 | 10,000 | 0.80× | 0.5 |"),
        "{md}"
    );
    assert!(md.contains("the same work done by the fastest bare client of that database"));
    assert!(!md.contains("vs raw_lookup"));
}

/// postgres and sqlite at 10,000 users, redis also at 1,000,000, and
/// diesel-sqlite, which no rule names and has no scale run.
fn targets_rows() -> String {
    table(&[
        // 0.85× ✓, 0.50× ✗, 0.70× ✓; create_session has no ceiling row.
        ("postgres", "get_session_and_user", 10_000, 8_500.0, 900.0),
        ("postgres", "raw_lookup", 10_000, 10_000.0, 500.0),
        ("postgres", "get_user_by_account", 10_000, 5_000.0, 900.0),
        (
            "postgres",
            "raw_get_user_by_account",
            10_000,
            10_000.0,
            500.0,
        ),
        ("postgres", "update_session", 10_000, 7_000.0, 900.0),
        ("postgres", "raw_update_session", 10_000, 10_000.0, 500.0),
        ("postgres", "create_session", 10_000, 6_000.0, 900.0),
        // 0.95× ✓; get_user_by_account without its ceiling; p99 15 ms ✓
        // and 25 ms ✗; no use_verification_token row.
        ("sqlite", "get_session_and_user", 10_000, 9_500.0, 900.0),
        ("sqlite", "raw_lookup", 10_000, 10_000.0, 500.0),
        ("sqlite", "get_user_by_account", 10_000, 8_000.0, 900.0),
        ("sqlite", "update_session", 10_000, 1_000.0, 15_000.0),
        ("sqlite", "create_session", 10_000, 1_000.0, 25_000.0),
        // 0.65× ✓; p99 ×1.12 ✓ and ×1.5 ✗ at 1,000,000.
        ("redis", "get_session_and_user", 10_000, 6_500.0, 1_000.0),
        ("redis", "raw_lookup", 10_000, 10_000.0, 500.0),
        ("redis", "update_session", 10_000, 6_000.0, 1_000.0),
        ("redis", "get_session_and_user", 1_000_000, 6_500.0, 1_120.0),
        ("redis", "raw_lookup", 1_000_000, 10_000.0, 5_000.0),
        ("redis", "update_session", 1_000_000, 6_000.0, 1_500.0),
        (
            "diesel-sqlite",
            "get_session_and_user",
            10_000,
            1_000.0,
            900.0,
        ),
        ("diesel-sqlite", "raw_lookup", 10_000, 2_000.0, 500.0),
    ])
}

#[test]
fn targets_met_and_missed() {
    let report = report(&targets_rows());
    let outcomes = evaluate(&report, TARGETS);
    let table: Vec<String> = outcomes
        .iter()
        .map(|o| {
            let met = o.met().map_or("–", |m| if m { "✓" } else { "✗" });
            format!(
                "{} {} {} {met}",
                o.backend,
                o.target(10_000),
                o.measured_text()
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            "postgres `get_session_and_user` ≥ 0.8× ceiling 0.85× ✓",
            "postgres `get_user_by_account` ≥ 0.6× ceiling 0.50× ✗",
            "postgres `update_session` ≥ 0.6× ceiling 0.70× ✓",
            "sqlite `get_session_and_user` ≥ 0.9× ceiling 0.95× ✓",
            "sqlite `get_user_by_account` ≥ 0.9× ceiling – –",
            "sqlite `update_session` p99 ≤ 20 ms 15.0 ms ✓",
            "sqlite `create_session` p99 ≤ 20 ms 25.0 ms ✗",
            "sqlite `use_verification_token` p99 ≤ 20 ms – –",
            "redis `get_session_and_user` ≥ 0.6× ceiling 0.65× ✓",
            "redis `get_session_and_user` p99 at 1,000,000 ≤ 1.3× p99 at 10,000 1.12× ✓",
            "redis `update_session` p99 at 1,000,000 ≤ 1.3× p99 at 10,000 1.50× ✗",
        ]
    );

    let md = markdown(&report, Extras::default(), "b");
    assert!(
        md.contains(
            "## Targets\n\n6 of 9 targets met; 2 could not be measured (a row they need is missing, shown as –).\n"
        ),
        "{md}"
    );
    for expected in [
        "| backend | target | measured | met |\n| --- | --- | ---: | :---: |\n\
         | postgres | `get_session_and_user` ≥ 0.8× ceiling | 0.85× | ✓ |\n",
        "| sqlite | `create_session` p99 ≤ 20 ms | 25.0 ms | ✗ |\n",
        "| redis | `update_session` p99 at 1,000,000 ≤ 1.3× p99 at 10,000 | 1.50× | ✗ |\n",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    // After the main tables, before the scale section.
    let at = |s: &str| md.find(s).unwrap();
    assert!(at("throughput.svg)") < at("## Targets"));
    assert!(at("## Targets") < at("## From 10,000 users"));
    assert!(
        !section_rows(&md, "## Targets")
            .iter()
            .any(|l| l.contains("diesel-sqlite"))
    );
}

#[test]
fn targets_are_data() {
    let report = report(&targets_rows());
    // A rule for every backend applies to diesel-sqlite too.
    let rules = [Rule {
        backends: Backends::Every,
        ops: Ops::One("get_session_and_user"),
        bound: Bound::CeilingAtLeast(0.5),
    }];
    let outcomes = evaluate(&report, &rules);
    let met: Vec<(&str, Option<bool>)> = outcomes
        .iter()
        .map(|o| (o.backend.as_str(), o.met()))
        .collect();
    assert_eq!(
        met,
        [
            ("postgres", Some(true)),
            ("sqlite", Some(true)),
            ("redis", Some(true)),
            ("diesel-sqlite", Some(true)),
        ]
    );
    // The bound is inclusive: 0.5× meets ≥ 0.5×.
    assert_eq!(outcomes[3].measured, Some(0.5));

    // With every target met and measured the summary is short.
    let text = table(&[
        ("mysql", "get_session_and_user", 10_000, 9_000.0, 900.0),
        ("mysql", "raw_lookup", 10_000, 10_000.0, 500.0),
    ]);
    let md = markdown(&report_of(&text), Extras::default(), "b");
    assert!(md.contains("## Targets\n\n1 of 1 targets met.\n"), "{md}");
    // A backend no rule names, without a scale run, has no target.
    let text = table(&[("memory", "get_session_and_user", 10_000, 9_000.0, 900.0)]);
    let md = markdown(&report_of(&text), Extras::default(), "b");
    assert!(md.contains("## Targets\n\nNo target applies"), "{md}");
}

/// postgres at 10,000 users in three runs (peak RSS 40, 50 and 70 MiB) and
/// at 1,000,000 (200 MiB), redis without `peak_rss_kib` (absent, then
/// `null`), sqlite at 10,000 users only (30 MiB).
fn memory_rows(with_redis: bool) -> String {
    let mut lines = Vec::new();
    for (run, mib) in [(1, 40), (2, 50), (3, 70)] {
        for op in ["get_session_and_user", "raw_lookup"] {
            lines.push(
                op_row("postgres", op, 10_000, 1_000.0, 900.0, Some(mib * 1024))
                    .replace(r#""run":1"#, &format!(r#""run":{run}"#)),
            );
        }
    }
    lines.push(op_row(
        "postgres",
        "raw_lookup",
        1_000_000,
        1.0,
        1.0,
        Some(200 * 1024),
    ));
    lines.push(op_row(
        "sqlite",
        "raw_lookup",
        10_000,
        1.0,
        1.0,
        Some(30 * 1024 + 512),
    ));
    if with_redis {
        lines.push(op_row("redis", "raw_lookup", 10_000, 1.0, 1.0, None));
        lines.push(
            op_row("redis", "raw_lookup", 1_000_000, 1.0, 1.0, None)
                .replace(r#","run":1"#, r#","peak_rss_kib":null,"run":1"#),
        );
    }
    lines.join("\n")
}

#[test]
fn memory_table_with_and_without_peak_rss() {
    let report = report(&memory_rows(true));
    assert_eq!(report.peak_rss_kib("postgres", 10_000), Some(50.0 * 1024.0));
    assert_eq!(report.peak_rss_kib("redis", 10_000), None);
    assert_eq!(report.peak_rss_kib("redis", 1_000_000), None);
    let md = markdown(&report, Extras::default(), "b");
    for expected in [
        "## Memory\n\nPeak resident set of the bench process (`VmHWM`, the median over runs), \
         the dataset's tokens and ids included. Rows written before it was recorded (no \
         `peak_rss_kib`) show –.\n",
        "| backend | peak RSS at 10,000 users (MiB) | peak RSS at 1,000,000 users (MiB) |\n",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    assert_eq!(
        section_rows(&md, "## Memory"),
        [
            "| postgres | 50.0 | 200.0 |",
            "| sqlite | 30.5 | – |",
            "| redis | – | – |",
        ]
    );

    // Every row records it: no note on missing values.
    let md = markdown(&report_of(&memory_rows(false)), Extras::default(), "b");
    assert!(
        md.contains("the dataset's tokens and ids included.\n"),
        "{md}"
    );
    assert!(!md.contains("show –"), "{md}");

    // No scale run: one column.
    let text = only_10_000_users(&memory_rows(true));
    let md = markdown(&report_of(&text), Extras::default(), "b");
    assert!(md.contains("| backend | peak RSS at 10,000 users (MiB) |\n| --- | ---: |\n"));
    assert_eq!(
        section_rows(&md, "## Memory"),
        ["| postgres | 50.0 |", "| sqlite | 30.5 |", "| redis | – |"]
    );
}

/// An `authjs.jsonl` row of `run`.
pub(crate) fn authjs_line(
    backend: &str,
    variant: &str,
    op: &str,
    run: u64,
    tput: f64,
    p99: f64,
) -> String {
    let adapter = match backend {
        "postgres" => "@auth/pg-adapter@1.11.3",
        _ => "@auth/unstorage-adapter@2.11.3",
    };
    format!(
        r#"{{"impl":"authjs","backend":"{backend}","variant":"{variant}","op":"{op}","users":10000,"concurrency":32,"ops":20000,"secs":2.0,"ops_per_sec":{tput},"p50_us":{p50},"p99_us":{p99},"seed_secs":3.0,"seeding":"bulk","adapter":"{adapter}","node":"v20.19.0","peak_rss_kib":123456,"run":{run}}}"#,
        p50 = p99 / 2.0,
    )
}

/// Auth.js rows in two runs: postgres as shipped and indexed for two
/// operations, redis as shipped only.
pub(crate) fn authjs_rows() -> String {
    let mut lines = Vec::new();
    for run in [1, 2] {
        let noise = run as f64 * 100.0;
        for (variant, tput) in [("as-shipped", 1_000.0), ("indexed", 3_000.0)] {
            for op in ["get_session_and_user", "update_session"] {
                lines.push(authjs_line(
                    "postgres",
                    variant,
                    op,
                    run,
                    tput + noise,
                    9_000.0 + noise,
                ));
            }
        }
        lines.push(authjs_line(
            "redis",
            "as-shipped",
            "get_session_and_user",
            run,
            4_000.0 + noise,
            800.0 + noise,
        ));
    }
    lines.join("\n") + "\n"
}

/// Rust rows for the Auth.js comparison: postgres and redis
/// `get_session_and_user`, no postgres `update_session`.
fn rust_rows_for_authjs() -> String {
    table(&[
        ("postgres", "get_session_and_user", 10_000, 6_600.0, 900.0),
        ("postgres", "raw_lookup", 10_000, 8_000.0, 500.0),
        ("redis", "get_session_and_user", 10_000, 41_500.0, 900.0),
    ])
}

fn authjs_of(text: &str) -> AuthJs {
    AuthJs::from_rows(&parse_authjs_rows(text, "authjs.jsonl".into()).unwrap()).unwrap()
}

#[test]
fn authjs_table_with_both_variants_and_with_one() {
    let authjs = authjs_of(&authjs_rows());
    assert_eq!(authjs.backends, ["postgres", "redis"]);
    assert_eq!(authjs.sizes, [10_000]);
    let cell = authjs
        .cell("postgres", "indexed", "get_session_and_user", 10_000)
        .unwrap();
    assert_eq!(
        (cell.runs, cell.ops_per_sec, cell.p99_us),
        (2, 3_150.0, 9_150.0)
    );

    let report = report(&rust_rows_for_authjs());
    let extras = Extras {
        machine: Some("cores: 2\n"),
        authjs: Some(&authjs),
        authjs_machine: Some("node: v20.19.0\n\ncpu: Test CPU\n"),
        ..Extras::default()
    };
    let md = markdown(&report, extras, "b");
    for expected in [
        "## Against Auth.js\n\nThe official Auth.js database adapters",
        "at 10,000 users.",
        "PostgreSQL `get_session_and_user`: 5.74× Auth.js as shipped, 2.10× with indexes.\n",
        "| backend | operation | this adapter ops/s | Auth.js as shipped ops/s | × | Auth.js with indexes ops/s | × | Auth.js p99 (µs) as shipped / indexed |\n",
        "Adapters: `@auth/pg-adapter@1.11.3` (postgres), `@auth/unstorage-adapter@2.11.3` (redis).\n\
         Node.js: v20.19.0.\n\n\
         The machine of the Auth.js runs (`authjs-machine.txt`):\n\n- node: v20.19.0\n- cpu: Test CPU\n",
    ] {
        assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
    }
    assert_eq!(
        section_rows(&md, "## Against Auth.js"),
        [
            "| postgres | get_session_and_user | 6,600 | 1,150 | 5.74× | 3,150 | 2.10× | 9,150 / 9,150 |",
            "| postgres | update_session | – | 1,150 | – | 3,150 | – | 9,150 / 9,150 |",
            "| redis | get_session_and_user | 41,500 | 4,150 | 10.00× | – | – | 950 / – |",
        ]
    );
    // The section sits after the memory section, before the machine.
    let at = |s: &str| md.find(s).unwrap();
    assert!(at("## Memory") < at("## Against Auth.js"));
    assert!(at("## Against Auth.js") < at("## Machine"));
}

#[test]
fn authjs_headline_with_one_variant_and_without_postgres() {
    let report = report(&rust_rows_for_authjs());
    let shipped_only: String = authjs_rows()
        .lines()
        .filter(|l| !l.contains(r#""variant":"indexed""#))
        .map(|l| format!("{l}\n"))
        .collect();
    let authjs = authjs_of(&shipped_only);
    assert_eq!(
        headline(&report, &authjs).unwrap(),
        "PostgreSQL `get_session_and_user`: 5.74× Auth.js as shipped."
    );
    let extras = Extras {
        authjs: Some(&authjs),
        ..Extras::default()
    };
    let md = markdown(&report, extras, "b");
    assert!(
        md.contains(
            "| postgres | get_session_and_user | 6,600 | 1,150 | 5.74× | – | – | 9,150 / – |\n"
        ),
        "{md}"
    );
    assert!(!md.contains("The machine of the Auth.js runs"));

    let redis_only: String = authjs_rows()
        .lines()
        .filter(|l| l.contains(r#""backend":"redis""#))
        .map(|l| format!("{l}\n"))
        .collect();
    let authjs = authjs_of(&redis_only);
    assert_eq!(headline(&report, &authjs), None);
    let extras = Extras {
        authjs: Some(&authjs),
        ..Extras::default()
    };
    let md = markdown(&report, extras, "b");
    assert!(md.contains("## Against Auth.js"));
    assert!(!md.contains("PostgreSQL `get_session_and_user`:"));

    // No Auth.js rows, no section.
    assert_eq!(AuthJs::from_rows(&[]), None);
    let md = markdown(&report, Extras::default(), "b");
    assert!(!md.contains("Auth.js"), "{md}");
}

#[test]
fn malformed_authjs_line_is_named() {
    let first = authjs_rows().lines().next().unwrap().to_owned();
    assert!(
        parse_authjs_rows("\n \n", "authjs.jsonl".into())
            .unwrap()
            .is_empty()
    );

    let error =
        parse_authjs_rows(&format!("{first}\n\nnot json\n"), "authjs.jsonl".into()).unwrap_err();
    assert!(
        matches!(error, ReportError::Malformed { line: 3, .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("authjs.jsonl: line 3 is not a result row"),
        "{error}"
    );

    let without_variant = first.replace(r#""variant":"as-shipped","#, "");
    let error = parse_authjs_rows(&without_variant, "authjs.jsonl".into()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "authjs.jsonl: line 1 is not a result row: missing field `variant` (`as-shipped` or `indexed`)"
    );
    let unknown = first.replace("as-shipped", "tuned");
    let error = parse_authjs_rows(&unknown, "authjs.jsonl".into()).unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `tuned`"),
        "{error}"
    );
}
