//! TLS client configuration: rustls with the ring provider, Mozilla's roots plus `--cacert`,
//! ALPN `h2` or `http/1.1`, and `--insecure` for self-signed demo targets.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Largest `--cacert` file.
pub(crate) const MAX_CERT_BYTES: u64 = 4 << 20;

/// The certificates of a PEM file of at most [`MAX_CERT_BYTES`] (`--cacert`, for a run and for
/// `verify`); the cause tells a missing file from a malformed one.
pub(crate) fn read_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, setting::Cause> {
    use rustls::pki_types::pem::PemObject;
    use setting::Cause;
    let pem = crate::model::scenario::read_bounded(std::path::Path::new(path), MAX_CERT_BYTES)
        .map_err(Cause::new)?
        .ok_or_else(|| Cause::new(format!("the file is larger than {MAX_CERT_BYTES} bytes")))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().map_err(Cause::new)?;
    if certs.is_empty() {
        return Err(Cause::new("no CERTIFICATE block in it"));
    }
    Ok(certs)
}

/// Build the client configuration.
pub(super) fn client_config(cacerts: &[CertificateDer<'static>], insecure: bool, http2: bool) -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let mut config = if insecure {
        builder.dangerous().with_custom_certificate_verifier(Arc::new(AcceptAny(provider))).with_no_client_auth()
    } else {
        let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        for cert in cacerts {
            // A certificate rustls cannot use as a trust anchor was still read as PEM; skip it loudly.
            if let Err(e) = roots.add(cert.clone()) {
                tracing::warn!(error = %e, "ignoring a --cacert certificate");
            }
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![if http2 { b"h2".to_vec() } else { b"http/1.1".to_vec() }];
    Arc::new(config)
}

/// Accepts any certificate but still checks handshake signatures, like curl's `--insecure`.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
