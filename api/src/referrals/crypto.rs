//! Encryption at rest of what a referral says about a family: XChaCha20-Poly1305 (an
//! authenticated cipher, so a changed ciphertext is detected), a random nonce per value, and
//! the record and field as associated data, so a ciphertext cannot be moved to another
//! referral. Each ciphertext names its key, so keys can be rotated: new values use the
//! current key, older ones are read with the previous keys.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::config::{Config, Environment};

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("an encryption key must be {KEY_BYTES} bytes in base64 (generate one with `socialmap generate-key`)")]
    BadKey,
    #[error(
        "no encryption key: set SOCIALMAP_ENCRYPTION_KEY (generate one with `socialmap generate-key`); only environment = \"development\" makes its own"
    )]
    NoKey,
    #[error("a stored value is encrypted with key `{0}`, which is not configured (add it to previous_encryption_keys)")]
    UnknownKey(String),
    #[error("a stored value could not be decrypted: it was changed or belongs elsewhere")]
    Tampered,
    #[error("could not read or write the development key: {0}")]
    Io(#[from] std::io::Error),
}

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl Key {
    fn from_base64(encoded: &str) -> Result<Key, CryptoError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| CryptoError::BadKey)?;
        if bytes.len() != KEY_BYTES {
            return Err(CryptoError::BadKey);
        }
        let id = hex(&Sha256::digest(&bytes)[..4]);
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| CryptoError::BadKey)?;
        Ok(Key { id, cipher })
    }
}

/// The current key and the previous ones still needed to read older values.
pub struct Keyring {
    current: Key,
    previous: Vec<Key>,
}

impl Keyring {
    pub fn new(current: &str, previous: &[String]) -> Result<Keyring, CryptoError> {
        Ok(Keyring {
            current: Key::from_base64(current)?,
            previous: previous.iter().map(|k| Key::from_base64(k)).collect::<Result<_, _>>()?,
        })
    }

    /// The keyring of the configuration. In development without a key, one is generated into
    /// the data directory (with a warning) and kept there; elsewhere a key is required.
    pub fn from_config(config: &Config) -> Result<Keyring, CryptoError> {
        if let Some(key) = &config.encryption_key {
            return Keyring::new(key, &config.previous_encryption_keys);
        }
        if config.environment != Environment::Development {
            return Err(CryptoError::NoKey);
        }
        let path = config.data_dir.join("development-encryption.key");
        let key = read_or_create_key(&path)?;
        tracing::warn!(
            path = %path.display(),
            "no SOCIALMAP_ENCRYPTION_KEY: referrals are encrypted with a development key kept next to the data; never use this in production"
        );
        Keyring::new(&key, &config.previous_encryption_keys)
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> String {
        STANDARD.encode(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Encrypts `plaintext` for the place named by `context` (record and field).
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message that fits in memory");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{}:{}", self.current.id, STANDARD.encode(bytes))
    }

    /// Decrypts a value `seal` made for the same `context`.
    pub fn open(&self, context: &str, stored: &str) -> Result<String, CryptoError> {
        let (key_id, encoded) = stored.split_once(':').ok_or(CryptoError::Tampered)?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == key_id)
            .ok_or_else(|| CryptoError::UnknownKey(key_id.to_owned()))?;
        let bytes = STANDARD.decode(encoded).map_err(|_| CryptoError::Tampered)?;
        if bytes.len() < NONCE_BYTES {
            return Err(CryptoError::Tampered);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| CryptoError::Tampered)?;
        let plaintext = key
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| CryptoError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Tampered)
    }
}

fn read_or_create_key(path: &Path) -> Result<String, CryptoError> {
    match std::fs::read_to_string(path) {
        Ok(key) => Ok(key.trim().to_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let key = Keyring::generate_key();
            std::fs::write(path, &key)?;
            Ok(key)
        }
        Err(error) => Err(error.into()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_opens_only_in_its_own_place_and_with_a_known_key() {
        let old = Keyring::generate_key();
        let keyring = Keyring::new(&old, &[]).unwrap();
        let sealed = keyring.seal("referral/1/need_description", "zoekt een woning in Aalst");
        assert!(!sealed.contains("woning"));
        assert_eq!(
            keyring.open("referral/1/need_description", &sealed).unwrap(),
            "zoekt een woning in Aalst"
        );
        assert!(matches!(
            keyring.open("referral/2/need_description", &sealed),
            Err(CryptoError::Tampered)
        ));

        // Rotation: a new current key still reads what the old one wrote.
        let rotated = Keyring::new(&Keyring::generate_key(), &[old]).unwrap();
        assert_eq!(
            rotated.open("referral/1/need_description", &sealed).unwrap(),
            "zoekt een woning in Aalst"
        );
        let without_old = Keyring::new(&Keyring::generate_key(), &[]).unwrap();
        assert!(matches!(
            without_old.open("referral/1/need_description", &sealed),
            Err(CryptoError::UnknownKey(_))
        ));
        assert!(matches!(Keyring::new("c2hvcnQ=", &[]), Err(CryptoError::BadKey)));
    }

    #[test]
    fn only_development_makes_its_own_key_and_keeps_it() {
        let dir = std::env::temp_dir().join(format!("socialmap-key-{}", uuid::Uuid::new_v4().simple()));
        let production = Config {
            data_dir: dir.clone(),
            environment: Environment::Production,
            ..Config::default()
        };
        assert!(matches!(Keyring::from_config(&production), Err(CryptoError::NoKey)));
        assert!(!dir.exists(), "production writes no key");

        let development = Config {
            environment: Environment::Development,
            ..production
        };
        let first = Keyring::from_config(&development).unwrap();
        let sealed = first.seal("referral/1/need_description", "tekst");
        let again = Keyring::from_config(&development).unwrap();
        assert_eq!(again.open("referral/1/need_description", &sealed).unwrap(), "tekst");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
