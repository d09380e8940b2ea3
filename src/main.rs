// mimalloc: the engine clones small tickets and strings at every decision; glibc's
// allocator spent ~40 % of a replay in malloc/free (perf), mimalloc far less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(steward::cli::run());
}
