//! `roster plan` against the simulator: the right action per row, few lookups, no writes, and
//! malformed files refused before anything is sent.

use std::collections::BTreeMap;

use roster_e2e::{AssigneeType, Limits, SpaceType, World, assign, tenant, write_requests};

/// A tenant with existing assignments in a shared space (`Space 0`) and a managed one (`Space 1`).
fn tenant_with_assignments() -> roster_e2e::Tenant {
    let mut t = tenant(6, 2, 2);
    t.spaces[1].space_type = SpaceType::Managed;
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut t, "s0", AssigneeType::User, "u1", &["consumer", "producer"]);
    assign(&mut t, "s0", AssigneeType::Group, "g0", &["consumer"]);
    t
}

const MIXED: &str = "\
space,type,assignee,roles
Space 0,user,user0@example.com,consumer;producer
Space 0,user,USER1@example.com,Can view
Space 0,group,Group 0,consumer
Space 1,user,user2@example.com,consumer
Space 1,group,Group 1,contributor
Space 9,user,user3@example.com,consumer
Space 0,user,ghost@example.com,consumer
Space 0,group,Nobody,consumer
Space 1,user,user4@example.com,codeveloper
Space 0,user,owner@example.com,consumer
Space 0,user,user5@example.com,Can fly
";

#[test]
fn plan_over_existing_assignments_gives_each_row_its_action() {
    let world = World::start(tenant_with_assignments(), Limits::NONE);
    world.write("roster.csv", MIXED);
    let run = world.plan("roster.csv", &["--json"]);
    assert_eq!(
        run.code,
        Some(1),
        "rows with errors make exit code 1\n{}",
        run.stderr
    );
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let by_line: BTreeMap<u64, &serde_json::Value> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["line"].as_u64().unwrap(), i))
        .collect();
    let what = |line: u64| -> String {
        let item = by_line[&line];
        match item["action"].as_str().unwrap() {
            "error" => format!("error:{}", item["error"]["code"].as_str().unwrap()),
            other => other.to_owned(),
        }
    };
    let got: Vec<(u64, String)> = (2..=12).map(|l| (l, what(l))).collect();
    let want: Vec<(u64, String)> = [
        (2, "update"),
        (3, "unchanged"),
        (4, "unchanged"),
        (5, "create"),
        (6, "create"),
        (7, "error:unknown_space"),
        (8, "error:unknown_user"),
        (9, "error:unknown_group"),
        (10, "error:role_not_assignable"),
        (11, "error:space_owner"),
        (12, "error:invalid_row"),
    ]
    .into_iter()
    .map(|(l, w)| (l, w.to_owned()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(by_line[&2]["old_roles"], serde_json::json!(["consumer"]));
    assert_eq!(
        by_line[&2]["new_roles"],
        serde_json::json!(["consumer", "producer"])
    );
    assert_eq!(plan["counts"]["create"], 2);
    assert_eq!(plan["counts"]["update"], 1);
    assert_eq!(plan["counts"]["unchanged"], 2);
    assert_eq!(plan["counts"]["error"], 6);
    assert_eq!(plan["write_calls"], 3);
    assert!(
        write_requests(&world.requests()).is_empty(),
        "plan must not write"
    );

    // The text form says the same with markers, counts and the write budget.
    let text = world.plan("roster.csv", &[]);
    assert_eq!(text.code, Some(1));
    let out = &text.stdout;
    assert!(out.contains("~ user   user0@example.com"), "{out}");
    assert!(out.contains("+ group  Group 1"), "{out}");
    assert!(out.contains("= user   user1@example.com"), "{out}");
    assert!(out.contains("space \"Space 9\" not found"), "{out}");
    assert!(
        out.contains("2 to create, 1 to update, 2 unchanged, 6 errors"),
        "{out}"
    );
    assert!(out.contains("3 write calls"), "{out}");
    assert!(world.sim.write_log().is_empty());
}

#[test]
fn exact_mode_plans_the_removal_of_roles() {
    let world = World::start(tenant_with_assignments(), Limits::NONE);
    world.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user1@example.com,consumer\n",
    );
    let merge: serde_json::Value =
        serde_json::from_str(&world.plan("roster.csv", &["--json"]).stdout).unwrap();
    assert_eq!(merge["items"][0]["action"], "unchanged");
    let exact: serde_json::Value =
        serde_json::from_str(&world.plan("roster.csv", &["--json", "--mode", "exact"]).stdout).unwrap();
    assert_eq!(exact["items"][0]["action"], "update");
    assert_eq!(exact["items"][0]["new_roles"], serde_json::json!(["consumer"]));
}

#[test]
fn lookups_for_2000_rows_over_500_users_stay_within_directory_pages_plus_one_per_space() {
    let users = 520;
    let spaces = 10;
    let world = World::start(tenant(users, spaces, 0), Limits::NONE);
    let mut csv = String::from("space,type,assignee,roles\n");
    // 500 users, each in 4 of the 10 spaces: 2,000 rows.
    for u in 0..500 {
        for k in 0..4 {
            csv.push_str(&format!(
                "Space {},user,user{u}@example.com,consumer\n",
                (u + k * 3) % spaces
            ));
        }
    }
    world.write("roster.csv", &csv);
    let run = world.plan("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(plan["counts"]["create"], 2000);
    let reads = world.requests().len();
    // Directory pages at 100 a page (the owner is a user too), plus one listing per space.
    let user_pages = (users + 1).div_ceil(100);
    let space_pages = spaces.div_ceil(100);
    assert!(
        reads <= user_pages + space_pages + spaces,
        "{reads} requests for {user_pages} user pages, {space_pages} space pages and {spaces} spaces: {:#?}",
        world
            .requests()
            .iter()
            .map(|r| format!("{} {} {:?}", r.method, r.path, r.query))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_malformed_file_exits_2_listing_every_problem_and_sends_nothing() {
    let world = World::start(tenant(3, 1, 0), Limits::NONE);
    world.write(
        "bad.csv",
        "space,type,assignee\n\
         Space 0,user,user0@example.com,extra\n\
         Space 0,user\n\
         Space 0,user,\"user1@example.com\n",
    );
    let run = world.plan("bad.csv", &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("bad.csv"), "{}", run.stderr);
    assert!(
        run.stderr.contains("roles"),
        "the missing column is named: {}",
        run.stderr
    );
    assert!(
        world.requests().is_empty(),
        "nothing may be sent: {:?}",
        world.requests()
    );

    // Row problems beyond the first are listed too.
    world.write(
        "rows.csv",
        "space,type,assignee,roles\n\
         Space 0,user,user0@example.com\n\
         Space 0,user,user1@example.com,consumer,x\n\
         Space 0,user,user2@example.com,consumer\n\
         Space 0,\"user,user2@example.com,consumer\n",
    );
    let run = world.apply("rows.csv", &[]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    for line in [":2", ":3", ":5"] {
        assert!(
            run.stderr.contains(&format!("rows.csv{line}")),
            "line {line} is named: {}",
            run.stderr
        );
    }
    assert!(
        world.requests().is_empty(),
        "nothing may be sent: {:?}",
        world.requests()
    );
}

#[test]
fn a_qlik_cli_context_is_a_target() {
    let mut t = tenant(2, 1, 0);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    let world = World::start(t, Limits::NONE);
    std::fs::create_dir_all(world.path("home/.qlik")).unwrap();
    world.write(
        "home/.qlik/contexts.yml",
        &format!(
            "contexts:\n  e2e:\n    server: {}\n    server-type: cloud\n    headers:\n      \
             Authorization: Bearer {}\n    comment: \"\"\ncurrent-context: e2e\n",
            world.sim.base_url(),
            roster_e2e::api_key()
        ),
    );
    world.write(
        "roster.csv",
        "space,type,assignee,roles\nSpace 0,user,user0@example.com,consumer\nSpace 0,user,user1@example.com,consumer\n",
    );
    let output = world
        .command(&["plan", "roster.csv", "--to", "qlik:e2e", "--json"])
        .env("QLIK_CLI_USER_HOME_DIR", world.path("home"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(plan["target"], "qlik:e2e");
    assert_eq!(plan["counts"]["create"], 1);
    assert_eq!(plan["counts"]["unchanged"], 1);
    let requests = world.requests();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.status == 200),
        "authenticated with the context's key"
    );
    assert!(
        !stderr.contains(roster_e2e::api_key()),
        "the key is never printed"
    );
}

#[test]
fn invalid_rows_keep_the_space_type_and_assignee_they_give() {
    let world = World::start(tenant_with_assignments(), Limits::NONE);
    world.write(
        "roster.csv",
        "space,type,assignee,roles\n\
         Space 0,user,user0@example.com,consumer\n\
         Space 0,user,user5@example.com,Can fly\n\
         Space 1,grp,Group 1,consumer\n\
         Nowhere,user,not-an-email,consumer\n",
    );
    let run = world.plan("roster.csv", &["--json"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("plan JSON");
    let items = plan["items"].as_array().expect("items");
    let line = |n: u64| {
        items
            .iter()
            .find(|i| i["line"] == n)
            .unwrap_or_else(|| panic!("line {n} in {items:?}"))
    };
    assert_eq!(line(3)["space"], "Space 0");
    assert_eq!(line(3)["assignee"], "user5@example.com");
    assert_eq!(line(3)["assignee_kind"], "user");
    assert_eq!(line(4)["space"], "Space 1");
    assert_eq!(line(4)["assignee"], "Group 1");
    assert_eq!(line(4)["stated_type"], "grp");
    assert!(line(4).get("assignee_kind").is_none(), "{}", line(4));
    assert_eq!(line(5)["space"], "Nowhere");
    assert_eq!(line(5)["assignee"], "not-an-email");
    for n in 3..=5 {
        assert_eq!(line(n)["error"]["code"], "invalid_row", "{}", line(n));
    }

    let run = world.plan("roster.csv", &[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let text = &run.stdout;
    assert!(!text.contains("\n (not found)"), "{text}");
    assert!(!text.contains("Nowhere (not found)"), "never looked up: {text}");
    assert!(text.contains("\nNowhere\n"), "{text}");
    assert!(text.contains("! user   user5@example.com"), "{text}");
    assert!(text.contains("! grp    Group 1"), "{text}");
    assert!(text.contains("! user   not-an-email"), "{text}");
}
