//! `steward tick`: fire every timer due at `--now`, in one transaction per ticket.

use super::EXIT_FOUND;
use super::args::Global;
use super::context::{fail, now, open_existing};
use super::decisions::{print_batch, tz_of};

pub fn run(g: &Global) -> i32 {
    let result = (|| -> Result<_, String> {
        let at = now(g)?;
        let mut svc = open_existing(g).map_err(|e| e.to_string())?;
        let ran = svc.tick_report(at).map_err(|e| e.to_string())?;
        Ok((tz_of(&mut svc), ran))
    })();
    match result {
        Ok((tz, ran)) => {
            let code = print_batch(&ran.fired, tz, g, "nothing due");
            // The others were kept; each ticket that could not be decided is named.
            for (id, why) in &ran.failed {
                fail(format!("ticket `{id}` skipped: {why}"));
            }
            if ran.failed.is_empty() {
                code
            } else {
                EXIT_FOUND
            }
        }
        Err(e) => fail(e),
    }
}
