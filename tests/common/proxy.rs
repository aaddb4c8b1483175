//! A TCP relay between vdpd and a real server that a test can cut, freeze or restore: a real outage as
//! vdpd sees it, without stopping the shared Postfix or Dovecot under the other tests.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Relay bytes both ways.
    Forward = 0,
    /// Refuse service: new connections are closed at once, existing ones are cut.
    Down = 1,
    /// Accept and hold connections, relay nothing: a server that stopped answering.
    Freeze = 2,
}

pub struct Proxy {
    pub port: u16,
    mode: Arc<AtomicU8>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
    /// Reads of the server's side that carried bytes: each is a burst of replies the client waited for, so
    /// the count tells round trips (one per command unless the client pipelines).
    bursts: Arc<AtomicUsize>,
}

impl Proxy {
    pub fn start(target_port: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mode = Arc::new(AtomicU8::new(Mode::Forward as u8));
        let conns: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let bursts: Arc<AtomicUsize> = Arc::default();
        let (m, c, b) = (mode.clone(), conns.clone(), bursts.clone());
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if m.load(Ordering::SeqCst) == Mode::Down as u8 {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                c.lock().unwrap().push(client.try_clone().unwrap());
                c.lock().unwrap().push(server.try_clone().unwrap());
                pump(client.try_clone().unwrap(), server.try_clone().unwrap(), m.clone(), None);
                pump(server, client, m.clone(), Some(b.clone()));
            }
        });
        Proxy { port, mode, conns, bursts }
    }

    /// How many bursts of bytes the server has sent so far, over all connections.
    pub fn bursts(&self) -> usize {
        self.bursts.load(Ordering::SeqCst)
    }

    pub fn set(&self, mode: Mode) {
        self.mode.store(mode as u8, Ordering::SeqCst);
        if mode == Mode::Down {
            for s in self.conns.lock().unwrap().drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, mode: Arc<AtomicU8>, bursts: Option<Arc<AtomicUsize>>) {
    thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(b) = &bursts {
                b.fetch_add(1, Ordering::SeqCst);
            }
            // Frozen: hold the bytes until the mode changes (or the connection is cut).
            while mode.load(Ordering::SeqCst) == Mode::Freeze as u8 {
                thread::sleep(Duration::from_millis(20));
            }
            if mode.load(Ordering::SeqCst) == Mode::Down as u8 || to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
