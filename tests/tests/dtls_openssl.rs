//! Interop with OpenSSL's DTLS 1.2 (`openssl s_server` / `s_client`, OpenSSL 3.x) over real
//! UDP on 127.0.0.1 only. Checks the handshake, application data both ways, the negotiated
//! SRTP profile and the exported DTLS-SRTP keying material against what OpenSSL prints.
//!
//! Needs the `openssl` CLI: installed by `tests/provision.sh` when missing (see `provision`).
#![allow(clippy::disallowed_methods)] // real peers need the real clock

mod provision;

use rtcpeer::Rng;
use rtcpeer::dtls::{
    CertificateValidity, CipherSuite, Dtls, DtlsCertificate, DtlsConfig, DtlsEvent, DtlsRole,
    DtlsState, Fingerprint, FingerprintAlgorithm, Records, SrtpProfile,
};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LABEL: &str = "EXTRACTOR-dtls_srtp";

fn openssl_installed() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the `openssl` CLI is there, installing it (tests/provision.sh) when it is not.
/// `false` (a loud skip) only with `RTCPEER_SKIP_INTEROP=1`; otherwise a CLI that cannot be
/// installed fails the test.
fn openssl_available() -> bool {
    if openssl_installed() {
        return true;
    }
    if std::env::var("RTCPEER_SKIP_INTEROP").as_deref() == Ok("1") {
        eprintln!(
            "SKIPPED: no `openssl` binary (RTCPEER_SKIP_INTEROP=1); OpenSSL DTLS interop was NOT tested"
        );
        return false;
    }
    let provisioned = provision::provision_once();
    assert!(
        openssl_installed(),
        "the OpenSSL interop tests need the `openssl` CLI; installing it failed: {provisioned:?}. \
         Run tests/provision.sh as root, or set RTCPEER_SKIP_INTEROP=1 to skip these tests."
    );
    true
}

/// A temporary directory with an OpenSSL P-256 certificate and key.
struct OpensslCert {
    dir: PathBuf,
    fingerprint: Fingerprint,
}

impl OpensslCert {
    fn new() -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rtcpeer-dtls-openssl-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args([
                "-nodes",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
                "-subj",
                "/CN=openssl",
            ])
            .args(["-days", "30"])
            .current_dir(&dir)
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("openssl")
            .args([
                "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
            ])
            .current_dir(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        let der = std::fs::read(dir.join("cert.der")).unwrap();
        Self {
            dir,
            fingerprint: Fingerprint::of(FingerprintAlgorithm::Sha256, &der),
        }
    }
}

impl Drop for OpensslCert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running OpenSSL process whose stdout is collected in the background.
struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
}

impl Peer {
    fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            output,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.output().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// The hex keying material OpenSSL printed, upper-cased.
    fn keying_material(&self) -> Option<String> {
        let out = self.output();
        let line = out.lines().find(|l| l.contains("Keying material:"))?;
        Some(line.split(':').nth(1)?.trim().to_uppercase())
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drives `dtls` over `socket` until `done` or the deadline; returns every event and every
/// datagram received.
struct Driver {
    dtls: Dtls,
    socket: UdpSocket,
    peer: Option<SocketAddr>,
    events: Vec<DtlsEvent>,
    received: Vec<Vec<u8>>,
}

impl Driver {
    fn new(dtls: Dtls, peer: Option<SocketAddr>) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(10)))
            .unwrap();
        Self {
            dtls,
            socket,
            peer,
            events: Vec::new(),
            received: Vec::new(),
        }
    }

    fn flush(&mut self) {
        while let Some(e) = self.dtls.poll_event() {
            self.events.push(e);
        }
        if let Some(peer) = self.peer {
            while let Some(d) = self.dtls.poll_transmit() {
                assert!(peer.ip().is_loopback());
                self.socket.send_to(&d, peer).unwrap();
            }
        }
    }

    fn run_until(&mut self, timeout: Duration, mut done: impl FnMut(&Self) -> bool) {
        let end = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        self.flush();
        while Instant::now() < end && !done(self) {
            if let Ok((n, from)) = self.socket.recv_from(&mut buf) {
                assert!(from.ip().is_loopback());
                self.peer.get_or_insert(from);
                self.received.push(buf[..n].to_vec());
                self.dtls.handle_receive(Instant::now(), &buf[..n]);
            }
            self.dtls.handle_timeout(Instant::now());
            self.flush();
        }
    }

    fn got_data(&self, text: &str) -> bool {
        self.events.iter().any(|e| match e {
            DtlsEvent::ApplicationData(d) => String::from_utf8_lossy(d).contains(text),
            _ => false,
        })
    }
}

fn our_certificate(seed: u64) -> DtlsCertificate {
    DtlsCertificate::generate(&mut Rng::from_u64(seed), CertificateValidity::fixed()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Case {
    openssl_cipher: &'static str,
    openssl_srtp: &'static str,
    profile: SrtpProfile,
    suites: Vec<CipherSuite>,
}

fn aes128() -> Case {
    Case {
        openssl_cipher: "ECDHE-ECDSA-AES128-GCM-SHA256",
        openssl_srtp: "SRTP_AEAD_AES_128_GCM",
        profile: SrtpProfile::AEAD_AES_128_GCM,
        suites: vec![CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256],
    }
}

fn aes256() -> Case {
    Case {
        openssl_cipher: "ECDHE-ECDSA-AES256-GCM-SHA384",
        openssl_srtp: "SRTP_AES128_CM_SHA1_80",
        profile: SrtpProfile::AES128_CM_HMAC_SHA1_80,
        suites: vec![
            CipherSuite::ECDHE_ECDSA_AES128_GCM_SHA256,
            CipherSuite::ECDHE_ECDSA_AES256_GCM_SHA384,
        ],
    }
}

/// rtcpeer client against `openssl s_server`; returns the datagrams the client received.
fn client_against_s_server(case: Case, extra: &[&str]) -> Vec<Vec<u8>> {
    let cert = OpensslCert::new();
    let port = free_port();
    let km_len = case.profile.keying_material_len().unwrap();
    let mut server = Peer::spawn(
        Command::new("openssl")
            .args([
                "s_server",
                "-dtls1_2",
                "-accept",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["-cert", "cert.pem", "-key", "key.pem", "-Verify", "1"])
            .args([
                "-cipher",
                case.openssl_cipher,
                "-use_srtp",
                case.openssl_srtp,
            ])
            .args([
                "-keymatexport",
                LABEL,
                "-keymatexportlen",
                &km_len.to_string(),
            ])
            .args(extra)
            .current_dir(&cert.dir),
    );
    assert!(
        server.wait_for("ACCEPT", Duration::from_secs(10)),
        "{}",
        server.output()
    );

    let mut config = DtlsConfig::new(DtlsRole::Client, our_certificate(1));
    config.remote_fingerprint = Some(cert.fingerprint.clone());
    config.cipher_suites = case.suites.clone();
    let mut dtls = Dtls::new(config, Rng::from_u64(7)).unwrap();
    dtls.start(Instant::now());
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut d = Driver::new(dtls, Some(addr));
    d.run_until(Duration::from_secs(20), |d| {
        d.dtls.state() != DtlsState::Handshaking
    });
    assert_eq!(
        d.dtls.state(),
        DtlsState::Connected,
        "{:?}\n{}",
        d.events,
        server.output()
    );
    assert_eq!(d.dtls.srtp_profile(), Some(case.profile));

    d.dtls
        .send_application_data(b"hello from rtcpeer\n")
        .unwrap();
    d.flush();
    assert!(
        server.wait_for("hello from rtcpeer", Duration::from_secs(5)),
        "{}",
        server.output()
    );
    server.send_line("hello from openssl");
    d.run_until(Duration::from_secs(5), |d| d.got_data("hello from openssl"));
    assert!(d.got_data("hello from openssl"), "{:?}", d.events);

    let ours = hex(&d.dtls.export_keying_material(LABEL, km_len).unwrap());
    assert!(server.wait_for("Keying material:", Duration::from_secs(5)));
    assert_eq!(server.keying_material().as_deref(), Some(ours.as_str()));
    assert!(
        server
            .output()
            .contains(&format!("profile={}", case.openssl_srtp))
    );
    d.received
}

/// `openssl s_client` against an rtcpeer server.
fn server_against_s_client(case: Case, hello_verify: bool) {
    let cert = OpensslCert::new();
    let km_len = case.profile.keying_material_len().unwrap();
    let mut config = DtlsConfig::new(DtlsRole::Server, our_certificate(2));
    config.remote_fingerprint = Some(cert.fingerprint.clone());
    config.cipher_suites = case.suites.clone();
    config.hello_verify = hello_verify;
    let mut dtls = Dtls::new(config, Rng::from_u64(8)).unwrap();
    dtls.start(Instant::now());
    let mut d = Driver::new(dtls, None);
    let port = d.socket.local_addr().unwrap().port();
    let mut client = Peer::spawn(
        Command::new("openssl")
            .args([
                "s_client",
                "-dtls1_2",
                "-connect",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["-cert", "cert.pem", "-key", "key.pem"])
            .args([
                "-cipher",
                case.openssl_cipher,
                "-use_srtp",
                case.openssl_srtp,
            ])
            .args([
                "-keymatexport",
                LABEL,
                "-keymatexportlen",
                &km_len.to_string(),
            ])
            .current_dir(&cert.dir),
    );
    d.run_until(Duration::from_secs(20), |d| {
        !matches!(d.dtls.state(), DtlsState::Handshaking | DtlsState::New)
    });
    assert_eq!(
        d.dtls.state(),
        DtlsState::Connected,
        "{:?}\n{}",
        d.events,
        client.output()
    );
    assert_eq!(d.dtls.srtp_profile(), Some(case.profile));
    assert!(
        client.wait_for("Keying material:", Duration::from_secs(5)),
        "{}",
        client.output()
    );
    let ours = hex(&d.dtls.export_keying_material(LABEL, km_len).unwrap());
    assert_eq!(client.keying_material().as_deref(), Some(ours.as_str()));

    client.send_line("hello from openssl");
    d.run_until(Duration::from_secs(5), |d| d.got_data("hello from openssl"));
    assert!(
        d.got_data("hello from openssl"),
        "{:?}\n{}",
        d.events,
        client.output()
    );
    d.dtls
        .send_application_data(b"hello from rtcpeer\n")
        .unwrap();
    d.flush();
    assert!(
        client.wait_for("hello from rtcpeer", Duration::from_secs(5)),
        "{}",
        client.output()
    );
}

fn saw_hello_verify_request(received: &[Vec<u8>]) -> bool {
    received
        .iter()
        .any(|d| Records::new(d).any(|r| r.content_type.0 == 22 && r.fragment.first() == Some(&3)))
}

#[test]
fn openssl_made_certificate_and_pkcs8_key_are_usable() {
    if !openssl_available() {
        return;
    }
    let cert = OpensslCert::new();
    let status = Command::new("openssl")
        .args([
            "pkcs8", "-topk8", "-nocrypt", "-in", "key.pem", "-outform", "DER",
        ])
        .args(["-out", "key.der"])
        .current_dir(&cert.dir)
        .status()
        .unwrap();
    assert!(status.success());
    let der = std::fs::read(cert.dir.join("cert.der")).unwrap();
    let key = std::fs::read(cert.dir.join("key.der")).unwrap();
    let ours = DtlsCertificate::from_der(&der, &key).unwrap();
    assert_eq!(ours.fingerprint(), cert.fingerprint);
    let other = DtlsCertificate::from_der(our_certificate(3).der(), &key);
    assert!(
        other.is_err(),
        "a key must not pair with another certificate"
    );
}

#[test]
fn rtcpeer_client_with_openssl_server_aes128_gcm() {
    if !openssl_available() {
        return;
    }
    client_against_s_server(aes128(), &[]);
}

#[test]
fn rtcpeer_client_with_openssl_server_aes256_gcm() {
    if !openssl_available() {
        return;
    }
    client_against_s_server(aes256(), &[]);
}

#[test]
fn rtcpeer_client_answers_openssl_hello_verify_request() {
    if !openssl_available() {
        return;
    }
    let received = client_against_s_server(aes128(), &["-listen"]);
    assert!(
        saw_hello_verify_request(&received),
        "OpenSSL sent no HelloVerifyRequest"
    );
}

#[test]
fn rtcpeer_server_with_openssl_client_aes128_gcm() {
    if !openssl_available() {
        return;
    }
    server_against_s_client(aes128(), false);
}

#[test]
fn rtcpeer_server_with_openssl_client_aes256_gcm_and_cookie() {
    if !openssl_available() {
        return;
    }
    server_against_s_client(aes256(), true);
}
