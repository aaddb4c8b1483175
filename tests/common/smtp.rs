//! A minimal SMTP client for the test side: exact bytes, any envelope (including the null sender of a
//! bounce), no library between the test and Postfix.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

fn reply(reader: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "SMTP connection closed");
        text.push_str(&line);
        if line.as_bytes().get(3) != Some(&b'-') {
            let code = line[..3].parse().unwrap();
            return (code, text);
        }
    }
}

/// Sends one message; panics unless Postfix accepts it (250 after DATA). Returns Postfix's queue id.
pub fn send(port: u16, mail_from: &str, rcpt: &str, message: &[u8]) -> String {
    let (code, text) = try_send(port, mail_from, rcpt, message);
    assert_eq!(code, 250, "SMTP send failed: {text}");
    text.split("queued as ").nth(1).map(|q| q.trim().to_string()).unwrap_or_default()
}

/// Waits until Postfix has delivered (or given up on) the message with queue id `qid`: its log says
/// "<qid>: removed". Tests that hand mail to Postfix and then run vdpd must not race the delivery.
/// Only the log written after `offset` (its length before the message was sent) is read.
pub fn wait_delivered(log: &std::path::Path, offset: u64, qid: &str) {
    use std::io::{Read, Seek};
    if qid.is_empty() {
        return;
    }
    let needle = format!("{qid}: removed");
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        let mut tail = String::new();
        if let Ok(mut f) = std::fs::File::open(log)
            && f.seek(std::io::SeekFrom::Start(offset)).is_ok()
            && f.read_to_string(&mut tail).is_ok()
            && tail.contains(&needle)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("Postfix did not deliver {qid} within 30s (see {})", log.display());
}

/// Sends one message; returns the final reply code and text.
pub fn try_send(port: u16, mail_from: &str, rcpt: &str, message: &[u8]) -> (u16, String) {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("SMTP connect (is the mail stack running?)");
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    // Each command is several small writes: without this, Nagle and the server's delayed ACK add 40 ms to
    // some of them (the latency benchmark measured from the start of this send).
    stream.set_nodelay(true).unwrap();
    let mut w = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let (code, text) = reply(&mut r);
    assert_eq!(code, 220, "{text}");
    let mut step = |cmd: &str| -> (u16, String) {
        write!(w, "{cmd}\r\n").unwrap();
        reply(&mut r)
    };
    assert_eq!(step("EHLO client.test").0, 250);
    let (code, text) = step(&format!("MAIL FROM:<{mail_from}>"));
    if code != 250 {
        return (code, text);
    }
    let (code, text) = step(&format!("RCPT TO:<{rcpt}>"));
    if code != 250 {
        return (code, text);
    }
    let (code, text) = step("DATA");
    if code != 354 {
        return (code, text);
    }
    let mut body = Vec::with_capacity(message.len() + 16);
    for line in message.split_inclusive(|&b| b == b'\n') {
        if line.first() == Some(&b'.') {
            body.push(b'.');
        }
        body.extend_from_slice(line);
    }
    if !body.ends_with(b"\n") {
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    let mut w2 = r.get_ref().try_clone().unwrap();
    w2.write_all(&body).unwrap();
    let result = reply(&mut r);
    let _ = write!(w2, "QUIT\r\n");
    result
}
