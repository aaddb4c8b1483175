//! The systemd unit as shipped: hardened enough for `systemd-analyze security` to rate it "OK" or better.

use std::path::Path;
use std::process::Command;

#[test]
fn the_unit_scores_ok_or_better_in_systemd_analyze_security() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/vdpd.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze runs (the systemd package; scripts/test.sh installs it)");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level for vdpd.service"))
        .unwrap_or_else(|| panic!("no overall rating in:\n{text}"));
    let score: f64 = line
        .split(':')
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in {line:?}"));
    assert!(score <= 2.0, "exposure {score} > 2.0: {line}\n{text}");
    assert!(line.contains("OK") || line.contains("SAFE"), "{line}");
}
