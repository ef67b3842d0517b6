//! The `pcn` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "pcn", version, about = "PCN: vehicle dealership management")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Add realistic demo inventory (for trying PCN out and for benchmarks).
    DemoData {
        /// How many vehicles to add.
        #[arg(long, default_value_t = 1000)]
        vehicles: i64,
    },
    /// Write the whole database to FILE (pg_dump's custom format).
    Backup {
        /// The backup file to write (replaced if it exists).
        file: PathBuf,
    },
    /// Replace the database's contents with the backup FILE, then migrate.
    Restore {
        /// A file written by `pcn backup`.
        file: PathBuf,
    },
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user; the password comes from PCN_PASSWORD or standard input.
    Create {
        #[arg(long)]
        email: String,
        /// viewer, editor or admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
    },
}
