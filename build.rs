//! Lays out the optimised binary for a small resident set.
//!
//! A stdio server runs a few MiB of its 20 MiB of code, spread thinly: the kernel maps 64 KiB
//! around every page it faults in, so most of `.text` ended up resident (12.6 of 21 MiB RSS
//! after `tools/list`). `tools/link-order/sfmcp.order` lists the functions a running server
//! uses (`tools/link-order/collect.py` regenerates it, and `--check` says when a change to the
//! code has renamed enough of them to); lld places them first, together. A name lld no longer
//! finds is skipped, so a stale list costs memory, never correctness.
//!
//! The dynamic loader also reads every relocation at start: 1.7 MB of them in the classic
//! form, packed to a few KiB as RELR. glibc reads RELR from 2.36 on, and a binary that uses
//! it needs that glibc where it runs, so it is packed only when the glibc it is built against
//! has it (a machine builds for itself unless cross-compiling).
//!
//! Both only where Rust links with its bundled lld by default (x86_64 Linux), and not when
//! the builder chose a linker of their own.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=tools/link-order/sfmcp.order");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let optimised = env::var("PROFILE").is_ok_and(|profile| profile == "release");
    let target = env::var("TARGET").unwrap_or_default();
    let default_linker = target == "x86_64-unknown-linux-gnu"
        && !env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| flags.contains("link"));
    if !(optimised && default_linker) {
        return;
    }
    let order = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/link-order/sfmcp.order");
    println!("cargo:rustc-link-arg-bin=sfmcp=-Wl,--symbol-ordering-file={order}");
    println!("cargo:rustc-link-arg-bin=sfmcp=-Wl,--no-warn-symbol-ordering");
    let native = env::var("HOST").is_ok_and(|host| host == target);
    if native && glibc_reads_relr() {
        println!("cargo:rustc-link-arg-bin=sfmcp=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether this machine's glibc is 2.36 or newer (`ldd --version`: "ldd (…) 2.36").
fn glibc_reads_relr() -> bool {
    let Ok(output) = Command::new("ldd").arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().last())
        .unwrap_or("");
    let mut parts = version.split('.').map(|part| part.parse::<u32>().ok());
    matches!(
        (parts.next(), parts.next()),
        (Some(Some(major)), Some(Some(minor))) if (major, minor) >= (2, 36)
    )
}
