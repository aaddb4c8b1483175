//! A deliberately small, blocking IMAP client for the test side (the researcher's and staff's mail client).
//! It is independent of the async-imap code under test, so a bug there cannot hide itself here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

pub struct Imap {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    tag: u32,
}

/// One untagged response with the literals it carried.
#[derive(Debug, Clone)]
pub struct Untagged {
    pub text: String,
    pub literals: Vec<Vec<u8>>,
}

impl Imap {
    pub fn login(port: u16, user: &str, password: &str) -> Imap {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("IMAP connect (is the mail stack running?)");
        stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        let mut imap = Imap { reader: BufReader::new(stream.try_clone().unwrap()), writer: stream, tag: 0 };
        let mut greeting = String::new();
        imap.reader.read_line(&mut greeting).unwrap();
        assert!(greeting.starts_with("* OK"), "greeting: {greeting}");
        imap.ok(&format!("LOGIN \"{user}\" \"{password}\""));
        imap
    }

    /// Runs a command; returns the untagged responses and the tagged status line.
    pub fn command(&mut self, cmd: &str) -> (Vec<Untagged>, String) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(self.writer, "{tag} {cmd}\r\n").unwrap();
        self.writer.flush().unwrap();
        self.read_until(&tag)
    }

    /// Runs a command that must succeed.
    pub fn ok(&mut self, cmd: &str) -> Vec<Untagged> {
        let (untagged, status) = self.command(cmd);
        assert!(status.split_whitespace().nth(1) == Some("OK"), "{cmd} → {status}");
        untagged
    }

    fn read_until(&mut self, tag: &str) -> (Vec<Untagged>, String) {
        let mut out = Vec::new();
        loop {
            let mut text = String::new();
            let mut literals = Vec::new();
            loop {
                let mut line = Vec::new();
                self.reader.read_until(b'\n', &mut line).unwrap();
                assert!(!line.is_empty(), "IMAP connection closed");
                let l = String::from_utf8_lossy(&line).to_string();
                let trimmed = l.trim_end_matches(['\r', '\n']);
                // A literal: "{123}" at the end of the line, its bytes follow.
                if let Some(n) = literal_len(trimmed) {
                    let mut buf = vec![0u8; n];
                    self.reader.read_exact(&mut buf).unwrap();
                    literals.push(buf);
                    text.push_str(trimmed);
                    continue;
                }
                text.push_str(trimmed);
                break;
            }
            if text.starts_with(&format!("{tag} ")) {
                return (out, text);
            }
            if text.starts_with("* ") {
                out.push(Untagged { text, literals });
            }
        }
    }

    pub fn select(&mut self, mailbox: &str) -> Vec<Untagged> {
        self.ok(&format!("SELECT \"{mailbox}\""))
    }

    /// UIDVALIDITY of the selected mailbox, from a fresh SELECT.
    pub fn uidvalidity(&mut self, mailbox: &str) -> u32 {
        let r = self.select(mailbox);
        r.iter()
            .find_map(|u| {
                u.text
                    .split("UIDVALIDITY ")
                    .nth(1)
                    .and_then(|s| s.split(']').next())
                    .and_then(|s| s.trim().parse().ok())
            })
            .expect("UIDVALIDITY in SELECT")
    }

    /// Every message of a mailbox as (uid, bytes).
    pub fn fetch_all(&mut self, mailbox: &str) -> Vec<(u32, Vec<u8>)> {
        self.select(mailbox);
        let r = self.ok("UID FETCH 1:* (UID BODY.PEEK[])");
        let mut out: Vec<(u32, Vec<u8>)> = r
            .into_iter()
            .filter(|u| u.text.contains("FETCH"))
            .filter_map(|u| {
                let uid = u.text.split("UID ").nth(1)?.split([' ', ')']).next()?.parse().ok()?;
                Some((uid, u.literals.into_iter().next()?))
            })
            .collect();
        out.sort_by_key(|(uid, _)| *uid);
        out
    }

    /// UIDs of a mailbox with the \Seen flag.
    pub fn seen_uids(&mut self, mailbox: &str) -> Vec<u32> {
        self.select(mailbox);
        let r = self.ok("UID SEARCH SEEN");
        r.iter()
            .filter(|u| u.text.starts_with("* SEARCH"))
            .flat_map(|u| u.text.split_whitespace().skip(2).filter_map(|n| n.parse().ok()).collect::<Vec<_>>())
            .collect()
    }

    /// The number of messages in `mailbox`. A failed STATUS panics: "the mailbox is empty" must never be
    /// what a broken query looks like.
    pub fn count(&mut self, mailbox: &str) -> usize {
        let (r, status) = self.command(&format!("STATUS \"{mailbox}\" (MESSAGES)"));
        assert!(status.contains("OK"), "STATUS {mailbox}: {status}");
        r.iter()
            .find_map(|u| u.text.split("MESSAGES ").nth(1)?.split(')').next()?.trim().parse().ok())
            .unwrap_or_else(|| panic!("STATUS {mailbox} named no MESSAGES count"))
    }

    pub fn append(&mut self, mailbox: &str, message: &[u8]) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        // LITERAL+ (non-synchronising): no round trip per message.
        write!(self.writer, "{tag} APPEND \"{mailbox}\" {{{}+}}\r\n", message.len()).unwrap();
        self.writer.write_all(message).unwrap();
        self.writer.write_all(b"\r\n").unwrap();
        self.writer.flush().unwrap();
        let (_, status) = self.read_until(&tag);
        assert!(status.contains(" OK"), "APPEND → {status}");
    }

    pub fn create(&mut self, mailbox: &str) {
        self.command(&format!("CREATE \"{mailbox}\""));
    }

    pub fn delete(&mut self, mailbox: &str) {
        self.command(&format!("DELETE \"{mailbox}\""));
    }

    pub fn logout(mut self) {
        let _ = self.command("LOGOUT");
    }
}

fn literal_len(line: &str) -> Option<usize> {
    let open = line.rfind('{')?;
    let inner = line[open + 1..].strip_suffix('}')?;
    let inner = inner.strip_suffix('+').unwrap_or(inner);
    inner.parse().ok()
}
