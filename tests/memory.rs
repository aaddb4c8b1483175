//! One hostile mail, one process's memory: with the shipped decryption cap (`openpgp.max_decrypted_bytes`,
//! 50 MiB), neither a compression bomb nor a mail whose decrypted content comes close to the cap may raise
//! `vdpd`'s peak memory by more than twice the cap. (Measured before the fix: a 1.5 MB bomb peaked at
//! 225 MB, sequoia holding a cap-sized buffer on top of ours.) The peak is the kernel's count for the child
//! process (`wait4`), over a baseline of the same command on a small mail.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::Desk;
use common::gpg::Gpg;

/// The shipped default of `openpgp.max_decrypted_bytes`.
const CAP: u64 = 50 * 1024 * 1024;

/// Runs `cmd` to its end; returns (stdout, the child's peak resident set in bytes).
// The child is reaped by wait4 (which std's wait cannot do: it does not return the child's rusage).
#[allow(clippy::zombie_processes)]
fn peak_rss(mut cmd: Command) -> (String, u64) {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet reaped; status and usage are valid for writes.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "vdpd failed: status {status}");
    (reader.join().unwrap(), usage.ru_maxrss as u64 * 1024)
}

/// A PGP/MIME encrypted mail to the desk around `armoured`.
fn encrypted_mail(desk: &Desk, tag: &str, armoured: &[u8]) -> Vec<u8> {
    common::gpg::pgp_mime_encrypted(
        &format!(
            "From: {r}\r\nTo: {s}\r\nSubject: {tag}\r\nMessage-ID: <{tag}-{id}@r.test>\r\n",
            r = desk.researcher(1),
            s = desk.security,
            id = desk.id
        ),
        armoured,
    )
}

/// gpg, encrypting whatever `write` produces to the desk's key with zlib at its strongest.
fn encrypt_stream(g: &Gpg, to: &str, write: impl FnOnce(&mut dyn Write) + Send + 'static) -> Vec<u8> {
    let args = ["--compress-algo", "zlib", "-z", "9", "--armor", "--encrypt", "--recipient", to];
    let out = g.run_streaming(&args, write);
    assert!(out.status.success(), "gpg: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn ingest(desk: &Desk, name: &str, raw: &[u8]) -> (String, u64) {
    let path = desk.dir.path().join(name);
    std::fs::write(&path, raw).unwrap();
    let mut cmd = desk.command();
    cmd.args(["ingest", "--no-deliver", path.to_str().unwrap()]);
    peak_rss(cmd)
}

#[test]
fn one_hostile_mail_never_costs_more_than_twice_the_decryption_cap() {
    let desk = Desk::with("memory", common::Options { extra: "\n[openpgp]\n".into(), ..Default::default() });
    desk.vdpd_ok(&["key", "generate"]);
    let researcher = Gpg::new(&desk.researcher(1));
    researcher.import(&desk.vdpd(&["key", "export"]).stdout);
    let sec = desk.security.clone();

    let small = common::report(&desk.researcher(1), &sec, "small", &format!("<s-{}@r.test>", desk.id), "hello");
    let (_, baseline) = ingest(&desk, "small.eml", &small);

    // 600 MiB of zeros: about 0.6 MB encrypted, so the ratio limit allows more than the cap, and the cap is
    // what stops it.
    let bomb = encrypt_stream(&researcher, &sec, |w| {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..600 {
            if w.write_all(&zeros).is_err() {
                return;
            }
        }
    });
    assert!(bomb.len() as u64 * 100 > CAP, "the bomb must be stopped by the cap, not the ratio");
    let (out, bomb_peak) = ingest(&desk, "bomb.eml", &encrypted_mail(&desk, "bomb", &bomb));
    assert!(out.contains("ticket"), "{out}");
    let show = desk.show(&common::ex(2));
    assert!(show["messages"][0]["crypto_error"].as_str().unwrap().contains("larger than"), "{show}");

    // A mail whose decrypted content is 45 MiB: a report with a big log file attached, compressed well
    // enough to fit in a mail of 11 MB.
    let mut log = String::new();
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
    let mut n: u64 = 0x2545_f491_4f6c_dd1d;
    let mut line = 0u64;
    while log.len() < 45 << 20 {
        log.push_str(&format!("{line:09}"));
        for _ in 0..8 {
            n ^= n << 13;
            n ^= n >> 7;
            n ^= n << 17;
            log.push(' ');
            log.push_str(words[(n % 10) as usize]);
        }
        log.push_str("\r\n");
        line += 1;
    }
    let entity = format!(
        "Content-Type: multipart/mixed; boundary=\"in\"\r\n\r\n--in\r\nContent-Type: text/plain\r\n\r\nThe log is attached.\r\n\
         --in\r\nContent-Type: text/plain; name=\"app.log\"\r\nContent-Disposition: attachment; filename=\"app.log\"\r\n\r\n{log}\r\n--in--\r\n"
    );
    let log_len = log.len() as u64;
    let big = encrypt_stream(&researcher, &sec, move |w| {
        let _ = w.write_all(entity.as_bytes());
    });
    let (out, big_peak) = ingest(&desk, "big.eml", &encrypted_mail(&desk, "big", &big));
    assert!(out.contains("ticket"), "{out}");
    let show = desk.show(&common::ex(3));
    assert_eq!(show["attachments"][0]["size"].as_u64(), Some(log_len), "the file is kept whole");

    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    eprintln!(
        "peak RSS: small mail {:.1} MiB; bomb {:.1} MiB (+{:.1}); 45 MiB decrypted {:.1} MiB (+{:.1}); cap {:.0} MiB",
        mib(baseline),
        mib(bomb_peak),
        mib(bomb_peak.saturating_sub(baseline)),
        mib(big_peak),
        mib(big_peak.saturating_sub(baseline)),
        mib(CAP)
    );
    for (what, peak) in [("the compression bomb", bomb_peak), ("45 MiB of decrypted content", big_peak)] {
        assert!(
            peak.saturating_sub(baseline) <= 2 * CAP,
            "{what} raised the peak by {:.1} MiB, over twice the cap ({:.0} MiB)",
            mib(peak - baseline),
            mib(2 * CAP)
        );
    }
}
