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
