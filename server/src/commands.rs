//! What each subcommand does. Errors are returned with a one-line reason for `main` to print.

use anyhow::{anyhow, bail, Context};
use sqlx::PgPool;
use std::io::{BufRead, IsTerminal, Write};

use crate::cli::{TokenCommand, UserCommand};
use app::audit::Actor;
use app::error::AppError;
use app::users::NewUser;
use app::{teams, tokens, users};

/// Turns a domain error into a one-line reason for the terminal.
pub fn reason(error: AppError) -> anyhow::Error {
    match error {
        AppError::Validation(fields) => anyhow!(
            "{}",
            fields
                .iter()
                .map(|f| format!("{}: {}", f.field.replace('_', "-"), f.message))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow!("{other}"),
    }
}

/// Reads one secret line from standard input, prompting (without echo) on a terminal.
pub fn read_secret(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let line = if stdin.is_terminal() {
        rpassword::prompt_password(prompt).context("cannot read the password from the terminal")?
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line
    };
    let secret = line.trim_end_matches(['\r', '\n']).to_owned();
    if secret.is_empty() {
        bail!("no password on standard input (pipe it in, e.g. `echo \"$PASSWORD\" | pareto user create ...`)");
    }
    Ok(secret)
}

pub async fn user(pool: &PgPool, command: UserCommand) -> anyhow::Result<()> {
    let actor = Actor::CommandLine;
    match command {
        UserCommand::Create { email, role, name } => {
            let display_name =
                name.unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
            // Check the fields before asking for the password, so a typo is reported first.
            NewUser::parse(
                &email,
                &display_name,
                "placeholder-long-enough",
                None,
                role.as_str(),
            )
            .map_err(reason)?;
            let password = read_secret("Password: ")?;
            let user = NewUser::parse(&email, &display_name, &password, None, role.as_str())
                .map_err(reason)?;
            let created = users::store::create(pool, &actor, user)
                .await
                .map_err(reason)?;
            println!(
                "created {} ({}) as {}",
                created.email, created.display_name, created.role
            );
        }
        UserCommand::SetRole { email, role } => {
            let user_id = users::store::id_by_email(pool, &email)
                .await
                .map_err(reason)?;
            let user = users::store::set_role(pool, &actor, user_id, role)
                .await
                .map_err(reason)?;
            println!("{} is now {}", user.email, user.role);
        }
        UserCommand::Disable { email } => {
            let user_id = users::store::id_by_email(pool, &email)
                .await
                .map_err(reason)?;
            let user = users::store::set_disabled(pool, &actor, user_id, true)
                .await
                .map_err(reason)?;
            println!("disabled {}; their sessions have ended", user.email);
        }
        UserCommand::Enable { email } => {
            let user_id = users::store::id_by_email(pool, &email)
                .await
                .map_err(reason)?;
            let user = users::store::set_disabled(pool, &actor, user_id, false)
                .await
                .map_err(reason)?;
            println!("enabled {}", user.email);
        }
        UserCommand::List => {
            let all = users::store::list(pool).await?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{:<32} {:<8} {:<9} TEAMS", "EMAIL", "ROLE", "STATUS")?;
            for user in all {
                let status = if user.disabled { "disabled" } else { "active" };
                writeln!(
                    out,
                    "{:<32} {:<8} {:<9} {}",
                    user.email,
                    user.role,
                    status,
                    user.teams.join(", ")
                )?;
            }
        }
    }
    Ok(())
}

pub async fn token(pool: &PgPool, command: TokenCommand) -> anyhow::Result<()> {
    let actor = Actor::CommandLine;
    match command {
        TokenCommand::Create { name, scopes, team } => {
            let (name, scopes) = tokens::parse_new_token(&name, &scopes).map_err(reason)?;
            let team_id = match team {
                Some(team) => Some(
                    teams::store::id_by_name(pool, &team)
                        .await
                        .map_err(reason)?,
                ),
                None => None,
            };
            let created = tokens::store::create(pool, &actor, &name, &scopes, team_id)
                .await
                .map_err(reason)?;
            eprintln!(
                "created token {} with scopes {}; it is shown once, store it now:",
                created.token.name,
                created
                    .token
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("{}", created.secret);
        }
        TokenCommand::Revoke { name } => {
            let id = tokens::store::id_by_name(pool, &name)
                .await
                .map_err(reason)?;
            tokens::store::revoke(pool, &actor, id)
                .await
                .map_err(reason)?;
            println!("revoked token {name}");
        }
        TokenCommand::List => {
            let all = tokens::store::list(pool).await?;
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{:<28} {:<20} {:<8} {:<20} TEAM",
                "NAME", "SCOPES", "STATUS", "LAST USED"
            )?;
            for token in all {
                let scopes = token
                    .scopes
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                let status = if token.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                let last_used = token.last_used_at.map_or_else(
                    || "never".to_owned(),
                    |t| t.format("%Y-%m-%d %H:%M").to_string(),
                );
                writeln!(
                    out,
                    "{:<28} {:<20} {:<8} {:<20} {}",
                    token.name,
                    scopes,
                    status,
                    last_used,
                    token.team.unwrap_or_default()
                )?;
            }
        }
    }
    Ok(())
}

pub async fn bills(pool: &PgPool, command: crate::cli::BillsCommand) -> anyhow::Result<()> {
    use app::bills::import::{self, ImportError};
    use app::progress::Progress;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    let crate::cli::BillsCommand::Import { file, format } = command;
    let opened =
        std::fs::File::open(&file).with_context(|| format!("cannot open {}", file.display()))?;
    let size = opened.metadata().map(|m| m.len()).unwrap_or(0);
    let progress = Arc::new(Progress::default());
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let ticker = {
        let progress = progress.clone();
        let bar = bar.clone();
        tokio::spawn(async move {
            loop {
                bar.set_position(progress.bytes.load(Ordering::Relaxed));
                let rows = progress.rows.load(Ordering::Relaxed);
                if progress.saving.load(Ordering::Relaxed) {
                    bar.set_message(format!("{rows} rows read; saving"));
                } else {
                    bar.set_message(format!("{rows} rows read"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        })
    };
    let file_name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bill.csv".into());
    let result = import::import(
        pool,
        &Actor::CommandLine,
        &file_name,
        format,
        bills::Limits::default(),
        std::io::BufReader::new(opened),
        progress,
    )
    .await;
    ticker.abort();
    bar.finish_and_clear();
    let mut out = std::io::stdout().lock();
    match result {
        Ok(outcome) if outcome.duplicate => {
            writeln!(
                out,
                "{file_name} was imported before ({} rows, {} by {}); nothing changed.",
                outcome.import.rows,
                outcome.import.imported_at.format("%Y-%m-%d %H:%M UTC"),
                outcome.import.imported_by
            )?;
            Ok(())
        }
        Ok(outcome) => {
            let import = &outcome.import;
            let totals: Vec<String> = import
                .totals
                .iter()
                .map(|t| app::format::format_money(t.billed_cost, &t.currency))
                .collect();
            writeln!(
                out,
                "Imported {file_name} ({}): {} rows, {}.",
                import.format_label(),
                import.rows,
                totals.join(", ")
            )?;
            if !outcome.superseded.is_empty() {
                writeln!(
                    out,
                    "It supersedes {} earlier import(s) of the same account and billing period.",
                    outcome.superseded.len()
                )?;
            }
            writeln!(out, "Import id: {}", import.bill_import_id)?;
            Ok(())
        }
        Err(ImportError::Rows { errors, more }) => {
            let mut err = std::io::stderr().lock();
            for e in &errors {
                if e.column.is_empty() {
                    writeln!(err, "line {}: {}", e.line, e.message)?;
                } else {
                    writeln!(
                        err,
                        "line {}, {}: `{}` {}",
                        e.line, e.column, e.value, e.message
                    )?;
                }
            }
            if more {
                writeln!(err, "(only the first {} problems are listed)", errors.len())?;
            }
            bail!(
                "{} could not be imported; nothing was stored",
                file.display()
            )
        }
        Err(ImportError::Database(error)) => Err(anyhow!(error).context("the import failed")),
        Err(other) => bail!("{}: {other}; nothing was stored", file.display()),
    }
}

/// `pareto import mlflow`: the operator's own command, so the tracking server may be anywhere
/// the machine reaches, loopback and private networks included (the page keeps the webhook
/// address rules).
pub async fn import_mlflow(pool: &PgPool, args: crate::cli::MlflowArgs) -> anyhow::Result<()> {
    use app::experiments::mlflow::{self, Mapping, DEFAULT_MAPPING};
    let mut text = match &args.mapping {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the mapping {}", path.display()))?,
        None => DEFAULT_MAPPING.to_owned(),
    };
    for line in &args.map {
        text.push('\n');
        text.push_str(line);
    }
    let mapping: Mapping = text
        .parse()
        .map_err(|problems: Vec<app::error::FieldError>| {
            anyhow::anyhow!(
                "the mapping is wrong: {}",
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
    let experiment_id = app::experiments::store::id_by_name_or_id(pool, &args.into)
        .await?
        .with_context(|| format!("no Pareto experiment is named {}", args.into))?;
    let client = app::outbound::client(true, std::time::Duration::from_secs(60))?;
    let request = mlflow::Request {
        tracking_uri: &args.tracking_uri,
        experiment: &args.experiment,
        filter: &args.filter,
        mapping: &mapping,
    };
    eprintln!(
        "reading MLflow's {} at {}",
        args.experiment, args.tracking_uri
    );
    let summary = mlflow::import(pool, &Actor::CommandLine, &client, experiment_id, &request)
        .await
        .map_err(|error| match error {
            mlflow::ImportError::Runs(problems) => anyhow::anyhow!(
                "{} problems, nothing imported: {}",
                problems.len(),
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            other => anyhow::anyhow!("{other}; nothing imported"),
        })?;
    println!("{}", summary.sentence(&args.experiment));
    Ok(())
}
