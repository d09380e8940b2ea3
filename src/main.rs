// mimalloc: the engine clones small tickets and strings at every decision; glibc's
// allocator spent ~40 % of a replay in malloc/free (perf), mimalloc far less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // Rust ignores SIGPIPE, which turns a closed pipe (`steward demo | head`) into a
    // panic in `println!`; a command-line tool should just stop, as `cat` does.
    #[cfg(unix)]
    // SAFETY: called once at start-up, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(steward::cli::run());
}
