//! One set of target flags and exit-code tables across commands: `export` and `migrate` take
//! plan's and apply's target flags with the same meaning, `-q` means the same everywhere, and
//! every `--help` says its exit codes.

mod pair;

use pair::{KEY_A, Kind, Pair, rebrand};
use roster_e2e::{AssigneeType, Limits, World, assign, tenant};

/// The target flags of plan and apply, which export and migrate take too.
const TARGET_FLAGS: [&str; 14] = [
    "--config",
    "--server",
    "--kind",
    "--api-key-env",
    "--api-key-file",
    "--api-key-stdin",
    "--client-id",
    "--client-secret-env",
    "--client-secret-file",
    "--tier1-per-min",
    "--tier2-per-min",
    "--timeout-secs",
    "--insecure",
    "--allow-http",
];

fn help(world: &World, command: &str) -> String {
    let run = world.run(&[command, "--help"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stdout
}

#[test]
fn every_command_has_the_target_flags_and_an_exit_code_table() {
    let world = World::start(tenant(0, 0, 0), Limits::NONE);
    for command in ["plan", "apply", "export", "migrate", "undo"] {
        let text = help(&world, command);
        for flag in TARGET_FLAGS {
            assert!(text.contains(flag), "{command} --help lacks {flag}:\n{text}");
        }
        assert!(text.contains("Exit codes:"), "{command} --help:\n{text}");
        assert!(text.contains("  2    usage"), "{command} --help:\n{text}");
    }
    // Rows with errors make plan exit 1: its table says so, as does the overview.
    let plan = help(&world, "plan");
    assert!(plan.contains("  1    some rows have errors"), "{plan}");
    let top = world.run(&["--help"]).stdout;
    assert!(
        top.contains("plan, migrate --plan: some rows have errors"),
        "{top}"
    );
    let migrate = help(&world, "migrate");
    assert!(
        migrate.contains("with --plan: some rows have errors"),
        "{migrate}"
    );
    // --yes does something in apply only with --prune or Alumio's emails: no example without.
    let apply = help(&world, "apply");
    assert!(!apply.contains("--mode exact --yes"), "{apply}");
    // sim: an example, and which printed line is which key.
    let sim = help(&world, "sim");
    assert!(sim.contains("Examples:"), "{sim}");
    assert!(sim.contains("line 1 is the base URL"), "{sim}");
}

fn source_tenant() -> roster_e2e::Tenant {
    let mut t = tenant(2, 1, 0);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    rebrand(t, "a-")
}

#[test]
fn export_takes_the_target_flags_and_quiet_keeps_the_summary() {
    let pair = Pair::start(source_tenant(), tenant(0, 0, 0), Kind::Qlik);
    // A server and a key variable, no roster.toml target: the flags plan and apply take.
    let server = pair.a.base_url();
    let run = pair.run(&[
        "export",
        "--server",
        &server,
        "--api-key-env",
        KEY_A,
        "--tier1-per-min",
        "0",
        "-o",
        "out.csv",
        "-q",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        pair.read("out.csv")
            .contains("Space 0,user,user0@example.com,consumer"),
        "{}",
        pair.read("out.csv")
    );
    // -q means what it means for apply: only the summary.
    assert!(
        run.stderr.contains("exported 1 assignments of 1 spaces"),
        "{}",
        run.stderr
    );

    // --concurrency is checked as apply checks it, not quietly clamped.
    for command in [
        &["export", "--from", "a", "-o", "x.csv", "--concurrency", "0"][..],
        &[
            "migrate",
            "--from",
            "a",
            "--to",
            "b",
            "--plan",
            "--concurrency",
            "0",
        ][..],
        &["plan", "r.csv", "--to", "b", "--concurrency", "0"][..],
    ] {
        pair.write("r.csv", "space,type,assignee,roles\n");
        let run = pair.run(command);
        assert_eq!(run.code, Some(2), "{command:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("concurrency must be between 1 and 256 (got 0)"),
            "{command:?}: {}",
            run.stderr
        );
    }
    assert!(!pair.path("x.csv").exists());
}

#[test]
fn migrate_takes_the_target_flags_for_its_destination() {
    let pair = Pair::start(source_tenant(), rebrand(tenant(2, 1, 0), "b-"), Kind::Qlik);
    let server = pair.b.base_url();
    let run = pair.run(&[
        "migrate",
        "--from",
        "a",
        "--server",
        &server,
        "--api-key-env",
        pair::KEY_B,
        "--plan",
    ]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 to create"), "{}", run.stdout);
    assert!(pair.b.write_log().is_empty());
}
