use std::process::ExitCode;

/// Large blocks on cache lines: the kernels' vector loads then never straddle two (see `mlp::alloc`).
#[global_allocator]
static ALLOCATOR: mlp::alloc::LineAligned = mlp::alloc::LineAligned;

fn main() -> ExitCode {
    mlp::alloc::fix_mmap_threshold();
    let cli = mlp::cli::Cli::from_env();
    match mlp::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", mlp::cli::exit::message_of(&error));
            ExitCode::from(mlp::cli::exit::status_of(&error))
        }
    }
}
