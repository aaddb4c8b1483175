//! The shape the compiler cannot see by itself: the core crate (`crates/vdpd-core`) depends on no crate that
//! does IO, however deep in its tree. Its own code is kept from std's IO by clippy (`crates/vdpd-core/clippy.toml`).

use std::process::Command;

/// Crates that would let the core touch the network, the disk, a database, mail servers or an async runtime.
const FORBIDDEN: &[&str] = &[
    "tokio",
    "mio",
    "socket2",
    "async-imap",
    "lettre",
    "rusqlite",
    "libsqlite3-sys",
    "rustls",
    "tokio-rustls",
    "hyper",
    "reqwest",
    "sd-notify",
    "libc",
    "tempfile",
    "walkdir",
];

#[test]
fn core_depends_on_no_io_crates() {
    let out = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "vdpd-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree: {}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8(out.stdout).unwrap();
    let names: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(names.contains(&"vdpd-core"), "{tree}");
    let found: Vec<&&str> = FORBIDDEN.iter().filter(|f| names.contains(f)).collect();
    assert!(found.is_empty(), "the core crate depends on IO crates {found:?}:\n{tree}");
}
