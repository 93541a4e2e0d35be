//! The `kstrun` binary: parse arguments, run, map the outcome to an exit status.

use clap::Parser;
use kstrun::cli::Cli;
use kstrun::report::Reporter;

#[global_allocator]
static ALLOCATOR: kstrun::alloc::ZeroizingAllocator = kstrun::alloc::ZeroizingAllocator;

/// Records the caller's signal dispositions and mask before the Rust runtime
/// starts (it sets SIGPIPE to ignored), so that the child gets them back.
#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static RECORD_SIGNALS: extern "C" fn() = kstrun::hardening::record_at_load;

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with status 0; usage errors are kstrun failures.
            if !error.use_stderr() {
                let _ = error.print();
                std::process::exit(0);
            }
            eprint!("kstrun: {}", error.render());
            std::process::exit(125);
        }
    };
    let report = Reporter::new(cli.global.quiet, cli.global.verbose);
    let status = match kstrun::run(cli, &report) {
        Ok(status) => status,
        Err(error) => {
            report.error(&error.to_string());
            error.exit_status()
        }
    };
    std::process::exit(status);
}
