//! The `moodreel` command: parses the command line and hands over to the library.

fn main() -> std::process::ExitCode {
    moodreel::cli::main()
}
