//! Real GnuPG as the researcher's and staff's mail client: a throwaway GNUPGHOME per person.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
pub use vdpd::timeline::Event;

pub struct Gpg {
    pub home: tempfile::TempDir,
    pub address: String,
    pub fingerprint: String,
    /// GnuPG's idea of "now" (`--faked-system-time`), for tests that drive vdpd's clock with `--now`.
    clock: std::cell::RefCell<Option<String>>,
}

impl Gpg {
    /// A new person with a fresh key for `address` (`usage`: e.g. "default", or "sign" for a key that cannot
    /// receive encrypted mail).
    pub fn new(address: &str) -> Gpg {
        Self::with_usage(address, "default")
    }

    pub fn with_usage(address: &str, usage: &str) -> Gpg {
        let home = tempfile::Builder::new().prefix("gnupg-").tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let mut gpg = Gpg { home, address: address.to_string(), fingerprint: String::new(), clock: Default::default() };
        let uid = format!("Test Person <{address}>");
        let out = gpg.run(&["--quick-gen-key", &uid, "future-default", usage, "1y"], None);
        assert!(out.status.success(), "gpg keygen: {}", String::from_utf8_lossy(&out.stderr));
        gpg.fingerprint = gpg.fingerprint_of(address);
        gpg
    }

    /// A person whose key was made on 1 January 2025 and never expires: valid at every date a test may
    /// pass to `--now`, whenever the test runs.
    pub fn dated(address: &str) -> Gpg {
        let gpg = Self::with_clock(address, "20250101T000000");
        let uid = format!("Test Person <{address}>");
        gpg.ok(&["--quick-gen-key", &uid, "future-default", "default", "never"], None);
        let mut gpg = gpg;
        gpg.fingerprint = gpg.fingerprint_of(address);
        gpg
    }

    fn with_clock(address: &str, time: &str) -> Gpg {
        let home = tempfile::Builder::new().prefix("gnupg-").tempdir().unwrap();
        std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        Gpg {
            home,
            address: address.to_string(),
            fingerprint: String::new(),
            clock: std::cell::RefCell::new(Some(time.to_string())),
        }
    }

    /// From now on GnuPG signs as if it were `rfc3339` (e.g. "2026-11-05T10:00:00Z"), as the tests' vdpd does.
    pub fn set_time(&self, rfc3339: &str) {
        let compact: String = rfc3339.trim_end_matches('Z').chars().filter(|c| *c != '-' && *c != ':').collect();
        *self.clock.borrow_mut() = Some(compact);
    }

    /// The secret key, armoured (as `vdpd key import` takes it).
    pub fn export_secret(&self) -> Vec<u8> {
        self.ok(&["--armor", "--export-secret-keys", &self.address], None)
    }

    fn command(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", self.home.path()).args([
            "--batch",
            "--no-tty",
            "--quiet",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "",
            "--trust-model",
            "always",
        ]);
        if let Some(t) = self.clock.borrow().as_deref() {
            // Frozen ("!"): a signature made a second after the clock was set would not be live yet at the
            // `--now` the desk is run with.
            c.args(["--faked-system-time", &format!("{t}!")]);
        }
        c
    }

    /// Runs gpg with `args`, feeding `input` on stdin.
    pub fn run(&self, args: &[&str], input: Option<&[u8]>) -> Output {
        let data = input.map(<[u8]>::to_vec).unwrap_or_default();
        self.run_streaming(args, move |stdin| {
            let _ = stdin.write_all(&data);
        })
    }

    /// Runs gpg with `args`, its stdin fed by `write` on a thread of its own (input too large to hold, like
    /// the hundreds of MiB of a compression bomb).
    pub fn run_streaming(&self, args: &[&str], write: impl FnOnce(&mut dyn Write) + Send + 'static) -> Output {
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("gpg runs (is gnupg installed?)");
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || write(&mut stdin));
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        out
    }

    pub fn ok(&self, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
        let out = self.run(args, input);
        assert!(out.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    pub fn fingerprint_of(&self, who: &str) -> String {
        let out = String::from_utf8(self.ok(&["--with-colons", "--fingerprint", who], None)).unwrap();
        out.lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("a fingerprint")
            .to_string()
    }

    pub fn import(&self, key: &[u8]) {
        self.ok(&["--import"], Some(key));
    }

    /// Our public key, armoured.
    pub fn export(&self) -> Vec<u8> {
        self.ok(&["--armor", "--export", &self.address], None)
    }

    /// A `[[staff.members]]` entry for us, our certificate exported into `dir` for the policy to name.
    pub fn staff_member(&self, name: &str, dir: &Path) -> String {
        let cert = self.export_to(dir);
        format!(
            "\n[[staff.members]]\naddress = \"{}\"\nname = \"{name}\"\ncert = \"{}\"\n",
            self.address,
            cert.display()
        )
    }

    pub fn export_to(&self, dir: &Path) -> PathBuf {
        let path = dir.join(format!("{}.asc", self.address));
        std::fs::write(&path, self.export()).unwrap();
        path
    }

    /// Signs with our key and encrypts to `to` (an address or fingerprint whose key was imported).
    pub fn encrypt_sign(&self, to: &str, data: &[u8]) -> Vec<u8> {
        self.ok(&["--armor", "--sign", "--encrypt", "--local-user", &self.address, "--recipient", to], Some(data))
    }

    pub fn clearsign(&self, data: &[u8]) -> Vec<u8> {
        self.ok(&["--clearsign", "--local-user", &self.address], Some(data))
    }

    /// A signed (not encrypted) OpenPGP message, armoured: `gpg --sign --armor`.
    pub fn sign_armor(&self, data: &[u8]) -> Vec<u8> {
        self.ok(&["--armor", "--sign", "--local-user", &self.address], Some(data))
    }

    /// Revokes our key with the revocation certificate GnuPG made when it generated the key (reason: none
    /// given, which OpenPGP treats as a compromise: no signature by the key counts any more).
    pub fn revoke(&self) {
        let path = self.home.path().join("openpgp-revocs.d").join(format!("{}.rev", self.fingerprint));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // GnuPG prefixes the armour with ':' so that it is not imported by accident.
        self.import(
            text.replace(":-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PUBLIC KEY BLOCK-----").as_bytes(),
        );
    }

    pub fn detach_sign(&self, data: &[u8]) -> Vec<u8> {
        self.ok(&["--armor", "--detach-sign", "--local-user", &self.address], Some(data))
    }

    /// Decrypts; returns the plaintext and gpg's status lines (DECRYPTION_OKAY, GOODSIG, VALIDSIG …). gpg
    /// exits non-zero when it cannot check a signature (no public key): only decryption must succeed.
    pub fn decrypt(&self, data: &[u8]) -> (Vec<u8>, String) {
        let status = tempfile::NamedTempFile::new().unwrap();
        let out = self.run(&["--status-file", status.path().to_str().unwrap(), "--decrypt"], Some(data));
        let status = String::from_utf8_lossy(&std::fs::read(status.path()).unwrap()).into_owned();
        assert!(
            status.contains("DECRYPTION_OKAY"),
            "gpg --decrypt: {}\n{status}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out.stdout, status)
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").env("GNUPGHOME", self.home.path()).args(["--kill", "gpg-agent"]).status();
    }
}

/// A PGP/MIME (RFC 3156) encrypted mail around `armoured` ciphertext, as Thunderbird or Mutt send it.
pub fn pgp_mime_encrypted(headers: &str, armoured: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "{headers}MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"enc-boundary\"\r\n\r\n\
         This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n\
         --enc-boundary\r\nContent-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n\
         --enc-boundary\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\nContent-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"
    )
    .into_bytes();
    m.extend_from_slice(&crlf(armoured));
    m.extend_from_slice(b"\r\n--enc-boundary--\r\n");
    m
}

/// A PGP/MIME signed mail: `entity` (a MIME entity with CRLF line endings) and its detached signature.
pub fn pgp_mime_signed(headers: &str, entity: &[u8], signature: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "{headers}MIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"sig-boundary\"\r\n\r\n\
         This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--sig-boundary\r\n"
    )
    .into_bytes();
    m.extend_from_slice(entity);
    m.extend_from_slice(
        b"\r\n--sig-boundary\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n",
    );
    m.extend_from_slice(&crlf(signature));
    m.extend_from_slice(b"\r\n--sig-boundary--\r\n");
    m
}

/// Line endings made CRLF, for text.
pub fn crlf_str(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Line endings made CRLF.
pub fn crlf(data: &[u8]) -> Vec<u8> {
    String::from_utf8_lossy(data).replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

/// The parts of a received PGP/MIME encrypted mail: the armoured payload.
pub fn encrypted_payload(raw: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(raw);
    let start = text.find("-----BEGIN PGP MESSAGE-----").expect("an OpenPGP message in the mail");
    let end = text.find("-----END PGP MESSAGE-----").unwrap() + "-----END PGP MESSAGE-----".len();
    text[start..end].as_bytes().to_vec()
}

// What a mail client does with these keys, as the tests need it.

/// An Autocrypt header offering `g`'s key, as Thunderbird sends it.
pub fn autocrypt(g: &Gpg) -> String {
    use base64::Engine;
    let binary = g.ok(&["--export", &g.address], None);
    format!(
        "Autocrypt: addr={}; prefer-encrypt=mutual; keydata={}\r\n",
        g.address,
        base64::engine::general_purpose::STANDARD.encode(binary)
    )
}

/// A mail whose text is clear-signed by `g` (inline OpenPGP, as GnuPG on the command line makes it).
pub fn clearsigned(g: &Gpg, from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    let signed = String::from_utf8(g.clearsign(body.as_bytes())).unwrap().replace('\n', "\r\n");
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@staff.test>\r\n\r\n{signed}",
        super::unique("m")
    )
    .into_bytes()
}

/// A PGP/MIME signed mail (as Thunderbird makes it).
pub fn mime_signed(g: &Gpg, to: &str, subject: &str, body: &str) -> Vec<u8> {
    let entity = crlf(format!("Content-Type: text/plain; charset=utf-8\n\n{body}").as_bytes());
    let headers = format!(
        "From: {}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@staff.test>\r\n",
        g.address,
        super::unique("m")
    );
    pgp_mime_signed(&headers, &entity, &g.detach_sign(&entity))
}

/// A ticket's timeline: (actor, event, detail); every event must be one vdpd knows.
pub fn timeline(desk: &super::Desk, reference: &str) -> Vec<(String, Event, String)> {
    desk.show(reference)["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().into(),
                e["event"].as_str().unwrap().parse().unwrap(),
                e["detail"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// Whether gpg's status lines show a valid signature by the certificate `primary` (VALIDSIG names the
/// signing key and, last, the primary key's fingerprint): GOODSIG alone is any key gpg knows.
pub fn signed_by(status: &str, primary: &str) -> bool {
    status.lines().any(|l| l.starts_with("[GNUPG:] VALIDSIG ") && l.split_whitespace().last() == Some(primary))
}

/// An encrypted mail from vdpd, decrypted by `g`, its signature checked to be by the key of the mail's own
/// From (the organisation key `g` imported): (the Subject inside — RFC 9788 header protection —, the text).
pub fn open_full(g: &Gpg, raw: &[u8]) -> (String, String) {
    assert!(
        super::header(raw, "Content-Type").unwrap().starts_with("multipart/encrypted"),
        "not encrypted:\n{}",
        String::from_utf8_lossy(raw)
    );
    let (plain, status) = g.decrypt(&encrypted_payload(raw));
    let from = super::parse(raw).from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap().to_string();
    let org = g.fingerprint_of(&from);
    assert!(signed_by(&status, &org), "signed by the organisation key {org}:\n{status}");
    let m = mail_parser::MessageParser::default().parse(&plain).expect("a MIME entity inside");
    let text = (0..m.text_body_count()).filter_map(|i| m.body_text(i).map(|t| t.to_string())).collect::<Vec<_>>();
    (m.subject().unwrap_or("").to_string(), text.join("\n"))
}

/// The text of an encrypted mail from vdpd (see [`open_full`]).
pub fn open(g: &Gpg, raw: &[u8]) -> String {
    open_full(g, raw).1
}

/// The real Subject of a mail from vdpd: inside the encryption when it is encrypted, else its header.
pub fn subject(g: &Gpg, raw: &[u8]) -> String {
    if super::header(raw, "Content-Type").is_some_and(|c| c.starts_with("multipart/encrypted")) {
        open_full(g, raw).0
    } else {
        super::header(raw, "Subject").unwrap_or_default()
    }
}

/// The `application/pgp-keys` attachment of a mail.
pub fn attached_key(raw: &[u8]) -> Vec<u8> {
    let m = super::parse(raw);
    m.attachments()
        .find(|p| {
            use mail_parser::MimeHeaders;
            p.content_type().is_some_and(|c| c.subtype() == Some("pgp-keys"))
        })
        .map(|p| p.contents().to_vec())
        .expect("a key attached")
}

/// The events of a ticket's timeline, as `tickets show --json` lists them (each one vdpd knows).
pub fn timeline_events(show: &serde_json::Value) -> Vec<Event> {
    show["timeline"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().parse().unwrap()).collect()
}
