//! `roster migrate`: read the source's assignments, map them onto the target, and plan and apply
//! them with the same journal, resume, failed rows and progress as `roster apply`.
//!
//! The mapped roster is written to the state directory (`migrate-FROM-to-TO.csv`) and read back
//! with the roster reader, so its rows, keys and failed-rows CSV are those of any roster; the
//! rows that could not be mapped are marked as errors in the plan before anything is sent.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

use core_api::Tier;
use core_api::target::{AssigneeKind, Target, TargetKind, UserInfo};

use super::job::{Job, journal_error, run_rows};
use super::steps::{plan_rows, print_warnings, read_failed, runtime, select_spaces, write_plan};
use crate::cli::MigrateArgs;
use crate::error::{CommandError, Outcome};
use crate::exit;
use crate::report::{self, OutputMode, ResolveProgress};
use crate::settings::{self, MigrateSettings as Resolved, ProcessEnvironment};
use crate::vendor::build_target;
use engine::export::{self, People, SpaceExport};
use engine::migrate::mapping::{self, Mapped, Source, TargetView};
use engine::model::{Action, Plan, RowError};
use engine::plan::prune;
use engine::roster;

/// Runs `roster migrate`: the exit codes of `roster apply`; with `--plan`, those of `roster plan`.
pub fn run(args: MigrateArgs) -> Outcome {
    let resolved = settings::load(&args, &ProcessEnvironment)?;
    print_warnings(&resolved.warnings);
    let runtime = runtime()?;
    runtime.block_on(migrate(&args, resolved))
}

async fn migrate(args: &MigrateArgs, r: Resolved) -> Outcome {
    let mut stderr = io::stderr();
    let mode = OutputMode::detect(args.output.quiet, args.output.json).for_verbosity(args.output.verbose);
    let verbose = args.output.verbose;
    let source = build_target(&r.from, report::requests::observer(verbose, None))?;
    let target = build_target(
        &r.to,
        report::requests::observer(verbose, Some(engine::exec::observer())),
    )?;

    // One run at a time per journal: taken before the first request, and held through the
    // creates and the writes (the mapped roster in the state directory is this run's too).
    let lock = if args.plan {
        None
    } else {
        let journal_path = engine::journal::path_for(&r.apply.state_dir, &r.to.name);
        Some(engine::journal::RunLock::acquire(&journal_path).map_err(journal_error)?)
    };

    // Read both sides (reads only).
    let progress = ResolveProgress::new(&mode, args.output.verbose > 0);
    let read = read_both(args, &r, source.as_ref(), target.as_ref(), &progress).await;
    progress.finish();
    let (source_view, target_view) = read?;
    let mut mapped = mapping::map(&source_view, &target_view, &r.options, &r.to.name);
    let text = mapping::report(&mapped, &r.from.name, &r.to.name, source_view.spaces.len());
    if args.plan {
        let mut stdout = io::stdout().lock();
        if !args.output.json {
            let _ = writeln!(stdout, "{text}");
        }
    } else if !args.output.quiet {
        let _ = write!(stderr, "{text}");
    }

    // Create what is missing (never with --plan): spaces, then groups.
    if !args.plan {
        create_missing(target.as_ref(), &mut mapped, &mut stderr).await;
    }

    // The mapped roster, written and read back like any roster.
    write_generated(&mapped, &r.generated).map_err(|error| {
        CommandError::new(format!(
            "cannot write the mapped roster {}",
            r.generated.display()
        ))
        .caused_by(error)
    })?;
    if !args.output.quiet && !args.plan {
        let _ = writeln!(stderr, "mapped roster: {}", r.generated.display());
    }
    let roster =
        roster::read_roster(&r.generated, r.to.kind).map_err(|error| CommandError::new(error.to_string()))?;
    let mut overrides: HashMap<u64, RowError> = HashMap::new();
    for (parsed, row) in roster.rows.iter().zip(&mapped.rows) {
        if let Some((code, message)) = &row.problem {
            overrides.insert(
                parsed.line,
                RowError {
                    code: code.clone(),
                    http_status: None,
                    message: message.clone(),
                    attempts: 0,
                },
            );
        }
    }
    let pending_spaces: HashSet<String> = if args.plan {
        mapped.new_spaces.iter().map(|s| s.name.clone()).collect()
    } else {
        HashSet::new()
    };
    let pending_groups: HashSet<String> = if args.plan {
        mapped.new_groups.iter().cloned().collect()
    } else {
        HashSet::new()
    };
    let caps = target.capabilities();
    let limit = r.to.limits.for_tier(Tier::Tier2);
    let limit = (limit > 0).then_some(limit);
    let adjust = move |plan: &mut Plan| {
        for item in &mut plan.items {
            if let Some(error) = overrides.get(&item.line) {
                item.action = Action::Error(error.clone());
                continue;
            }
            // --plan: what creating the missing spaces and groups would allow.
            let code = match &item.action {
                Action::Error(e) => e.code.as_str(),
                _ => continue,
            };
            let pending = match code {
                "unknown_space" => pending_spaces.contains(report::diff::space_label(item)),
                "unknown_group" => {
                    item.assignee_kind == AssigneeKind::Group
                        && pending_groups.contains(report::diff::assignee_label(item))
                }
                _ => false,
            };
            if pending {
                item.action = Action::Create {
                    roles: item.roles.clone(),
                };
            }
        }
        prune::recount(plan, &caps, limit);
    };

    if args.plan {
        let mut plan = plan_rows(&r.apply.plan, &mode, target.as_ref(), roster.rows)
            .await?
            .plan;
        adjust(&mut plan);
        write_plan(&plan, args.output.json, mode.color_stdout)?;
        return Ok(if plan.counts.error > 0 {
            exit::ROWS_FAILED
        } else {
            exit::OK
        });
    }

    let rerun_args = rerun_args(args, &r);
    let job = Job {
        settings: &r.apply,
        rerun_args,
        max_deletes: None,
        adjust: Some(&adjust),
        lock,
        command: "migrate",
        run_id: None,
    };
    run_rows(job, roster.rows, target).await
}

/// Read the source's selected spaces, its directories and (for targets without groups) the
/// members of its assigned groups; then the target's spaces and directories.
async fn read_both(
    args: &MigrateArgs,
    r: &Resolved,
    source: &dyn Target,
    target: &dyn Target,
    progress: &ResolveProgress,
) -> Result<(Source, TargetView), CommandError> {
    let spaces = select_spaces(source, &r.from, &args.selection, progress, "source spaces").await?;
    progress.phase("source users and groups", 0, 1);
    let people = People::read(source).await.map_err(|e| {
        read_failed(
            format!("failed to list the users and groups of {}", r.from.name),
            &e,
            &r.from,
        )
    })?;
    progress.phase("source users and groups", 1, 1);
    let total = spaces.len() as u64;
    let mut exports: Vec<SpaceExport> = Vec::with_capacity(spaces.len());
    progress.phase("source assignments", 0, total);
    export::read_spaces(source, spaces, &people, r.from.concurrency, |space| {
        exports.push(space);
        progress.phase("source assignments", exports.len() as u64, total);
        Ok(())
    })
    .await
    .map_err(|e| {
        let hint = crate::hint::in_export(&e).and_then(|client| crate::hint::for_error(client, &r.from));
        CommandError::new(format!("failed to read {}", r.from.name))
            .caused_by(e)
            .maybe_hint(hint)
    })?;

    let caps = target.capabilities();
    let mut members: HashMap<String, Vec<UserInfo>> = HashMap::new();
    if !caps.groups {
        let groups: Vec<String> = exports
            .iter()
            .flat_map(|e| &e.assignments)
            .filter(|a| a.kind == AssigneeKind::Group)
            .map(|a| a.assignee_id.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let total = groups.len() as u64;
        progress.phase("group members", 0, total);
        for id in groups {
            let Some(group) = people.groups.get(&id) else {
                continue;
            };
            let list = source.list_group_members(group).await.map_err(|e| {
                read_failed(
                    format!("failed to list the members of group {:?}", group.name),
                    &e,
                    &r.from,
                )
            })?;
            members.insert(id, list);
            progress.phase("group members", members.len() as u64, total);
        }
    }

    progress.phase("target spaces, users and groups", 0, 1);
    let (spaces, users, groups) = futures::join!(
        target.list_spaces(),
        async {
            if target.kind() == TargetKind::Qlik {
                target.list_users().await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if caps.groups {
                target.list_groups().await
            } else {
                Ok(Vec::new())
            }
        }
    );
    let read_err = |e: core_api::Error| read_failed(format!("failed to read {}", r.to.name), &e, &r.to);
    let view = TargetView {
        kind: target.kind(),
        spaces: spaces.map_err(read_err)?,
        users: users.map_err(read_err)?,
        groups: groups.map_err(read_err)?,
        groups_supported: caps.groups,
    };
    progress.phase("target spaces, users and groups", 1, 1);
    Ok((
        Source {
            kind: source.kind(),
            spaces: exports,
            people,
            members,
        },
        view,
    ))
}

/// Create the spaces and groups the mapping asked for. A failed creation fails the rows that
/// needed it, with the tenant's reason.
async fn create_missing(target: &dyn Target, mapped: &mut Mapped, stderr: &mut impl Write) {
    let mut failed_spaces: HashMap<String, String> = HashMap::new();
    for space in &mapped.new_spaces {
        match target
            .create_space(&space.name, &space.space_type, space.description.as_deref())
            .await
        {
            Ok(_) => {
                let _ = writeln!(
                    stderr,
                    "created space {:?}{}",
                    space.name,
                    mapping::type_suffix(&space.space_type)
                );
            }
            Err(error) => {
                crate::error::print(
                    &CommandError::new(format!("failed to create space {:?}", space.name)).caused_by(&error),
                );
                failed_spaces.insert(space.name.clone(), error.to_string());
            }
        }
    }
    let mut failed_groups: HashMap<String, String> = HashMap::new();
    for group in &mapped.new_groups {
        match target.create_group(group).await {
            Ok(_) => {
                let _ = writeln!(stderr, "created group {group:?}");
            }
            Err(error) => {
                crate::error::print(
                    &CommandError::new(format!("failed to create group {group:?}")).caused_by(&error),
                );
                failed_groups.insert(group.clone(), error.to_string());
            }
        }
    }
    for row in &mut mapped.rows {
        if row.problem.is_some() {
            continue;
        }
        if let Some(error) = failed_spaces.get(&row.space) {
            row.problem = Some((
                "create_space".to_owned(),
                format!("could not create space {:?}: {error}", row.space),
            ));
        } else if row.kind == AssigneeKind::Group
            && let Some(error) = failed_groups.get(&row.assignee)
        {
            row.problem = Some((
                "create_group".to_owned(),
                format!("could not create group {:?}: {error}", row.assignee),
            ));
        }
    }
}

/// Write the mapped roster whole: a temporary file renamed into place.
fn write_generated(mapped: &Mapped, path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("csv.tmp");
    let mut file = io::BufWriter::new(std::fs::File::create(&tmp)?);
    mapping::write_csv(mapped, &mut file)?;
    let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// `--to T --config C --state-dir D`: an apply of the failed rows against the same target and
/// journal.
fn rerun_args(args: &MigrateArgs, r: &Resolved) -> Vec<String> {
    let mut run = vec!["--state-dir".to_owned(), r.apply.state_dir.display().to_string()];
    if r.apply.plan.mode == engine::model::Mode::Exact {
        run.extend(["--mode".to_owned(), "exact".to_owned()]);
    }
    settings::rerun_words(&args.target, &r.to.source, run)
}
