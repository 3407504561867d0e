//! The `jobrun` binary: everything lives in the library; this only hands over the arguments
//! and exits with the code it returns.

fn main() {
    std::process::exit(jobrun::run(std::env::args_os()));
}
