//! Run history and undo against the simulator: `roster runs` lists what ran, `roster undo`
//! puts the tenant back exactly as it was before a run (and can be undone itself), leaves rows
//! changed since alone, and a run killed mid-write still holds the before-state of every change
//! the tenant received.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions too: any failure is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use roster_e2e::{AssigneeType, Limits, World, assign, tenant, wait_child, wait_for};

type State = BTreeMap<(String, String), Vec<String>>;

/// A tenant holding u0 as consumer and u1 as producer in Space 0, and u5 as consumer in Space 1.
fn world() -> World {
    let mut t = tenant(8, 2, 1);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut t, "s0", AssigneeType::User, "u1", &["producer"]);
    assign(&mut t, "s1", AssigneeType::User, "u5", &["consumer"]);
    World::start(t, Limits::NONE)
}

/// In exact mode with prune: u0 updated, u1 deleted, u2 and u3 created, a group created in
/// Space 1 (u5 deleted there).
const ROSTER: &str = "space,type,assignee,roles\n\
    Space 0,user,user0@example.com,producer\n\
    Space 0,user,user2@example.com,consumer\n\
    Space 0,user,user3@example.com,consumer;producer\n\
    Space 1,group,Group 0,consumer\n";

fn apply_exact(world: &World) -> String {
    world.write("roster.csv", ROSTER);
    let run = world.apply("roster.csv", &["--mode", "exact", "--prune", "--yes"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    last_run_id(world)
}

fn runs(world: &World) -> Vec<serde_json::Value> {
    let run = world.run(&["runs", "--to", "sim", "--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    serde_json::from_str::<Vec<serde_json::Value>>(&run.stdout).expect("runs --json")
}

fn last_run_id(world: &World) -> String {
    let runs = runs(world);
    runs.last().expect("a run")["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// The tenant's assignments read through its API, as any client sees them: every space from
/// `GET /api/v1/spaces`, then each space's `GET .../assignments`, following the pages.
fn state_through_api(world: &World) -> State {
    let base = world.sim.base_url();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let pages = |path: String| {
        let (http, base) = (&http, &base);
        async move {
            let mut url = format!("{base}{path}");
            let mut items = Vec::new();
            loop {
                let page: serde_json::Value = http
                    .get(&url)
                    .bearer_auth(roster_e2e::api_key())
                    .send()
                    .await
                    .unwrap()
                    .error_for_status()
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                items.extend(page["data"].as_array().unwrap().iter().cloned());
                match page["links"]["next"]["href"].as_str() {
                    Some(next) if next.starts_with("http") => url = next.to_owned(),
                    Some(next) => url = format!("{base}{next}"),
                    None => return items,
                }
            }
        }
    };
    runtime.block_on(async {
        let mut state = State::new();
        for space in pages("/api/v1/spaces?limit=100".to_owned()).await {
            let id = space["id"].as_str().unwrap().to_owned();
            for a in pages(format!("/api/v1/spaces/{id}/assignments?limit=100")).await {
                let mut roles: Vec<String> = a["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_owned())
                    .collect();
                roles.sort();
                state.insert((id.clone(), a["assigneeId"].as_str().unwrap().to_owned()), roles);
            }
        }
        state
    })
}

fn undo(world: &World, id: &str, extra: &[&str]) -> roster_e2e::Run {
    let mut args = vec!["undo", id, "--to", "sim"];
    args.extend_from_slice(extra);
    world.run(&args)
}

#[test]
fn a_runs_changes_are_undone_exactly_and_the_undo_can_be_undone() {
    let world = world();
    let before: State = world.state();
    let before_api = state_through_api(&world);
    assert_eq!(before_api, before, "the API shows the tenant's assignments");
    let id = apply_exact(&world);
    let after = world.state();
    assert_ne!(before, after);
    assert_eq!(state_through_api(&world), after);

    // The run is listed with its file, digest, mode, state and counts.
    let listed = runs(&world);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let run = &listed[0];
    assert_eq!(run["command"], "apply");
    assert!(run["file"].as_str().unwrap().ends_with("roster.csv"));
    assert_eq!(run["file_digest"].as_str().unwrap().len(), 64);
    assert_eq!(run["mode"], "exact");
    assert_eq!(run["state"], "ended");
    assert_eq!(run["counts"]["created"], 3);
    assert_eq!(run["counts"]["updated"], 1);
    assert_eq!(run["counts"]["deleted"], 2);
    let text = world.run(&["runs", "--to", "sim"]);
    assert!(
        text.stdout.contains(&id) && text.stdout.contains("created 3, updated 1"),
        "{}",
        text.stdout
    );

    // `runs show` lists the rows, filtered by outcome and space.
    let shown = world.run(&["runs", "show", &id[..8], "--json", "--outcome", "deleted"]);
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    let doc: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["outcome"] == "deleted" && r["before"]["roles"].is_array())
    );
    let shown = world.run(&["runs", "show", &id, "--space", "Space 1"]);
    assert!(
        shown.stdout.contains("Group 0") && !shown.stdout.contains("user2@"),
        "{}",
        shown.stdout
    );

    // Without a terminal, --yes is required, and nothing is sent without it.
    let writes = world.writes().len();
    let refused = undo(&world, &id, &[]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    assert_eq!(world.writes().len(), writes);

    let undone = undo(&world, &id, &["--yes"]);
    assert_eq!(undone.code, Some(0), "{}\n{}", undone.stdout, undone.stderr);
    // The plan is shown in plan's diff format before the writes.
    assert!(undone.stdout.contains("undo of run"), "{}", undone.stdout);
    assert!(
        undone.stdout.contains("- user") || undone.stdout.contains("-"),
        "{}",
        undone.stdout
    );
    assert_eq!(world.state(), before, "the tenant is as it was before the run");
    assert_eq!(
        state_through_api(&world),
        before_api,
        "read through the API, the tenant is as it was before the run"
    );

    // The undo is a run of its own, and undoing it gives the run's result back.
    let listed = runs(&world);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1]["command"], "undo");
    assert_eq!(listed[1]["undoes"], id.as_str());
    let undo_id = listed[1]["id"].as_str().unwrap().to_owned();
    let redone = undo(&world, &undo_id, &["--yes"]);
    assert_eq!(redone.code, Some(0), "{}\n{}", redone.stdout, redone.stderr);
    assert_eq!(
        world.state(),
        after,
        "undoing the undo gives the run's result back"
    );
    assert_eq!(state_through_api(&world), after);
}

#[test]
fn a_row_changed_since_the_run_is_a_conflict_left_alone_unless_forced() {
    let world = world();
    let before = world.state();
    let id = apply_exact(&world);
    // Later work: user2's roles change after the run.
    world.write(
        "later.csv",
        "space,type,assignee,roles\nSpace 0,user,user2@example.com,producer\n",
    );
    let later = world.apply("later.csv", &["--mode", "exact"]);
    assert_eq!(later.code, Some(0), "{}", later.stderr);
    let key = ("s0".to_owned(), "u2".to_owned());
    assert_eq!(world.state()[&key], vec!["producer".to_owned()]);

    let undone = undo(&world, &id, &["--yes"]);
    assert_eq!(undone.code, Some(1), "{}\n{}", undone.stdout, undone.stderr);
    assert!(undone.stdout.contains("conflict"), "{}", undone.stdout);
    assert!(
        undone.stderr.contains("1 row changed since run"),
        "{}",
        undone.stderr
    );
    // The later change stands; everything else is as before the run.
    let mut expected = before.clone();
    expected.insert(key.clone(), vec!["producer".to_owned()]);
    assert_eq!(world.state(), expected);
    assert_eq!(state_through_api(&world), expected);
    // The conflict is in the undo's failed-rows CSV with its reason.
    let failed = world.read(&format!(".roster/undo-{id}.failed.csv"));
    assert!(failed.contains("conflict") && failed.contains("u2"), "{failed}");

    // --force undoes it anyway.
    let forced = undo(&world, &id, &["--yes", "--force"]);
    assert_eq!(forced.code, Some(0), "{}\n{}", forced.stdout, forced.stderr);
    assert_eq!(world.state(), before);
    assert_eq!(state_through_api(&world), before);
}

#[test]
fn a_sigkilled_run_holds_the_before_state_of_every_change_the_tenant_received() {
    let mut t = tenant(60, 3, 0);
    for i in 0..30 {
        assign(
            &mut t,
            &format!("s{}", i % 3),
            AssigneeType::User,
            &format!("u{i}"),
            &["consumer"],
        );
    }
    // Slow writes: the kill comes in the middle of the run.
    let world = World::start(
        t,
        Limits {
            tier1: None,
            tier2: Some(1200),
        },
    );
    let before = world.state();
    let mut roster = String::from("space,type,assignee,roles\n");
    for i in 0..60 {
        roster.push_str(&format!("Space {},user,user{i}@example.com,producer\n", i % 3));
    }
    world.write("roster.csv", &roster);
    let child = world.spawn_apply("roster.csv", &[]);
    wait_for("some writes", Duration::from_secs(20), || {
        world.writes().len() >= 12
    });
    let mut child = child;
    child.kill().expect("SIGKILL");
    let killed = wait_child(child, Duration::from_secs(10));
    assert_eq!(killed.code, None, "killed by the signal: {}", killed.stderr);
    let changed: BTreeSet<(String, String)> = world
        .writes()
        .iter()
        .map(|w| (w.space_id.clone(), w.assignee_id.clone()))
        .collect();
    assert!(changed.len() < 60, "the kill came before the end");

    let listed = runs(&world);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "interrupted");
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let journal = world.read(".roster/journal-sim.jsonl");
    let befores: BTreeMap<(String, String), serde_json::Value> = journal
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("before").cloned())
        .map(|b| {
            (
                (
                    b["space_id"].as_str().unwrap().to_owned(),
                    b["assignee_id"].as_str().unwrap().to_owned(),
                ),
                b,
            )
        })
        .collect();
    for key in &changed {
        let b = befores
            .get(key)
            .unwrap_or_else(|| panic!("no before-state for {key:?}, which the tenant received"));
        let was = before.get(key);
        match was {
            Some(roles) => assert_eq!(
                b["roles"],
                serde_json::json!(roles),
                "the recorded roles before are the tenant's"
            ),
            None => assert!(b["roles"].is_null()),
        }
    }

    // Undoing the interrupted run itself is allowed: it puts the tenant back as it was before
    // the run, and closes the run, which is never resumed.
    let undone = undo(&world, &id, &["--yes"]);
    assert_eq!(undone.code, Some(0), "{}\n{}", undone.stdout, undone.stderr);
    assert!(
        undone
            .stderr
            .contains(&format!("run {id} was interrupted; undoing it closes it")),
        "{}",
        undone.stderr
    );
    assert_eq!(world.state(), before);
    assert_eq!(state_through_api(&world), before);
    let listed = runs(&world);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["state"], "interrupted");
    assert_eq!(listed[1]["undoes"], id.as_str());
    assert_eq!(listed[1]["state"], "ended");
    // Its roster applied again is a new run of every row, not a resume of the undone one.
    let writes = world.writes().len();
    let again = world.apply("roster.csv", &[]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(!again.stderr.contains("resuming"), "{}", again.stderr);
    assert_eq!(world.writes().len() - writes, 60);
}

/// Remove the journal's `end` marker: what a run killed after its last record looks like.
fn cut_the_end(world: &World) {
    let path = world.path(".roster/journal-sim.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| !l.starts_with("{\"end\":"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(kept, text, "the run had ended");
    std::fs::write(&path, kept).unwrap();
}

#[test]
fn an_undo_refuses_while_another_run_is_interrupted_and_names_how_to_finish_it() {
    let world = world();
    let before = world.state();
    let id = apply_exact(&world);
    // A later run adds two users to Space 1, and is cut off after its last record.
    world.write(
        "more.csv",
        "space,type,assignee,roles\nSpace 1,user,user6@example.com,consumer\nSpace 1,user,user7@example.com,consumer\n",
    );
    let more = world.apply("more.csv", &[]);
    assert_eq!(more.code, Some(0), "{}", more.stderr);
    cut_the_end(&world);
    let open = last_run_id(&world);
    let journal = world.read(".roster/journal-sim.jsonl");

    let requests = world.requests().len();
    let refused = undo(&world, &id, &["--yes"]);
    assert_eq!(refused.code, Some(2), "{}\n{}", refused.stdout, refused.stderr);
    refused.assert_no_panic();
    assert!(
        refused.stderr.contains(&format!("holds run {open}"))
            && refused.stderr.contains("interrupted")
            && refused.stderr.contains("nothing was sent"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("`roster apply more.csv --to sim`") && refused.stderr.contains("--fresh"),
        "the hint names the command that resumes it, and --fresh: {}",
        refused.stderr
    );
    assert_eq!(world.requests().len(), requests, "nothing was sent, nothing read");
    assert_eq!(
        world.read(".roster/journal-sim.jsonl"),
        journal,
        "the interrupted run is still the journal's, to resume"
    );

    // The command the hint names resumes it; then the undo runs.
    let resumed = world.apply("more.csv", &[]);
    assert_eq!(resumed.code, Some(0), "{}", resumed.stderr);
    assert!(resumed.stderr.contains("resuming"), "{}", resumed.stderr);
    let undone = undo(&world, &id, &["--yes"]);
    assert_eq!(undone.code, Some(0), "{}\n{}", undone.stdout, undone.stderr);
    let mut expected = before.clone();
    for u in ["u6", "u7"] {
        expected.insert(("s1".to_owned(), u.to_owned()), vec!["consumer".to_owned()]);
    }
    assert_eq!(state_through_api(&world), expected, "the later run's work stands");

    // An interrupted undo is finished by the same undo, which needs no --fresh.
    cut_the_end(&world);
    let finished = undo(&world, &id, &["--yes"]);
    assert_eq!(finished.code, Some(0), "{}\n{}", finished.stdout, finished.stderr);
    assert!(
        finished.stderr.contains("finishing the interrupted undo"),
        "{}",
        finished.stderr
    );
    assert_eq!(state_through_api(&world), expected);

    // --fresh leaves another interrupted run unfinished in the history and undoes anyway.
    let more_id = runs(&world)
        .iter()
        .find(|r| r["file"].as_str().is_some_and(|f| f.ends_with("more.csv")))
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .unwrap();
    world.write(
        "other.csv",
        "space,type,assignee,roles\nSpace 0,user,user4@example.com,consumer\n",
    );
    let other = world.apply("other.csv", &["--mode", "exact"]);
    assert_eq!(other.code, Some(0), "{}", other.stderr);
    cut_the_end(&world);
    let refused = undo(&world, &more_id, &["--yes"]);
    assert_eq!(refused.code, Some(2), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("`roster apply other.csv --to sim --mode exact`"),
        "{}",
        refused.stderr
    );
    let fresh = undo(&world, &more_id, &["--yes", "--fresh"]);
    assert_eq!(fresh.code, Some(0), "{}\n{}", fresh.stdout, fresh.stderr);
    let now = state_through_api(&world);
    assert!(!now.contains_key(&("s1".to_owned(), "u6".to_owned())), "{now:?}");
    assert!(now.contains_key(&("s0".to_owned(), "u4".to_owned())), "{now:?}");
    let listed = runs(&world);
    let other = listed
        .iter()
        .find(|r| r["file"].as_str().is_some_and(|f| f.ends_with("other.csv")))
        .unwrap();
    assert_eq!(other["state"], "interrupted", "kept in the history: {listed:?}");
}

#[test]
fn undo_json_is_one_stream_of_typed_records() {
    let world = world();
    let id = apply_exact(&world);
    let undone = undo(&world, &id, &["--yes", "--json"]);
    assert_eq!(undone.code, Some(0), "{}\n{}", undone.stdout, undone.stderr);
    // Every line of stdout is one JSON object with an `event`.
    let records = undone.json_lines();
    assert_eq!(records.len(), undone.stdout.lines().count(), "{}", undone.stdout);
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["event"].as_str().unwrap_or_else(|| panic!("no event in {r}")))
        .collect();
    // First the plan, as `roster plan --json` writes it, typed and versioned.
    let plan = &records[0];
    assert_eq!(kinds[0], "plan");
    assert_eq!(plan["undoes"], id.as_str());
    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["target"], "sim");
    let items = plan["items"].as_array().unwrap();
    assert_eq!(items.len(), 6, "{plan}");
    let ops = |op: &str| items.iter().filter(|i| i["op"] == op).count();
    // The run created 3, updated 1 and deleted 2: the undo deletes 3, restores 1, creates 2.
    assert_eq!((ops("-"), ops("~"), ops("+")), (3, 1, 2), "{plan}");
    assert_eq!(plan["counts"]["delete"], 3);
    // Then the run's events, as `apply --json` writes them.
    assert_eq!(kinds[1], "started");
    assert_eq!(records[1]["format_version"], 1);
    assert_eq!(kinds.last(), Some(&"finished"));
    assert_eq!(kinds.iter().filter(|k| **k == "plan").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "row_finished").count(), 6);
    let last = records.last().unwrap();
    assert_eq!(last["totals"]["deleted"], 3);
    assert_eq!(last["totals"]["created"], 2);
    assert_eq!(last["totals"]["updated"], 1);
    assert!(!undone.stdout.contains("undo of run"), "no text on stdout");
}

/// The figures of a summary's lines: `  created    12` and `writes: 7 ...; 429 responses: 2`.
fn summary_figures(stderr: &str) -> Vec<(String, String)> {
    let mut figures = Vec::new();
    for line in stderr.lines() {
        if let Some((rows, time)) = line
            .strip_prefix("done: ")
            .and_then(|rest| rest.split_once(" rows in "))
        {
            figures.push(("rows".to_owned(), rows.to_owned()));
            figures.push(("time".to_owned(), time.trim().to_owned()));
        }
        if let Some(limit) = line
            .split_once("(limit ")
            .and_then(|(_, rest)| rest.split(&[')'][..]).next())
            .map(|limit| limit.split(", ").next().unwrap_or(limit))
        {
            figures.push(("write limit".to_owned(), limit.to_owned()));
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() == 2
            && ["created", "updated", "unchanged", "deleted", "failed"].contains(&words[0])
            && line.starts_with("  ")
        {
            figures.push((words[0].to_owned(), words[1].to_owned()));
        }
        if let Some(rest) = line.strip_prefix("writes: ") {
            let n = rest.split_whitespace().next().unwrap_or("").trim_end_matches(';');
            figures.push(("writes".to_owned(), n.to_owned()));
            let throttled = rest.rsplit("429 responses: ").next().unwrap_or("").trim();
            figures.push(("429 responses".to_owned(), throttled.to_owned()));
        }
    }
    figures
}

/// A run with throttling and failed rows, and its report.
fn reported_world() -> (World, String, roster_e2e::Run) {
    let t = tenant(30, 2, 0);
    // The tenant allows fewer writes than the client sends: 429s.
    let mut config = sim::SimConfig::new(t);
    config.tier2_per_min = Some(600);
    let world = World::with_config(
        config,
        Limits {
            tier1: None,
            tier2: Some(6000),
        },
    );
    let mut roster = String::from("space,type,assignee,roles\n");
    for i in 0..24 {
        roster.push_str(&format!("Space {},user,user{i}@example.com,consumer\n", i % 2));
    }
    roster.push_str(
        "Space 0,user,nobody@example.com,consumer\nNo Such Space,user,user1@example.com,consumer\n",
    );
    world.write("roster.csv", &roster);
    let run = world.apply("roster.csv", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let id = last_run_id(&world);
    let shown = world.run(&["runs", "show", &id, "--html", "report.html"]);
    assert_eq!(shown.code, Some(0), "{}", shown.stderr);
    (world, id, run)
}

#[test]
fn the_html_report_holds_the_figures_the_summary_printed() {
    let (world, _id, run) = reported_world();
    let html = world.read("report.html");
    let figures = summary_figures(&run.stderr);
    let names: BTreeSet<&str> = figures.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "rows",
        "time",
        "write limit",
        "created",
        "failed",
        "writes",
        "429 responses",
    ] {
        assert!(names.contains(name), "{name} in {figures:?} from {}", run.stderr);
    }
    assert!(
        figures.iter().any(|(n, v)| n == "429 responses" && v != "0"),
        "{}",
        run.stderr
    );
    for (name, value) in &figures {
        let cell = format!("<th>{name}</th><td class=\"n\">{value}</td>");
        assert!(html.contains(&cell), "{cell} missing from the report");
    }
    // Self-contained: nothing is fetched from anywhere.
    for fetch in ["src=", "<link", "<script", "@import", "url("] {
        assert!(!html.contains(fetch), "the report fetches nothing ({fetch})");
    }
    assert!(html.contains("<svg"), "the chart is inline SVG");
    assert!(html.contains("nobody@example.com") && html.contains("unknown_user"));
    assert!(html.contains("Space 0") && html.contains("Space 1"));
}

/// The browser on this machine, if any.
fn chromium() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}

#[test]
fn the_html_report_renders_in_a_headless_browser() {
    let Some(browser) = chromium() else {
        eprintln!(
            "SKIPPED: no chromium installed (apt-get install chromium); the report was not opened in a browser"
        );
        return;
    };
    let (world, _id, run) = reported_world();
    let report = world.path("report.html");
    let url = format!("file://{}", report.display());
    let profile = world.path("chromium-profile");
    let base = |extra: &[&str]| {
        let mut command = std::process::Command::new(&browser);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(&url)
            .stdin(std::process::Stdio::null());
        command
    };
    let dom = base(&["--dump-dom"]).output().expect("run chromium");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains("id=\"outcomes\""),
        "the browser rendered the page: {dom}"
    );
    for (name, value) in summary_figures(&run.stderr) {
        assert!(
            dom.contains(&format!("<th>{name}</th><td class=\"n\">{value}</td>")),
            "{name} {value} in the rendered page"
        );
    }
    assert!(dom.contains("<svg"));
    let shot = world.path("report.png");
    let status = base(&[
        &format!("--screenshot={}", shot.display()),
        "--window-size=1200,1600",
    ])
    .output()
    .expect("run chromium");
    assert!(
        shot.is_file() && std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0) > 10_000,
        "a screenshot of the rendered report: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn an_alumio_plan_says_which_rows_cannot_be_undone_and_why() {
    use sim::{AlumioApiKey, AlumioMember, AlumioSpace, AlumioTenant, AlumioUser, SimConfig};
    const KEY_VAR: &str = "ROSTER_E2E_ALUMIO_KEY";
    const KEY: &str = "alumio-e2e-key";
    let mut t = tenant(0, 0, 0);
    t.alumio = AlumioTenant {
        api_keys: vec![AlumioApiKey {
            id: "e2e".into(),
            key: KEY.into(),
        }],
        users: (0..4)
            .map(|i| AlumioUser {
                email: format!("user{i}@example.com"),
                name: String::new(),
            })
            .collect(),
        spaces: vec![AlumioSpace {
            identifier: "space-0".into(),
            name: "Space 0".into(),
            description: String::new(),
        }],
        members: vec![AlumioMember {
            space: "space-0".into(),
            email: "user0@example.com".into(),
            roles: vec!["ROLE_USER".into()],
        }],
    };
    let mut config = SimConfig::new(t);
    config.alumio.reads_per_min = None;
    config.alumio.writes_per_min = None;
    let world = World::with_config(config, Limits::NONE);
    world.write(
        "roster.toml",
        &format!(
            "[targets.al]\nkind = \"alumio\"\nserver = \"{}\"\napi_key_env = \"{KEY_VAR}\"\n\
             tier1_per_min = 0\ntier2_per_min = 0\n",
            world.sim.alumio_base_url()
        ),
    );
    let members = || {
        let mut m: Vec<(String, Vec<String>)> = world
            .sim
            .alumio_members()
            .into_iter()
            .map(|m| (m.email, m.roles))
            .collect();
        m.sort();
        m
    };
    let before = members();
    world.write(
        "roster.csv",
        "space,type,assignee,roles\nspace-0,user,user0@example.com,editor\nspace-0,user,user1@example.com,viewer\n",
    );
    let run_with_key = |args: &[&str]| {
        let output = world
            .command(args)
            .env(KEY_VAR, KEY)
            .output()
            .expect("run roster");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, _, err) = run_with_key(&["apply", "roster.csv", "--to", "al", "--mode", "exact"]);
    assert_eq!(code, Some(0), "{err}");
    let (_, listed, _) = run_with_key(&["runs", "--to", "al", "--json"]);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();

    let (code, out, err) = run_with_key(&["undo", &id, "--to", "al", "--yes"]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    // The member it added stays, and the plan says why; the changed role is restored.
    let cannot: Vec<&str> = out.lines().filter(|l| l.contains("cannot be undone")).collect();
    assert_eq!(cannot.len(), 1, "{out}");
    assert!(
        cannot[0].contains("user1@example.com") && cannot[0].contains("removes a member"),
        "{out}"
    );
    let now = members();
    assert_eq!(
        now.iter().find(|m| m.0 == "user0@example.com"),
        before.first(),
        "{now:?}"
    );
    assert!(now.iter().any(|m| m.0 == "user1@example.com"));
}
