//! The `pareto` command line.

use clap::{Args, Parser, Subcommand};

use app::auth::Role;
use app::tokens::Scope;

#[derive(Debug, Parser)]
#[command(
    name = "pareto",
    version,
    about = "Pareto: the cost ledger for machine-learning models",
    long_about = "Pareto keeps a persistent cost ledger for machine-learning models and helps choose \
                  the cheapest model that meets quality and latency targets.\n\n\
                  Configuration comes from the environment and an optional .env file; see .env.example."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web interface and the API (the default)
    Serve,
    /// Apply pending database migrations, then exit
    Migrate,
    /// Manage people who can sign in
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens for agents and pipelines
    #[command(subcommand)]
    Token(TokenCommand),
    /// Load a demo organization: teams, people and tokens
    Demo(DemoArgs),
    /// Import cloud bills into the ledger
    #[command(subcommand)]
    Bills(BillsCommand),
    /// Export reports
    #[command(subcommand)]
    Report(ReportCommand),
    /// Drive an inference endpoint at a fixed arrival rate and report its latency, throughput,
    /// errors, tokens and accuracy; with --experiment, store the figures as a run of it
    Loadtest(LoadtestArgs),
    /// Import runs from another tool into an experiment
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print the API's OpenAPI 3.1 document (what `/api/v1/openapi.json` serves), for client
    /// generators and validators
    Openapi,
}

#[derive(Debug, clap::Args)]
pub struct LoadtestArgs {
    /// The endpoint each request is POSTed to (plain JSON, or OpenAI-compatible chat completions)
    #[arg(long)]
    pub url: String,
    /// Request bodies, one JSON value a line; a line {"body": ..., "label": ...} is labelled
    #[arg(long)]
    pub body: std::path::PathBuf,
    /// Arrivals a second, e.g. 200/s (or 12000/min), whatever the answers take
    #[arg(long, value_parser = crate::loadtest::parse_rate)]
    pub rate: f64,
    /// How long to send, e.g. 60s or 5m
    #[arg(long, default_value = "60s")]
    pub duration: humantime::Duration,
    /// The most requests in flight at once
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// How long one request may take before it counts as an error
    #[arg(long, default_value = "30s")]
    pub timeout: humantime::Duration,
    /// Store the figures as this run of --experiment (its run key)
    #[arg(long)]
    pub run_key: Option<String>,
    /// The experiment (name or id) the run is stored in
    #[arg(long)]
    pub experiment: Option<String>,
    /// The GPU model the endpoint runs on, priced from the catalog
    #[arg(long)]
    pub gpu_model: Option<String>,
    #[arg(long)]
    pub gpu_count: Option<u32>,
    /// Or the CPU instance type, with its --hourly-price
    #[arg(long)]
    pub cpu_instance: Option<String>,
    /// The machine's price per hour, when not the catalog's
    #[arg(long)]
    pub hourly_price: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// The finished runs of an MLflow experiment, through the tracking server's REST API, all or
    /// none; importing again adds only new runs (each is keyed by its MLflow run id)
    Mlflow(MlflowArgs),
}

#[derive(Debug, clap::Args)]
pub struct MlflowArgs {
    /// The tracking server, such as http://127.0.0.1:5000
    #[arg(long)]
    pub tracking_uri: String,
    /// The MLflow experiment, by name
    #[arg(long)]
    pub experiment: String,
    /// The Pareto experiment the runs join, by name or id
    #[arg(long)]
    pub into: String,
    /// MLflow's search filter, such as "metrics.f1 > 0.8" (finished runs only, always)
    #[arg(long, default_value = "")]
    pub filter: String,
    /// A mapping line over the default one, such as "metrics.f1 = metrics.val_f1" or
    /// "gpu_model = params.accelerator"; repeat for several
    #[arg(long = "map")]
    pub map: Vec<String>,
    /// A whole mapping in a file, in place of the default (`--show-mapping` prints it)
    #[arg(long)]
    pub mapping: Option<std::path::PathBuf>,
    /// Print the default mapping and exit
    #[arg(long)]
    pub show_mapping: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// A quarter's total cost of ownership per model and team, as on the Reports page
    Tco {
        /// The quarter, such as 2026-Q3 (default: the current one, to date)
        #[arg(long, default_value = "")]
        quarter: String,
        /// csv, xlsx, html or json
        #[arg(long, default_value = "csv", value_parser = parse_report_format)]
        format: crate::reports::Format,
        /// The file to write
        #[arg(long)]
        output: std::path::PathBuf,
    },
}

fn parse_report_format(text: &str) -> Result<crate::reports::Format, String> {
    text.parse()
}

#[derive(Debug, Subcommand)]
pub enum BillsCommand {
    /// Import a billing export (CSV or gzip): FOCUS, AWS CUR, GCP or Azure. Imported whole or not
    /// at all; importing the same file again changes nothing.
    Import {
        /// The export file
        file: std::path::PathBuf,
        /// focus, aws-cur, aws-cur2, gcp or azure (told from the header row when absent)
        #[arg(long, value_parser = parse_format)]
        format: Option<bills::Format>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Display name (defaults to the part of the email before @)
        #[arg(long)]
        name: Option<String>,
    },
    /// Change a user's role (effective on their next request)
    SetRole {
        #[arg(long)]
        email: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Disable a user: they cannot sign in and their sessions end
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled user again
    Enable {
        #[arg(long)]
        email: String,
    },
    /// List users
    List,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once
    Create {
        #[arg(long)]
        name: String,
        /// ingest, write, read or bills; repeat or separate with commas for several
        #[arg(long = "scope", required = true, value_delimiter = ',', value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// The team the token acts for
        #[arg(long)]
        team: Option<String>,
    },
    /// Revoke a live token by name
    Revoke {
        #[arg(long)]
        name: String,
    },
    /// List tokens
    List,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Password for every demo account (read from standard input when `-`; generated when absent)
    #[arg(long)]
    pub password: Option<String>,
}

fn parse_format(value: &str) -> Result<bills::Format, String> {
    value.parse()
}

fn parse_role(value: &str) -> Result<Role, String> {
    value.parse()
}

fn parse_scope(value: &str) -> Result<Scope, String> {
    value.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn scopes_may_repeat_or_be_comma_separated() {
        let cli = Cli::try_parse_from([
            "pareto",
            "token",
            "create",
            "--name",
            "a",
            "--scope",
            "ingest,read",
            "--scope",
            "write",
        ])
        .expect("parses");
        match cli.command {
            Some(Command::Token(TokenCommand::Create { scopes, .. })) => {
                assert_eq!(scopes, vec![Scope::Ingest, Scope::Read, Scope::Write]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_roles_are_refused_by_name() {
        let error = Cli::try_parse_from([
            "pareto", "user", "create", "--email", "a@b.c", "--role", "owner",
        ])
        .expect_err("owner is no role");
        assert!(
            error.to_string().contains("unknown role `owner`"),
            "{error}"
        );
    }
}
