//! The shape the compiler cannot see by itself: the core crate (`crates/vdpd-core`) depends on no crate that
//! does IO, however deep in its tree. Its own code is kept from std's IO by clippy (`crates/vdpd-core/clippy.toml`).

use std::path::Path;
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
    // Cryptography needs the system's randomness and locked memory, so libc is in the tree (under sequoia,
    // nettle and ring); the core's own code must still not call it: libc and nix are no direct dependency.
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/vdpd-core/Cargo.toml"))
        .expect("the core's manifest");
    let direct: toml::Table = manifest.parse().expect("the core's manifest is TOML");
    let deps = direct.get("dependencies").and_then(|d| d.as_table()).cloned().unwrap_or_default();
    for name in ["libc", "nix", "rustix"] {
        assert!(!deps.contains_key(name), "the core crate must not depend on {name} directly");
    }
}
