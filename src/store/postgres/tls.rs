//! TLS to PostgreSQL through rustls (already jobrun's TLS, via ureq for health pings) and
//! tokio-postgres-rustls, the driver's rustls adapter.
//!
//! `verify-full` checks the server's certificate chain against `sslrootcert` (a PEM file) or,
//! without one, Mozilla's roots (webpki-roots), and its name against the host. `prefer` and
//! `require` encrypt without authenticating the server, as libpq does when no root file is
//! configured: they protect against someone listening, not against someone in the middle,
//! which is what `verify-full` is for (the README says so).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::target::{Target, Tls};

/// The connector for `target`'s mode; `None` for `sslmode=disable`.
pub(super) fn connector(target: &Target) -> Result<Option<MakeRustlsConnect>, String> {
    #[allow(
        deprecated,
        reason = "ring is the provider ureq already builds in; the post-quantum one needs aws-lc-rs, a C build"
    )]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let config = match target.tls {
        Tls::Disable => return Ok(None),
        Tls::Prefer | Tls::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unauthenticated(provider)))
            .with_no_client_auth(),
        Tls::VerifyFull => {
            let mut roots = RootCertStore::empty();
            match &target.root_cert {
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path)
                        .map_err(|e| format!("cannot read sslrootcert {}: {e}", path.display()))?;
                    for cert in certs {
                        let cert = cert.map_err(|e| {
                            format!("cannot read sslrootcert {}: {e}", path.display())
                        })?;
                        roots.add(cert).map_err(|e| {
                            format!(
                                "sslrootcert {} holds a bad certificate: {e}",
                                path.display()
                            )
                        })?;
                    }
                    if roots.is_empty() {
                        return Err(format!(
                            "sslrootcert {} holds no certificate",
                            path.display()
                        ));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// Accepts any certificate but still checks the handshake's signatures with it: libpq's
/// `require` without a root file (encryption, no authentication of the server).
#[derive(Debug)]
struct Unauthenticated(Arc<CryptoProvider>);

impl ServerCertVerifier for Unauthenticated {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
