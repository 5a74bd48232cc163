//! Protocol numbers as open newtypes: unknown values parse and round-trip unchanged.

macro_rules! open_u8 {
    ($(#[$m:meta])* $name:ident { $($(#[$cm:meta])* $c:ident = $v:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub u8);
        impl $name { $($(#[$cm])* pub const $c: Self = Self($v);)* }
    };
}

macro_rules! open_u16 {
    ($(#[$m:meta])* $name:ident { $($(#[$cm:meta])* $c:ident = $v:expr),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(pub u16);
        impl $name { $($(#[$cm])* pub const $c: Self = Self($v);)* }
    };
}

open_u8!(
    /// Record content type (RFC 5246 section 6.2.1).
    ContentType {
        /// change_cipher_spec.
        CHANGE_CIPHER_SPEC = 20,
        /// alert.
        ALERT = 21,
        /// handshake.
        HANDSHAKE = 22,
        /// application_data.
        APPLICATION_DATA = 23,
    }
);

open_u8!(
    /// Handshake message type (RFC 5246 section 7.4, RFC 6347 section 4.3.2).
    HandshakeType {
        /// hello_request.
        HELLO_REQUEST = 0,
        /// client_hello.
        CLIENT_HELLO = 1,
        /// server_hello.
        SERVER_HELLO = 2,
        /// hello_verify_request (DTLS only).
        HELLO_VERIFY_REQUEST = 3,
        /// certificate.
        CERTIFICATE = 11,
        /// server_key_exchange.
        SERVER_KEY_EXCHANGE = 12,
        /// certificate_request.
        CERTIFICATE_REQUEST = 13,
        /// server_hello_done.
        SERVER_HELLO_DONE = 14,
        /// certificate_verify.
        CERTIFICATE_VERIFY = 15,
        /// client_key_exchange.
        CLIENT_KEY_EXCHANGE = 16,
        /// finished.
        FINISHED = 20,
    }
);

open_u8!(
    /// Alert level (RFC 5246 section 7.2).
    AlertLevel {
        /// warning.
        WARNING = 1,
        /// fatal.
        FATAL = 2,
    }
);

open_u8!(
    /// Alert description (RFC 5246 section 7.2).
    AlertDescription {
        /// close_notify.
        CLOSE_NOTIFY = 0,
        /// unexpected_message.
        UNEXPECTED_MESSAGE = 10,
        /// bad_record_mac.
        BAD_RECORD_MAC = 20,
        /// handshake_failure.
        HANDSHAKE_FAILURE = 40,
        /// bad_certificate.
        BAD_CERTIFICATE = 42,
        /// unsupported_certificate.
        UNSUPPORTED_CERTIFICATE = 43,
        /// illegal_parameter.
        ILLEGAL_PARAMETER = 47,
        /// decode_error.
        DECODE_ERROR = 50,
        /// decrypt_error.
        DECRYPT_ERROR = 51,
        /// protocol_version.
        PROTOCOL_VERSION = 70,
        /// internal_error.
        INTERNAL_ERROR = 80,
        /// no_renegotiation.
        NO_RENEGOTIATION = 100,
    }
);

open_u16!(
    /// Cipher suite (IANA TLS registry).
    CipherSuite {
        /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (RFC 5289).
        ECDHE_ECDSA_AES128_GCM_SHA256 = 0xC02B,
        /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (RFC 5289).
        ECDHE_ECDSA_AES256_GCM_SHA384 = 0xC02C,
        /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746).
        EMPTY_RENEGOTIATION_INFO_SCSV = 0x00FF,
    }
);

open_u16!(
    /// DTLS-SRTP protection profile (RFC 5764, RFC 7714).
    SrtpProfile {
        /// SRTP_AES128_CM_HMAC_SHA1_80.
        AES128_CM_HMAC_SHA1_80 = 0x0001,
        /// SRTP_AES128_CM_HMAC_SHA1_32.
        AES128_CM_HMAC_SHA1_32 = 0x0002,
        /// SRTP_AEAD_AES_128_GCM.
        AEAD_AES_128_GCM = 0x0007,
        /// SRTP_AEAD_AES_256_GCM.
        AEAD_AES_256_GCM = 0x0008,
    }
);

impl SrtpProfile {
    /// Length of the keying material (both directions' keys and salts) this profile needs
    /// from the DTLS exporter, or `None` for a profile rtcpeer does not know.
    pub fn keying_material_len(self) -> Option<usize> {
        match self {
            Self::AES128_CM_HMAC_SHA1_80 | Self::AES128_CM_HMAC_SHA1_32 => Some(2 * (16 + 14)),
            Self::AEAD_AES_128_GCM => Some(2 * (16 + 12)),
            Self::AEAD_AES_256_GCM => Some(2 * (32 + 12)),
            _ => None,
        }
    }
}

open_u16!(
    /// TLS extension type (IANA registry).
    ExtensionType {
        /// supported_groups (RFC 8422).
        SUPPORTED_GROUPS = 10,
        /// ec_point_formats (RFC 8422).
        EC_POINT_FORMATS = 11,
        /// signature_algorithms (RFC 5246).
        SIGNATURE_ALGORITHMS = 13,
        /// use_srtp (RFC 5764).
        USE_SRTP = 14,
        /// extended_master_secret (RFC 7627).
        EXTENDED_MASTER_SECRET = 23,
        /// renegotiation_info (RFC 5746).
        RENEGOTIATION_INFO = 0xff01,
    }
);

open_u16!(
    /// Named elliptic curve group (RFC 8422).
    NamedGroup {
        /// secp256r1.
        SECP256R1 = 23,
    }
);

open_u16!(
    /// TLS 1.2 SignatureAndHashAlgorithm as one number: hash << 8 | signature.
    SignatureScheme {
        /// ecdsa_secp256r1_sha256 (hash sha256 = 4, signature ecdsa = 3).
        ECDSA_SECP256R1_SHA256 = 0x0403,
    }
);

/// The DTLS 1.2 protocol version on the wire.
pub const DTLS_1_2: u16 = 0xFEFD;
/// The DTLS 1.0 version, allowed in records of the first flight.
pub const DTLS_1_0: u16 = 0xFEFF;
