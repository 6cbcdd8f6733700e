//! Checkpoints: the ledger's signed tree heads, in the C2SP `tlog-checkpoint` format as
//! C2SP signed notes with Ed25519 keys.
//!
//! ```text
//! keuze.example/ledger
//! 13
//! K83ygwJ4pGmYUHZRIMYPjXfhH3PsynI6tdhU6Hi0OcU=
//!
//! — keuze.example/ledger BHtaDRAjNFgy2q2Qjt3lXVvQ4avLyUHJvn8k…
//! ```
//!
//! The log's key name is its origin. Rotating the key keeps the name and changes the key
//! ID, so a verifier that knows the old and the new key accepts checkpoints signed by
//! either.

use crate::merkle::{self, Hash, ProofError};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;

/// The signature type byte C2SP signed-note assigns to Ed25519.
const ED25519_TYPE: u8 = 0x01;

/// Signature lines start with an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// More signature lines than this make a note suspect (the spec asks for at least 16).
const MAX_SIGNATURES: usize = 100;

/// A Merkle tree head: the log's identity, its size, and its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

/// Why a checkpoint's text is not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("a checkpoint must end with a newline")]
    MissingFinalNewline,
    #[error("a checkpoint has an origin, a tree size and a root hash line; line {0} is missing")]
    MissingLine(usize),
    #[error("the origin line is empty or contains a space, `+` or control character")]
    BadOrigin,
    #[error("the tree size `{0}` is not a decimal number without leading zeros")]
    BadSize(String),
    #[error("the root hash `{0}` is not the base64 of 32 bytes")]
    BadRoot(String),
    #[error("extension lines after the root hash are not used by Keuze checkpoints")]
    ExtensionLines,
}

impl Checkpoint {
    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    pub fn to_note_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Parses a note text strictly: exactly the three lines [`Checkpoint::to_note_text`]
    /// writes, so every checkpoint has one spelling.
    pub fn parse_note_text(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let mut lines = body.split('\n');
        let origin = lines.next().ok_or(CheckpointError::MissingLine(1))?;
        let size = lines.next().ok_or(CheckpointError::MissingLine(2))?;
        let root = lines.next().ok_or(CheckpointError::MissingLine(3))?;
        if lines.next().is_some() {
            return Err(CheckpointError::ExtensionLines);
        }
        if !is_valid_key_name(origin) {
            return Err(CheckpointError::BadOrigin);
        }
        let size_value =
            parse_decimal(size).ok_or_else(|| CheckpointError::BadSize(size.into()))?;
        let root_value = decode_root(root).ok_or_else(|| CheckpointError::BadRoot(root.into()))?;
        Ok(Self {
            origin: origin.to_owned(),
            size: size_value,
            root: root_value,
        })
    }
}

/// ASCII digits only, no sign, no leading zero unless the number is 0, within u64.
fn parse_decimal(s: &str) -> Option<u64> {
    let well_formed =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if well_formed {
        s.parse().ok()
    } else {
        None
    }
}

/// Standard padded base64 of exactly 32 bytes, in its one canonical spelling.
fn decode_root(s: &str) -> Option<Hash> {
    let bytes = BASE64.decode(s).ok()?;
    let root: Hash = bytes.try_into().ok()?;
    (BASE64.encode(root) == s).then_some(root)
}

/// Key names (and Keuze's origins, which are key names): non-empty, no Unicode spaces,
/// no `+`, no control characters.
fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// The C2SP key ID: the first four bytes of SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key).
fn key_id(name: &str, public: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519_TYPE]);
    h.update(public.as_bytes());
    let digest: [u8; 32] = h.finalize().into();
    let [a, b, c, d, ..] = digest;
    [a, b, c, d]
}

/// Why a key or verifier key could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("`{0}` is not a valid key name: it must be non-empty, without spaces or `+`")]
    BadName(String),
    #[error("a verifier key is `<name>+<8 hex digit key ID>+<base64 of 0x01 and the 32-byte Ed25519 public key>`")]
    BadVerifierFormat,
    #[error("the verifier key is not an Ed25519 key (type byte 0x01)")]
    NotEd25519,
    #[error("the verifier key's public key is not a valid Ed25519 point")]
    BadPublicKey,
    #[error("the verifier key's ID {stated} does not match its name and public key (expected {computed})")]
    KeyIdMismatch { stated: String, computed: String },
}

/// The log's signing key. The secret never appears in `Debug`.
#[derive(Clone)]
pub struct LogKey {
    name: String,
    signing: SigningKey,
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogKey")
            .field("name", &self.name)
            .field("key_id", &hex::encode(self.key_id()))
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl LogKey {
    /// The key from a 32-byte Ed25519 seed the caller drew from a CSPRNG.
    pub fn from_seed(seed: [u8; 32], name: &str) -> Result<Self, KeyError> {
        if !is_valid_key_name(name) {
            return Err(KeyError::BadName(name.to_owned()));
        }
        Ok(Self {
            name: name.to_owned(),
            signing: SigningKey::from_bytes(&seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, &self.signing.verifying_key())
    }

    /// The public half, as a verifier.
    pub fn verifier(&self) -> LogVerifier {
        let key = self.signing.verifying_key();
        LogVerifier {
            name: self.name.clone(),
            id: key_id(&self.name, &key),
            key,
        }
    }

    /// `<name>+<hex key ID>+<base64(0x01 ‖ public key)>`, for publishing.
    pub fn verifier_key_string(&self) -> String {
        self.verifier().to_string()
    }
}

/// A public key that notes may be signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct LogVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl fmt::Debug for LogVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LogVerifier({self})")
    }
}

impl fmt::Display for LogVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut typed = Vec::with_capacity(33);
        typed.push(ED25519_TYPE);
        typed.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.id),
            BASE64.encode(typed)
        )
    }
}

impl std::str::FromStr for LogVerifier {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        Self::parse(s)
    }
}

impl LogVerifier {
    /// Parses a verifier key string and checks that its key ID is the one its name and
    /// public key give.
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        // The name holds no `+`, the key ID is hex; the base64 key may contain `+`.
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::BadVerifierFormat);
        };
        if !is_valid_key_name(name) {
            return Err(KeyError::BadName(name.to_owned()));
        }
        if id_hex.len() != 8
            || id_hex
                .bytes()
                .any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(KeyError::BadVerifierFormat);
        }
        let mut stated = [0u8; 4];
        hex::decode_to_slice(id_hex, &mut stated).map_err(|_| KeyError::BadVerifierFormat)?;
        let typed = BASE64
            .decode(key_b64)
            .map_err(|_| KeyError::BadVerifierFormat)?;
        let Some((&kind, public)) = typed.split_first() else {
            return Err(KeyError::BadVerifierFormat);
        };
        if kind != ED25519_TYPE {
            return Err(KeyError::NotEd25519);
        }
        let public: [u8; 32] = public.try_into().map_err(|_| KeyError::BadVerifierFormat)?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| KeyError::BadPublicKey)?;
        let computed = key_id(name, &key);
        if computed != stated {
            return Err(KeyError::KeyIdMismatch {
                stated: id_hex.to_owned(),
                computed: hex::encode(computed),
            });
        }
        Ok(Self {
            name: name.to_owned(),
            id: computed,
            key,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }
}

/// Why a signed note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("a signed note may not contain control characters other than newline")]
    ControlCharacter,
    #[error("the note has no blank line between its text and its signatures")]
    NoSignatureBlock,
    #[error("signature line {line} is malformed: {why}")]
    MalformedSignature { line: usize, why: &'static str },
    #[error("the note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    #[error("the signature by {name} (key ID {key_id}) does not verify: the note was changed or the signature is forged")]
    BadSignature { name: String, key_id: String },
    #[error("no signature on the note is by a known key of the log `{origin}`")]
    NoKnownSignature { origin: String },
    #[error("the checkpoint's origin `{origin}` is not the key's name `{key}`")]
    OriginIsNotKeyName { origin: String, key: String },
    #[error("refusing to sign: the new checkpoint does not extend the last signed one ({0})")]
    Inconsistent(#[source] ProofError),
    #[error("not a checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
}

/// Signs a checkpoint with the log's key: the full signed note. The checkpoint's origin
/// must be the key's name.
pub fn sign(checkpoint: &Checkpoint, key: &LogKey) -> Result<String, NoteError> {
    if checkpoint.origin != key.name {
        return Err(NoteError::OriginIsNotKeyName {
            origin: checkpoint.origin.clone(),
            key: key.name.clone(),
        });
    }
    let text = checkpoint.to_note_text();
    // Refuse to sign what `open` would refuse to read.
    Checkpoint::parse_note_text(&text)?;
    let signature = key.signing.sign(text.as_bytes());
    let mut blob = Vec::with_capacity(68);
    blob.extend_from_slice(&key.key_id());
    blob.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{text}\n{SIGNATURE_PREFIX}{} {}\n",
        key.name,
        BASE64.encode(blob)
    ))
}

/// Signs `next` only if `proof` shows it extends `previous`, the last checkpoint the log
/// signed, so the log never signs two checkpoints that contradict each other.
pub fn sign_consistent(
    previous: &Checkpoint,
    next: &Checkpoint,
    proof: &[Hash],
    key: &LogKey,
) -> Result<String, NoteError> {
    if previous.origin != key.name {
        return Err(NoteError::OriginIsNotKeyName {
            origin: previous.origin.clone(),
            key: key.name.clone(),
        });
    }
    merkle::verify_consistency(previous.size, next.size, &previous.root, &next.root, proof)
        .map_err(NoteError::Inconsistent)?;
    sign(next, key)
}

/// Opens a signed checkpoint note. Signatures by keys not in `verifiers` are ignored (they
/// may be witnesses, or keys rotated in later); every signature by a known key must
/// verify; and at least one must be by a known key named like the checkpoint's origin.
pub fn open(note: &str, verifiers: &[LogVerifier]) -> Result<Checkpoint, NoteError> {
    if note.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::ControlCharacter);
    }
    // The text ends at the last blank line; what follows are the signature lines.
    let split = note.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
    let (text, rest) = note.split_at(split + 1);
    let block = rest.strip_prefix('\n').ok_or(NoteError::NoSignatureBlock)?;
    let lines = block
        .strip_suffix('\n')
        .ok_or(NoteError::MalformedSignature {
            line: 1,
            why: "the note must end with a newline",
        })?;
    let checkpoint = Checkpoint::parse_note_text(text)?;

    let mut verified_by_log = false;
    for (i, line) in lines.split('\n').enumerate() {
        if i >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures);
        }
        let (name, id, sig) = parse_signature_line(line)
            .map_err(|why| NoteError::MalformedSignature { line: i + 1, why })?;
        let Some(verifier) = verifiers.iter().find(|v| v.name == name && v.id == id) else {
            continue;
        };
        // A known key's signature of the wrong length is as bad as a wrong signature.
        let verifies = <[u8; 64]>::try_from(sig.as_slice()).is_ok_and(|sig| {
            verifier
                .key
                .verify_strict(text.as_bytes(), &Signature::from_bytes(&sig))
                .is_ok()
        });
        if !verifies {
            return Err(NoteError::BadSignature {
                name: name.to_owned(),
                key_id: hex::encode(id),
            });
        }
        if name == checkpoint.origin {
            verified_by_log = true;
        }
    }
    if !verified_by_log {
        return Err(NoteError::NoKnownSignature {
            origin: checkpoint.origin,
        });
    }
    Ok(checkpoint)
}

/// `— <name> <base64(key ID ‖ signature)>` into its name, key ID and signature bytes.
fn parse_signature_line(line: &str) -> Result<(&str, [u8; 4], Vec<u8>), &'static str> {
    let rest = line
        .strip_prefix(SIGNATURE_PREFIX)
        .ok_or("it must start with an em dash and a space")?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or("it must be `— <key name> <base64 signature>`")?;
    if !is_valid_key_name(name) {
        return Err("the key name is empty or contains a space or `+`");
    }
    let blob = BASE64
        .decode(b64)
        .map_err(|_| "the signature is not standard base64")?;
    let (Some(id), Some(sig)) = (blob.get(..4), blob.get(4..)) else {
        return Err("the signature is shorter than a key ID");
    };
    let id: [u8; 4] = id.try_into().map_err(|_| "the key ID is not four bytes")?;
    Ok((name, id, sig.to_vec()))
}
