//! `RTCPeerConnection.generateCertificate()` for the async adapters.

use super::Runtime;
use crate::dtls::{CertificateValidity, DtlsCertificate};

/// Generates a DTLS certificate to share among connections: the browser's
/// `RTCPeerConnection.generateCertificate()`. The key and serial number come from the OS
/// random source ([`Runtime::seed`]); the certificate is valid from a day before the
/// runtime's wall clock to 30 days after.
///
/// Put it in [`RtcConfiguration::certificate`](crate::peer_connection::RtcConfiguration::certificate)
/// of every connection that should present it; see [`DtlsCertificate`] for what that saves.
pub fn generate_certificate(runtime: &dyn Runtime) -> Result<DtlsCertificate, crate::Error> {
    let mut rng = crate::Seed::from_bytes(runtime.seed()).rng();
    let validity = CertificateValidity::around(runtime.system_time());
    Ok(DtlsCertificate::generate(&mut rng, validity)?)
}
