//! `roster export` and `roster migrate` between two simulated tenants with different ids.

mod pair;

use std::collections::BTreeMap;
use std::time::Duration;

use pair::{Kind, Pair, by_name, rebrand};
use roster_e2e::{AssigneeType, Tenant, assign, tenant, wait_child, wait_for};

/// Tenant `a`: 6 users, 3 spaces, 2 groups, and a mix of user and group assignments.
fn source() -> Tenant {
    let mut t = tenant(6, 3, 2);
    assign(&mut t, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut t, "s0", AssigneeType::User, "u1", &["consumer", "producer"]);
    assign(&mut t, "s0", AssigneeType::Group, "g0", &["consumer"]);
    assign(&mut t, "s1", AssigneeType::User, "u2", &["facilitator"]);
    assign(&mut t, "s1", AssigneeType::Group, "g1", &["producer"]);
    assign(&mut t, "s2", AssigneeType::User, "u3", &["consumer"]);
    t.spaces[1].description = "the second space".to_owned();
    rebrand(t, "a-")
}

/// Tenant `b`: the same people (other ids), no spaces, no groups, no assignments.
fn empty_target() -> Tenant {
    let mut t = tenant(6, 0, 0);
    t.groups.clear();
    rebrand(t, "b-")
}

#[test]
fn export_then_migrate_to_an_empty_tenant_copies_by_name_and_a_second_migrate_writes_nothing() {
    let pair = Pair::start(source(), empty_target(), Kind::Qlik);

    // The export: a canonical roster with ids as references and owners as comments.
    let run = pair.run(&["export", "--from", "a", "-o", "a.csv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = pair.read("a.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("space,type,assignee,roles,space_id,assignee_id")
    );
    assert!(text.contains("# owner of Space 0: owner@example.com\n"), "{text}");
    assert!(
        text.contains("Space 0,user,user1@example.com,consumer;producer,a-s0,a-u1\n"),
        "{text}"
    );
    assert!(
        text.contains("Space 0,group,Group 0,consumer,a-s0,a-g0\n"),
        "{text}"
    );
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 7, "{text}");
    assert!(
        run.stderr.contains("exported 6 assignments of 3 spaces"),
        "{}",
        run.stderr
    );
    assert!(pair.a.write_log().is_empty(), "an export only reads");

    // Applied back to the same tenant it changes nothing.
    for extra in [&[][..], &["--prune", "--yes"][..]] {
        let mut args = vec!["apply", "a.csv", "--to", "a", "--mode", "exact", "--fresh"];
        args.extend_from_slice(extra);
        let run = pair.run(&args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(pair.a.write_log().is_empty(), "{:?}", pair.a.write_log());
    }

    // --plan writes nothing anywhere and shows what would be created.
    let run = pair.migrate(&["--create-missing-spaces", "--create-missing-groups", "--plan"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("+ space \"Space 1\" (shared) will be created"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+ group \"Group 0\" will be created"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("6 to create"), "{}", run.stdout);
    assert!(pair.b.write_log().is_empty());
    assert!(pair.b.tenant().spaces.is_empty() && pair.b.tenant().groups.is_empty());

    let run = pair.migrate(&["--create-missing-spaces", "--create-missing-groups"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(by_name(&pair.b), by_name(&pair.a));
    let b = pair.b.tenant();
    assert_eq!(b.spaces.len(), 3);
    let space1 = b.spaces.iter().find(|s| s.name == "Space 1").unwrap();
    assert_eq!(space1.description, "the second space");
    let group = b.groups.iter().find(|g| g.name == "Group 1").unwrap();
    assert_eq!(group.provider_type, "custom");
    assert!(b.spaces.iter().all(|s| !s.id.starts_with("a-")));

    // A second migrate: everything is in place, nothing is written or created.
    let writes = pair.b.write_log().len();
    let posts = pair.b.request_log().iter().filter(|r| r.method != "GET").count();
    for extra in [
        &["--create-missing-spaces", "--create-missing-groups"][..],
        &["--fresh"][..],
    ] {
        let run = pair.migrate(extra);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(pair.b.write_log().len(), writes);
        assert_eq!(
            pair.b.request_log().iter().filter(|r| r.method != "GET").count(),
            posts,
            "no write of any kind"
        );
    }
}

#[test]
fn missing_spaces_and_groups_are_created_only_with_the_flags() {
    let pair = Pair::start(source(), empty_target(), Kind::Qlik);
    let run = pair.migrate(&[]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(pair.b.tenant().spaces.is_empty());
    assert!(pair.b.write_log().is_empty());
    let failed = pair.read(".roster/migrate-a-to-b.failed.csv");
    assert_eq!(failed.matches("unmapped_space").count(), 6, "{failed}");
    assert!(
        run.stderr.contains("--create-missing-spaces creates it"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("roster apply .roster/migrate-a-to-b.failed.csv --to b"),
        "the summary names the rerun: {}",
        run.stderr
    );

    // Spaces only: the group rows fail, no group is created, the user rows land.
    let run = pair.migrate(&["--create-missing-spaces"]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let b = pair.b.tenant();
    assert_eq!(b.spaces.len(), 3);
    assert!(b.groups.is_empty());
    let failed = pair.read(".roster/migrate-a-to-b.failed.csv");
    assert_eq!(failed.matches("unmapped_group").count(), 2, "{failed}");
    let users: BTreeMap<_, _> = by_name(&pair.a)
        .into_iter()
        .filter(|(k, _)| k.1 == "user")
        .collect();
    assert_eq!(by_name(&pair.b), users);

    // Then groups too: only the group rows are left to do.
    let assignments = |log: &[sim::WriteRecord]| {
        log.iter()
            .filter(|w| w.resource == sim::WriteResource::Assignment)
            .count()
    };
    let writes = pair.b.write_log().len();
    let assigned = assignments(&pair.b.write_log());
    assert!(
        pair.b
            .write_log()
            .iter()
            .all(|w| w.resource != sim::WriteResource::Group),
        "no group was created without the flag"
    );
    let run = pair.migrate(&["--create-missing-groups"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Two assignment writes, after the group they need was created.
    let log = pair.b.write_log();
    assert_eq!(assignments(&log), assigned + 2, "{log:?}");
    assert!(
        log[writes..]
            .iter()
            .any(|w| w.resource == sim::WriteResource::Group && w.op == sim::WriteOp::Create),
        "{log:?}"
    );
    assert_eq!(by_name(&pair.b), by_name(&pair.a));
}

#[test]
fn identity_map_rename_and_unmapped_users() {
    let mut a = tenant(5, 2, 0);
    a.users[5].email = Some("legacy@old.example.com".to_owned()); // u4: mapped by the identity map
    assign(&mut a, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut a, "s0", AssigneeType::User, "u3", &["producer"]); // by subject
    assign(&mut a, "s0", AssigneeType::User, "u4", &["consumer"]);
    assign(&mut a, "s1", AssigneeType::User, "u1", &["consumer"]);
    assign(&mut a, "s1", AssigneeType::User, "u2", &["consumer"]); // not in b
    let a = rebrand(a, "a-");
    let mut b = tenant(4, 2, 0);
    b.users.retain(|u| u.id != "u2");
    b.users[3].email = Some("user3@new.example.com".to_owned()); // u3: same subject, new email
    for s in &mut b.spaces {
        s.name = format!("EU {}", s.name);
    }
    let b = rebrand(b, "b-");
    let pair = Pair::start(a, b, Kind::Qlik);
    pair.write(
        "people.csv",
        "source,target\nlegacy@old.example.com,user0@example.com\n",
    );
    let args = ["--space-rename", "EU *", "--identity-map", "people.csv"];

    let mut plan_args = args.to_vec();
    plan_args.push("--plan");
    let run = pair.migrate(&plan_args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.stdout.contains("1 by subject, 1 through the identity map"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "user2@example.com in \"Space 1\": unmapped_user: no user with email \"user2@example.com\""
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("EU Space 1 (shared)"), "{}", run.stdout);
    assert!(
        run.stdout.contains("! user   user2@example.com"),
        "{}",
        run.stdout
    );
    assert!(pair.b.write_log().is_empty());

    let run = pair.migrate(&args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let state = by_name(&pair.b);
    let key = |space: &str, who: &str| ("EU ".to_owned() + space, "user".to_owned(), who.to_owned());
    let roles = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let expected: BTreeMap<_, _> = [
        // user0 directly and legacy@ through the identity map: one assignment.
        (key("Space 0", "user0@example.com"), roles(&["consumer"])),
        (key("Space 0", "user3@new.example.com"), roles(&["producer"])),
        (key("Space 1", "user1@example.com"), roles(&["consumer"])),
    ]
    .into_iter()
    .collect();
    assert_eq!(state, expected);
    let failed = pair.read(".roster/migrate-a-to-b.failed.csv");
    assert_eq!(failed.lines().count(), 2, "{failed}");
    assert!(
        failed.contains("user2@example.com") && failed.contains("unmapped_user"),
        "{failed}"
    );
}

#[test]
fn qlik_to_alumio_expands_groups_to_their_members() {
    let mut a = tenant(4, 2, 1);
    assign(&mut a, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut a, "s0", AssigneeType::Group, "g0", &["producer"]);
    assign(&mut a, "s1", AssigneeType::User, "u3", &["facilitator"]);
    let a = rebrand(a, "a-");
    let mut b = tenant(0, 0, 0);
    b.alumio.api_keys.push(sim::AlumioApiKey {
        id: "e2e".into(),
        key: "alumio-e2e-key".into(),
    });
    for i in 0..4 {
        b.alumio.users.push(sim::AlumioUser {
            email: format!("user{i}@example.com"),
            name: format!("User {i}"),
        });
    }
    for i in 0..2 {
        b.alumio.spaces.push(sim::AlumioSpace {
            identifier: format!("space-{i}"),
            name: format!("Space {i}"),
            description: String::new(),
        });
    }
    let pair = Pair::start(a, b, Kind::Alumio);
    pair.a.set_group_members("a-g0", &["a-u0", "a-u1", "a-u2"]);

    let run = pair.migrate(&["--plan"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "space \"Space 0\": group \"Group 0\" expands to 3 users: user0@example.com, user1@example.com, user2@example.com"
        ),
        "{}",
        run.stdout
    );
    assert!(pair.b.alumio_members().is_empty());

    let run = pair.migrate(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let mut members: Vec<(String, String, Vec<String>)> = pair
        .b
        .alumio_members()
        .into_iter()
        .map(|m| {
            let mut roles = m.roles;
            roles.sort();
            (m.space, m.email, roles)
        })
        .collect();
    members.sort();
    let m = |space: &str, email: &str, roles: &[&str]| {
        (
            space.to_owned(),
            email.to_owned(),
            roles.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        members,
        vec![
            m("space-0", "user0@example.com", &["ROLE_EDITOR", "ROLE_USER"]),
            m("space-0", "user1@example.com", &["ROLE_EDITOR"]),
            m("space-0", "user2@example.com", &["ROLE_EDITOR"]),
            m("space-1", "user3@example.com", &["ROLE_ADMINISTRATOR"]),
        ]
    );
    let generated = pair.read(".roster/migrate-a-to-b.csv");
    assert!(generated.contains("via group Group 0"), "{generated}");
}

#[test]
fn a_killed_migrate_resumes() {
    let mut a = tenant(30, 2, 0);
    for u in 0..30 {
        assign(
            &mut a,
            &format!("s{}", u % 2),
            AssigneeType::User,
            &format!("u{u}"),
            &["consumer"],
        );
    }
    let mut b = tenant(30, 2, 0);
    b.groups.clear();
    let mut pair = Pair::start(rebrand(a, "a-"), rebrand(b, "b-"), Kind::Qlik);
    pair.pace_b(600);
    let child = pair.spawn(&["migrate", "--from", "a", "--to", "b"]);
    wait_for("some writes", Duration::from_secs(30), || {
        pair.b.write_log().len() >= 8
    });
    let mut child = child;
    child.kill().expect("SIGKILL");
    let _ = wait_child(child, Duration::from_secs(10));
    let done = pair.b.write_log().len();
    assert!(done < 30, "killed before the end ({done} writes)");

    pair.pace_b(0);
    let run = pair.migrate(&[]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.starts_with("resuming: ") || run.stderr.contains("\nresuming: "),
        "{}",
        run.stderr
    );
    assert_eq!(by_name(&pair.b), by_name(&pair.a));
    // No assignment was created twice beyond the writes in flight at the kill.
    let creates = pair.b.write_log().len();
    assert!(creates <= 30 + 8, "{creates} writes for 30 rows");
    let mut per: BTreeMap<String, usize> = BTreeMap::new();
    for w in pair.b.write_log() {
        *per.entry(format!("{}/{}", w.space_id, w.assignee_id))
            .or_default() += 1;
    }
    assert!(per.values().all(|n| *n == 1), "{per:?}");
}

#[test]
fn export_selects_spaces_by_name_id_and_type_and_refuses_unknown_ones() {
    let mut a = source();
    a.spaces[2].space_type = roster_e2e::SpaceType::Managed;
    a.spaces[2].assignable_roles = None;
    let pair = Pair::start(a, empty_target(), Kind::Qlik);

    let run = pair.run(&[
        "export", "--from", "a", "--space", "Space 0", "--space", "a-s2", "-o", "two.csv",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = pair.read("two.csv");
    let spaces: std::collections::BTreeSet<&str> = text
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(spaces.into_iter().collect::<Vec<_>>(), ["Space 0", "Space 2"]);

    let run = pair.run(&["export", "--from", "a", "--type", "managed", "-o", "managed.csv"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = pair.read("managed.csv");
    assert!(text.contains("Space 2,user,user3@example.com,consumer"), "{text}");
    assert!(!text.contains("Space 0"), "{text}");

    let run = pair.run(&["export", "--from", "a", "--space", "Nope", "-o", "nope.csv"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("no space named or with id \"Nope\""),
        "{}",
        run.stderr
    );
    assert!(!pair.path("nope.csv").exists());
    assert!(pair.a.write_log().is_empty());
}

#[test]
fn migrate_plan_names_spaces_to_create_without_a_type_flags_empty_groups_and_says_owners() {
    let mut a = tenant(2, 2, 1);
    assign(&mut a, "s0", AssigneeType::User, "u0", &["consumer"]);
    assign(&mut a, "s0", AssigneeType::Group, "g0", &["producer"]);
    assign(&mut a, "s1", AssigneeType::User, "u1", &["facilitator"]);
    let a = rebrand(a, "a-");
    let mut b = tenant(0, 0, 0);
    b.alumio.api_keys.push(sim::AlumioApiKey {
        id: "e2e".into(),
        key: "alumio-e2e-key".into(),
    });
    for i in 0..2 {
        b.alumio.users.push(sim::AlumioUser {
            email: format!("user{i}@example.com"),
            name: format!("User {i}"),
        });
    }
    let pair = Pair::start(a, b, Kind::Alumio);

    let run = pair.migrate(&["--create-missing-spaces", "--plan"]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    // Alumio spaces have no type: none is made up from the source's.
    assert!(out.contains("+ space \"Space 0\" will be created\n"), "{out}");
    assert!(!out.contains("(shared)") && !out.contains("(managed)"), "{out}");
    // The plan heads them as spaces to create, not as spaces that were looked for in vain.
    assert!(out.contains("\nSpace 0 (to be created)\n"), "{out}");
    assert!(out.contains("\nSpace 1 (to be created)\n"), "{out}");
    assert!(!out.contains("(not found)"), "{out}");
    // A group without members carries nobody over: said, not left silent.
    assert!(
        out.contains("! space \"Space 0\": group \"Group 0\" expands to no users"),
        "{out}"
    );
    // The source's owners are not assignments and are not copied: said.
    assert!(out.contains("space owners are not copied"), "{out}");
    assert!(out.contains("\"Space 0\": owner owner@example.com"), "{out}");
    assert!(out.contains("\"Space 1\": owner owner@example.com"), "{out}");
    assert!(pair.b.alumio_members().is_empty());
}
