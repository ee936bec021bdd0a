//! DSSE v1 envelopes (github.com/secure-systems-lab/dsse): the signature
//! is over the Pre-Authentication Encoding of the payload type and bytes,
//! so neither can be swapped without breaking it.

use base64::Engine;
use serde::{Deserialize, Serialize};

use super::keys::{PublicKey, SigningKey};
use super::AttestError;

/// The payload type of an in-toto Statement.
pub const IN_TOTO: &str = "application/vnd.in-toto+json";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Standard base64 of the payload bytes.
    pub payload: String,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Signature {
    #[serde(default)]
    pub keyid: String,
    /// Standard base64 of the signature bytes.
    pub sig: String,
}

/// `DSSEv1 SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII
/// decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKey) -> Result<Envelope, AttestError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let signature = key.sign(&pae(payload_type, payload))?;
    Ok(Envelope {
        payload_type: payload_type.to_string(),
        payload: b64.encode(payload),
        signatures: vec![Signature {
            keyid: key.public().keyid.clone(),
            sig: b64.encode(signature),
        }],
    })
}

/// The payload, once a signature by one of `keys` verifies; the key that
/// signed. A `keyid` that names a trusted key is tried first, but any
/// trusted key that verifies counts (DSSE's keyid is only a hint).
pub fn open<'k>(
    envelope: &Envelope,
    keys: &'k [PublicKey],
) -> Result<(Vec<u8>, &'k PublicKey), AttestError> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(&envelope.payload)
        .map_err(|e| AttestError::Envelope(format!("the payload is not base64: {e}")))?;
    let message = pae(&envelope.payload_type, &payload);
    for signature in &envelope.signatures {
        let Ok(bytes) = b64.decode(&signature.sig) else {
            continue;
        };
        let mut candidates: Vec<&PublicKey> = keys.iter().collect();
        candidates.sort_by_key(|k| k.keyid != signature.keyid);
        if let Some(key) = candidates
            .into_iter()
            .find(|k| k.verifies(&message, &bytes))
        {
            return Ok((payload, key));
        }
    }
    let ids: Vec<&str> = envelope
        .signatures
        .iter()
        .map(|s| s.keyid.as_str())
        .collect();
    Err(AttestError::Envelope(format!(
        "no signature verifies with a trusted key (the envelope's key ids: {}; trusted: {})",
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        },
        keys.iter()
            .map(|k| format!("{} ({})", k.keyid, k.source))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification() {
        // The worked example in DSSE's protocol.md.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn envelopes_open_only_with_the_signer_and_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) =
            super::super::keys::generate(dir.path(), super::super::keys::Algorithm::EcdsaP256)
                .unwrap();
        let other = tempfile::tempdir().unwrap();
        let (_, other_public) =
            super::super::keys::generate(other.path(), super::super::keys::Algorithm::Ed25519)
                .unwrap();
        let key = super::super::keys::KeySource::File(private).load().unwrap();
        let trusted = vec![PublicKey::from_file(&public).unwrap()];
        let stranger = vec![PublicKey::from_file(&other_public).unwrap()];
        let envelope = sign(IN_TOTO, b"{\"a\":1}", &key).unwrap();
        let (payload, by) = open(&envelope, &trusted).unwrap();
        assert_eq!(payload, b"{\"a\":1}");
        assert_eq!(by.keyid, key.public().keyid);
        assert!(open(&envelope, &stranger).is_err());
        let mut tampered = envelope.clone();
        tampered.payload = base64::engine::general_purpose::STANDARD.encode(b"{\"a\":2}");
        assert!(open(&tampered, &trusted).is_err());
        let mut retyped = envelope;
        retyped.payload_type = "application/json".into();
        assert!(open(&retyped, &trusted).is_err());
    }
}
