use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = mlp::cli::Cli::parse();
    match mlp::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", mlp::cli::exit::message_of(&error));
            ExitCode::from(mlp::cli::exit::status_of(&error))
        }
    }
}
