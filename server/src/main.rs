//! `pareto`: serve the dashboard and API, or run one administrative command.

use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;

use pareto_server::cli::{Cli, Command};
use pareto_server::config::{Config, LogFormat};
use pareto_server::{commands, db, demo, serve};

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log_filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// The first line of an error chain and its causes, on one line.
fn one_line(error: &anyhow::Error) -> String {
    format!("{error:#}").replace('\n', " ")
}

fn main() -> ExitCode {
    // A missing .env is normal; a malformed one is reported.
    if let Err(error) = dotenvy::dotenv() {
        if !error.not_found() {
            eprintln!("pareto: .env: {error}");
            return ExitCode::FAILURE;
        }
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            use clap::error::ErrorKind;
            if matches!(
                error.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) {
                let _ = error.print();
                return ExitCode::SUCCESS;
            }
            let text = error.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("pareto: {first} (see `pareto --help`)");
            return ExitCode::from(2);
        }
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("pareto: {error}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(&config);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("pareto: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command.unwrap_or(Command::Serve), config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pareto: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => return serve::run(config).await,
        // No database unless the figures are stored.
        Command::Loadtest(args) => return pareto_server::loadtest::command(args).await,
        Command::Import(pareto_server::cli::ImportCommand::Mlflow(args)) if args.show_mapping => {
            println!("{}", app::experiments::mlflow::DEFAULT_MAPPING);
            return Ok(());
        }
        Command::Openapi => {
            let routes =
                pareto_server::api::routes(config.body_limit_bytes, config.ingest_concurrency);
            println!(
                "{}",
                serde_json::to_string_pretty(routes.document.as_ref())?
            );
            return Ok(());
        }
        _ => {}
    }
    let pool = db::connect(&config).await?;
    db::migrate(&pool).await?;
    match command {
        Command::Serve | Command::Loadtest(_) | Command::Openapi => {
            unreachable!("handled above")
        }
        Command::Migrate => {
            println!(
                "the database at {} is up to date",
                config.database_url_for_display()
            );
            Ok(())
        }
        Command::User(command) => commands::user(&pool, command).await,
        Command::Token(command) => commands::token(&pool, command).await,
        Command::Demo(args) => demo::load(&pool, args.password).await,
        Command::Bills(command) => commands::bills(&pool, command).await,
        Command::Import(pareto_server::cli::ImportCommand::Mlflow(args)) => {
            commands::import_mlflow(&pool, args).await
        }
        Command::Report(pareto_server::cli::ReportCommand::Tco {
            quarter,
            format,
            output,
        }) => pareto_server::reports::command(&pool, &quarter, format, &output).await,
    }
}
