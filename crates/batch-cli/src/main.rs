//! The `roster` binary: everything lives in the library so tests can drive it in-process.

/// Many small allocations per row (requests, responses, events): mimalloc serves them for about a
/// third of what glibc's malloc costs, and gives memory back as well.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    batch_cli::main()
}
