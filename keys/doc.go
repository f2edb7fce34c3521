// Package keys holds a node's cryptographic identity: BLS12-381 staking keys,
// Schnorr state keys, the seeds other identities are derived from
// (StakingKey.DeriveSeed; package network/p2p derives the libp2p identity),
// and the .env key files the operator tools write and the sequencer reads
// (docs/keys.md).
//
// # Staking keys (BLS12-381, min-pk)
//
// StakingKey, StakingPubKey, Signature and ProofOfPossession use the blst
// library in the "minimal public key" variant: public keys are 48-byte
// compressed G1 points, signatures 96-byte compressed G2 points. Messages are
// hashed to G2 with the signature DST BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_.
// A proof of possession is a signature over the 48-byte compressed public key
// with the DST BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_. Every decoder
// (StakingPubKeyFromBytes, ParseStakingPubKey, SignatureFromBytes, ...)
// rejects non-canonical encodings, the identity point and points outside the
// prime-order subgroup, so verification never re-checks them. Public keys and
// signatures keep their decompressed points, so Verify and VerifyAggregate do
// no point decompression. Public values are comparable with ==.
//
// VerifyAggregate checks an aggregate signature of many signers over one
// message with a single pairing check; it is secure only for public keys whose
// proof of possession was verified (VerifyPossession), which is what every
// stake table must do (docs/keys.md, "Staking keys").
//
// # State keys (Schnorr over BN254's twisted Edwards curve)
//
// StateKey, StatePubKey and StateSignature use gnark-crypto's EdDSA over the
// twisted Edwards curve embedded in BN254, with MiMC over BN254's scalar field
// as the signature hash. A message m is first reduced to one field element:
// the SHA-256 digest of m, read as a big-endian integer and reduced modulo the
// BN254 scalar field order r, written as 32 big-endian bytes; that element is
// what gnark-crypto signs. The private key is a 32-byte seed s; the gnark key
// pair is generated from s by feeding eddsa.GenerateKey the byte stream
// SHA-256(s ‖ u64le(0)) ‖ SHA-256(s ‖ u64le(1)) ‖ ... (GenerateKey reads the
// first 32 bytes). Public keys are 32-byte compressed points.
//
// # Derivation (docs/keys.md, "Deriving keys from a seed")
//
// DeriveKeys(seed, i) is a pure function: the BLS key is blst KeyGen of
// IKM = SHA-256("gospresso/bls/v1" ‖ seed ‖ u64le(i)); the state seed is
// s = SHA-256("gospresso/schnorr/v1" ‖ seed ‖ u64le(i)). DeriveSeed(domain)
// is SHA-256(domain ‖ 32-byte big-endian BLS secret); network/p2p uses it
// with "gospresso/libp2p/v1" as the Ed25519 seed of the libp2p identity.
// Known-answer tests freeze all three.
//
// # Text forms (TaggedBase64, docs/keys.md)
//
//	BLS_VER_KEY~...          StakingPubKey (48 bytes)
//	BLS_SIGNING_KEY~...      StakingKey (32-byte big-endian scalar)
//	BLS_POP~...              ProofOfPossession (96 bytes)
//	BLS_SIG~...              Signature (96 bytes)
//	SCHNORR_VER_KEY~...      StatePubKey (32 bytes)
//	SCHNORR_SIGNING_KEY~...  StateKey (32-byte seed)
//	SCHNORR_SIG~...          StateSignature (64 bytes)
//
// # Keeping secrets out of logs
//
// StakingKey and StateKey keep their secret behind a pointer, and their
// String, GoString and LogValue methods print only "<tag>~<redacted>". So
// fmt's %v, %+v, %#v and %s, log/slog and encoding/json never print a secret,
// also when a key sits in a field of another struct. The secret text form is
// available only through the explicitly named Secret method, which key files
// and the key tools use. Error messages about private keys never repeat the
// key text either.
//
// # Key files
//
// A key file is a .env file (KEY=value lines, # comments, blank lines,
// optional "export " prefix, optional single or double quotes). ParseKeyFile
// reads ESPRESSO_SEQUENCER_PRIVATE_STAKING_KEY and
// ESPRESSO_SEQUENCER_PRIVATE_STATE_KEY and, when the public lines are present,
// checks that they match. Load applies the sequencer's rule: a key file, or
// both private keys, never both and never neither.
package keys
