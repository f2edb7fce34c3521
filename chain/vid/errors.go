package vid

import "errors"

// Sentinel errors. Every error the package returns wraps one of them (or, for
// a malformed namespace table, types.ErrInvalidNsTable), with a message that
// names what was wrong and what was expected.
var (
	// ErrInvalidParams marks weights, or a (total, recovery) pair, that
	// NewParams refuses: no nodes, a zero weight, or a total above MaxShards.
	ErrInvalidParams = errors.New("vid: invalid parameters")
	// ErrCommonMismatch marks common data that does not match the payload
	// commitment, the parameters or its own namespace table.
	ErrCommonMismatch = errors.New("vid: common data mismatch")
	// ErrInvalidShare marks a share that is not for the expected node, has
	// the wrong shape, or carries a shard whose Merkle proof does not lead to
	// its namespace root.
	ErrInvalidShare = errors.New("vid: invalid share")
	// ErrTooFewShares is returned by Recover when the shares that passed
	// verification cover fewer than the recovery threshold of distinct shard
	// indices.
	ErrTooFewShares = errors.New("vid: too few shares")
	// ErrInconsistentEncoding is returned by Recover when a namespace's
	// recovered data, re-encoded, does not give the committed namespace root:
	// the disperser committed to shards that are not one Reed-Solomon
	// codeword.
	ErrInconsistentEncoding = errors.New("vid: inconsistent encoding")
	// ErrNamespaceNotFound is returned by VerifyNamespace for a namespace
	// that is not in the namespace table.
	ErrNamespaceNotFound = errors.New("vid: namespace not in table")
	// ErrInvalidNsProof marks a namespace proof that does not lead to the
	// payload commitment.
	ErrInvalidNsProof = errors.New("vid: invalid namespace proof")
	// ErrMalformed marks bytes that DecodeCommon, DecodeShare or
	// DecodeNsProof cannot decode, and values the encoders cannot represent.
	ErrMalformed = errors.New("vid: malformed encoding")
)
